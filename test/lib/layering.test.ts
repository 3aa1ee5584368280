import { describe, expect, it } from "vitest";
import { sourceImports, type ImportEdge } from "../support/source-imports.mjs";

/**
 * Issue 12: imports point down (workers -> durable-objects -> providers/lib), and the seams stay
 * where DESIGN.md section 1 draws them. A cheap scan of the source tree's import specifiers.
 */
type Edge = ImportEdge;
const all = sourceImports(["lib", "providers", "durable-objects", "workers", "cli"]);
const show = (es: Edge[]) => es.map((e) => `${e.file} imports ${e.spec}`);

describe("layering", () => {
  it("sees the tree (the scan itself works)", () => {
    expect(all.some((e) => e.file.startsWith("providers/") && e.spec === "arctic")).toBe(true);
    expect(all.some((e) => e.file.startsWith("durable-objects/") && e.target?.startsWith("providers/"))).toBe(true);
  });

  it("arctic is imported only under providers/", () => {
    expect(show(all.filter((e) => e.spec === "arctic" && !e.file.startsWith("providers/")))).toEqual([]);
  });

  it("nothing under lib/, providers/ or durable-objects/ imports a worker", () => {
    const up = all.filter((e) => /^(lib|providers|durable-objects)\//.test(e.file) && e.target?.startsWith("workers/"));
    expect(show(up)).toEqual([]);
  });

  it("providers/ imports only lib/ and itself", () => {
    const bad = all.filter((e) => e.file.startsWith("providers/") && e.target !== null && !/^(lib|providers)\//.test(e.target));
    expect(show(bad)).toEqual([]);
  });

  it("the RPC result type and the migration runner sit where both sides may import them", () => {
    // Workers read VaultResult from lib/rpc.ts, never from the vault's internals; the Directory
    // migrates with durable-objects/migrations.ts, never through the vault's schema module.
    const bad = all.filter((e) =>
      (e.file.startsWith("workers/") && e.target === "durable-objects/vault/context") ||
      (e.file === "durable-objects/directory.ts" && e.target?.startsWith("durable-objects/vault/")));
    expect(show(bad)).toEqual([]);
    expect(all.some((e) => e.file.startsWith("workers/") && e.target === "lib/rpc")).toBe(true);
  });

  it("no folder of workers/ imports another, except the shared web kit (workers/shared)", () => {
    const folder = (path: string) => /^workers\/([^/]+)\//.exec(path)?.[1];
    const across = all.filter((e) => {
      const from = folder(e.file);
      const to = e.target ? folder(e.target + "/") ?? folder(e.target) : undefined;
      return from !== undefined && to !== undefined && to !== from && to !== "shared";
    });
    expect(show(across)).toEqual([]);
    expect(all.some((e) => e.file.startsWith("workers/oauth/") && e.target?.startsWith("workers/shared/"))).toBe(true);
  });
});
