// Plain JS with a declaration (source-imports.d.mts): test/lib is type-checked against the Workers
// types, where node:fs does not exist; this runs in the Node test project only.
import { readdirSync, readFileSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";

const ROOT = resolve(import.meta.dirname, "../..");

// `from "x"`, `import "x"`, `import("x")`, and `export … from "x"`.
const IMPORT = /(?:\bfrom\s*|\bimport\s*\(?\s*)["']([^"']+)["']/g;

/** Every import specifier of every .ts/.tsx/.mts source file under `dirs` (repo-relative). */
export function sourceImports(dirs) {
  const out = [];
  for (const dir of dirs) {
    const files = readdirSync(join(ROOT, dir), { recursive: true, withFileTypes: true })
      .filter((e) => e.isFile() && /\.(ts|tsx|mts)$/.test(e.name) && !e.name.endsWith(".d.ts"))
      .map((e) => relative(ROOT, join(e.parentPath, e.name)));
    for (const file of files) {
      for (const m of readFileSync(join(ROOT, file), "utf8").matchAll(IMPORT)) {
        const spec = m[1];
        const target = spec.startsWith(".") ? relative(ROOT, resolve(ROOT, dirname(file), spec)) : null;
        out.push({ file, spec, target });
      }
    }
  }
  return out;
}
