// Plain JS with a declaration (openapi-lint.d.mts): test/lib is type-checked against the Workers
// types, where node:child_process does not exist; this runs in the Node test project only.
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { join } from "node:path";

const require = createRequire(import.meta.url);
const root = join(import.meta.dirname, "../..");
// Telemetry and update checks off: the test stays offline and quiet.
const env = { ...process.env, REDOCLY_TELEMETRY: "off", REDOCLY_SUPPRESS_UPDATE_NOTICE: "true", NO_COLOR: "1" };

function run(bin, args) {
  const out = spawnSync(process.execPath, [require.resolve(bin), ...args], { cwd: root, env, encoding: "utf8", timeout: 60_000 });
  if (out.error) throw out.error;
  return out;
}

/** `redocly lint` (redocly.yaml) and `spectral lint` (.spectral.yaml) of `doc`, each spawned once. */
export function lintOpenApi(doc) {
  const dir = mkdtempSync(join(tmpdir(), "ks-openapi-"));
  try {
    const file = join(dir, "openapi.json");
    writeFileSync(file, JSON.stringify(doc, null, 2));
    const r = run("@redocly/cli/bin/cli.js", ["lint", file, "--config", "redocly.yaml", "--format", "json"]);
    const redocly = JSON.parse(r.stdout);
    const spectralFile = join(dir, "spectral.json");
    const s = run("@stoplight/spectral-cli/dist/index.js", ["lint", file, "--ruleset", ".spectral.yaml", "--format", "json", "--output", spectralFile, "--fail-severity", "hint"]);
    const spectral = JSON.parse(readFileSync(spectralFile, "utf8"));
    return {
      redocly: { totals: redocly.totals, problems: redocly.problems.map((p) => `${p.severity} ${p.ruleId} ${p.location[0]?.pointer}: ${p.message}`) },
      // spectral severities: 0 error, 1 warning, 2 info, 3 hint.
      spectral: { status: s.status, problems: spectral.map((p) => `${p.severity} ${p.code} ${p.path.join(".")}: ${p.message}`), stderr: s.stderr },
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
