import { beforeAll, describe, expect, it } from "vitest";
import { openApiDocument } from "../../workers/api/src/api-document";
import { lintOpenApi, type LintReport } from "../support/openapi-lint.mjs";

/** The document GET /openapi.json serves (for a production-like origin), through both linters. */
let report: LintReport;
beforeAll(() => {
  report = lintOpenApi(openApiDocument("https://keys.acme.test"));
}, 60_000);

describe("the OpenAPI document", () => {
  it("passes redocly lint (redocly.yaml: recommended) with 0 errors and 0 warnings", () => {
    expect(report.redocly.problems).toEqual([]);
    expect(report.redocly.totals).toMatchObject({ errors: 0, warnings: 0 });
  });

  it("passes spectral lint (.spectral.yaml: spectral:oas) with 0 errors and 0 warnings", () => {
    expect(report.spectral.problems).toEqual([]);
    expect(report.spectral.status, report.spectral.stderr).toBe(0);
  });
});
