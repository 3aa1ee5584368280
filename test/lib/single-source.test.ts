/**
 * One source per rule (issue 12, build 5): cheap static checks over the source tree, so a second
 * copy of a type, a pattern or a helper fails here instead of drifting quietly.
 */
import { readdirSync, readFileSync } from "node:fs";
import { join, relative } from "node:path";
import { describe, expect, it } from "vitest";
import { z } from "zod";
import { fromZodError } from "../../lib/errors";
import { SetCredentialsBody } from "../../lib/schemas/credentials";

const ROOT = join(import.meta.dirname, "../..");

function sources(dir: string): string[] {
  return readdirSync(join(ROOT, dir), { withFileTypes: true, recursive: true })
    .filter((e) => e.isFile() && /\.tsx?$/.test(e.name) && !e.name.endsWith(".d.ts"))
    .map((e) => relative(ROOT, join(e.parentPath, e.name)))
    .sort();
}
const read = (file: string) => readFileSync(join(ROOT, file), "utf8");

/** Every name lib/schemas exports as a zod schema. */
async function schemaNames(): Promise<Set<string>> {
  const names = new Set<string>();
  for (const file of sources("lib/schemas")) {
    const mod = (await import(join(ROOT, file))) as Record<string, unknown>;
    for (const [name, value] of Object.entries(mod)) if (value instanceof z.ZodType) names.add(name);
  }
  return names;
}

describe("single sources", () => {
  it("no file in lib/ outside lib/schemas declares a type that a zod schema in lib/schemas defines", async () => {
    const names = await schemaNames();
    expect(names.has("Scope") && names.has("ResolveFailure")).toBe(true);
    const clashes: string[] = [];
    for (const file of sources("lib").filter((f) => !f.startsWith("lib/schemas/"))) {
      for (const m of read(file).matchAll(/^\s*(?:export\s+)?(?:declare\s+)?(?:type|interface)\s+([A-Za-z_$][\w$]*)/gm)) {
        if (names.has(m[1]!)) clashes.push(`${file}: ${m[1]}`);
      }
    }
    expect(clashes).toEqual([]);
  });

  const CODE = ["lib", "durable-objects", "workers", "cli", "providers"];
  const everywhere = () => CODE.flatMap((d) => { try { return sources(d); } catch { return []; } });

  it("the slug rule is written once (lib/slug SLUG_SOURCE, zod-free so small workers can use it)", () => {
    const copies = everywhere().filter((f) => read(f).includes("[a-z0-9][a-z0-9_-]{0,62}"));
    expect(copies).toEqual(["lib/slug.ts"]);
  });

  it("a scope becomes its label in one place (lib/refs scopeLabel)", () => {
    const copies = everywhere().filter((f) => /`user:\$\{[^}]*\.user\}`/.test(read(f)));
    expect(copies).toEqual(["lib/refs.ts"]);
  });

  it("lib/ knows nothing of the sandbox", () => {
    // Salesforce calls its test orgs "sandbox orgs": that is the provider's word, not ours.
    const knows = sources("lib").filter((f) => /sandbox(?! orgs)/i.test(read(f)));
    expect(knows).toEqual([]);
  });

  it("zod issues become invalid_request only through fromZodError", () => {
    // Reading zod's issues to build a bad-input error by hand is the mapper's job (lib/errors).
    const byHand = everywhere().filter((f) => {
      if (f === "lib/errors.ts") return false;
      const lines = read(f).split("\n");
      return lines.some((l, i) => /\.issues\b/.test(l) && /invalid_request|invalidField\(/.test(lines.slice(Math.max(0, i - 3), i + 4).join("\n")));
    });
    expect(byHand).toEqual([]);
  });

  it("only the Directory writes the Slack route cache", () => {
    expect(everywhere().filter((f) => /ROUTES\.(put|delete)\(/.test(read(f)))).toEqual(["durable-objects/directory.ts"]);
  });

  it("the Slack hand-off is validated once, in the vault", () => {
    expect(everywhere().filter((f) => /SlackHandoff\.(safeParse|parse)\(/.test(read(f)))).toEqual(["durable-objects/vault/slack/inbox.ts"]);
  });

  it("fromZodError names the field, says a missing one is required and never reads zod's text", () => {
    const input = { app: "exa", targets: [{ type: "org" }, { type: "org", project: "x" }] };
    const unknown = fromZodError(SetCredentialsBody.safeParse({ ...input, fields: { apiKey: "k" } }).error!, { input });
    expect(unknown.toBody()).toEqual({ code: "invalid_request", message: "Unknown field `project`.", details: { field: "targets[1].project" } });
    const missing = fromZodError(SetCredentialsBody.safeParse({ app: "exa" }).error!, { input: { app: "exa" }, prefix: "" });
    expect(missing.toBody()).toEqual({ code: "invalid_request", message: "`fields` is required", details: { field: "fields" } });
    const query = fromZodError(z.strictObject({ limit: z.number() }).safeParse({ limit: "x" }).error!, { input: { limit: "x" }, prefix: "query." });
    expect(query.details).toEqual({ field: "query.limit" });
    expect(query.message).not.toMatch(/required/);
    const worded = fromZodError(SetCredentialsBody.safeParse({}).error!, { input: {}, say: (f, p) => ({ message: `The ${f} ${p}.`, fix: "Fill it in." }) });
    expect(worded.toBody()).toEqual({ code: "invalid_request", message: "The app is required.", fix: "Fill it in.", details: { field: "app" } });
    expect(worded.httpStatus).toBe(400);
  });
});
