#!/usr/bin/env node
// Bundles the CLI into one file, dist/keystroke.mjs (the package's `bin`). Run by `prepare`, so it
// must stay fast and offline: esbuild only, no network, no type check (`npm run check` does that).
import { chmodSync, readFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const outfile = path.join(root, "dist/keystroke.mjs");
const { version } = JSON.parse(readFileSync(path.join(root, "package.json"), "utf8"));

await build({
  entryPoints: [path.join(root, "cli/index.ts")],
  outfile,
  bundle: true,
  platform: "node",
  format: "esm",
  // The machine's node may be 20 even though `npm run` scripts get 22.
  target: "node20",
  legalComments: "none",
  define: { __KEYSTROKE_VERSION__: JSON.stringify(version) },
  logLevel: "warning",
  // commander and dotenv are CommonJS and `require` node built-ins; an ESM bundle needs a real `require`.
  banner: { js: "#!/usr/bin/env node\nimport { createRequire as __ksCreateRequire } from 'node:module';\nconst require = __ksCreateRequire(import.meta.url);" },
});
chmodSync(outfile, 0o755);
