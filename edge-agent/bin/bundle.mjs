#!/usr/bin/env node
/**
 * Builds the agent's start-up bundle: edge-agent/dist/bundle/coaps-edge.mjs, the CLI and
 * everything it imports (our TypeScript, the workspace packages, npm dependencies) as one ES
 * module, and next to it manifest.json listing every input file with its size and mtime.
 *
 * Why: run through tsx, the agent starts at ~130 MB RSS — tsx's module-loader thread (a second
 * V8 isolate) and the garbage of transforming ~350 modules — where the bundle starts at ~77 MB
 * (issue 7: 100,000 idle sessions in < 400 MB). `coaps-edge.mjs` runs the bundle only while
 * every input is unchanged (fresh-bundle.mjs), else the sources through tsx as before, so a
 * bundle never runs code older than src/. Tests import the sources directly and never use it.
 *
 * Run: node edge-agent/bin/bundle.mjs [--out DIR]   (default edge-agent/dist/bundle; infra/gateway/install.sh
 * runs it after npm ci)
 */
import { readFile, rm, writeFile } from "node:fs/promises";
import { statSync } from "node:fs";
import { fileURLToPath, pathToFileURL } from "node:url";
import { dirname, join, relative, resolve } from "node:path";
import { build } from "esbuild";
import { BUNDLE, MANIFEST } from "./fresh-bundle.mjs";

const ENTRY = fileURLToPath(new URL("../src/cli/main.ts", import.meta.url));
const outAt = process.argv.indexOf("--out");
const out = outAt > 0 ? resolve(process.argv[outAt + 1] ?? ".") : undefined;
const bundle = out ? join(out, "coaps-edge.mjs") : BUNDLE;
const manifest = out ? join(out, "manifest.json") : MANIFEST;

/**
 * Each of our TypeScript modules keeps its own `import.meta.url` inside the bundle: they find
 * files relative to themselves (the native addons' build directories, package.json), and must
 * find the same files as when they run from src/.
 */
const ownModuleUrls = {
  name: "own-module-urls",
  setup(b) {
    b.onLoad({ filter: /\.ts$/ }, async (args) => {
      if (args.path.includes("/node_modules/")) return undefined;
      const source = await readFile(args.path, "utf8");
      return { contents: source.replaceAll("import.meta.url", JSON.stringify(pathToFileURL(args.path).href)), loader: "ts" };
    });
  },
};

await rm(bundle, { force: true });
await rm(manifest, { force: true });
const result = await build({
  stdin: {
    contents: `import { main } from ${JSON.stringify(ENTRY)};\nexport { main };\n`,
    resolveDir: fileURLToPath(new URL(".", import.meta.url)),
    loader: "js",
  },
  bundle: true,
  platform: "node",
  format: "esm",
  target: "node20",
  outfile: bundle,
  metafile: true,
  logLevel: "warning",
  plugins: [ownModuleUrls],
  // CommonJS dependencies (pino, prom-client, commander) call require() inside the ES module.
  banner: { js: 'import { createRequire as __coapsEdgeRequire } from "node:module"; const require = __coapsEdgeRequire(import.meta.url);' },
});

// Inputs relative to the manifest (the installer moves the whole tree after building), with what
// identifies their content cheaply; "<stdin>" is the entry shim above.
const inputs = {};
for (const input of Object.keys(result.metafile.inputs)) {
  if (input === "<stdin>") continue;
  const path = resolve(input);
  const s = statSync(path);
  inputs[relative(dirname(manifest), path)] = { size: s.size, mtimeMs: s.mtimeMs };
}
await writeFile(manifest, JSON.stringify({ inputs }) + "\n");
console.log(`coaps-edge: bundle ${bundle} from ${Object.keys(inputs).length} files`);
