/**
 * Whether the start-up bundle (bundle.mjs) may run: only while every file it was built from is
 * unchanged — same size and mtime as recorded in its manifest — so it can never run code older
 * than src/ (or than node_modules). A missing bundle, manifest or input means "run the sources".
 * Plain JavaScript: it runs before tsx is loaded.
 */
import { readFileSync, statSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";

export const BUNDLE = fileURLToPath(new URL("../dist/bundle/coaps-edge.mjs", import.meta.url));
export const MANIFEST = fileURLToPath(new URL("../dist/bundle/manifest.json", import.meta.url));

/**
 * The bundle's path if it is fresh, else undefined (with the reason in `why`, for diagnostics).
 * @param {{ bundle?: string, manifest?: string, why?: (reason: string) => void }} [options]
 * @returns {string | undefined}
 */
export function freshBundle(options = {}) {
  const bundle = options.bundle ?? BUNDLE;
  const manifest = options.manifest ?? MANIFEST;
  const why = options.why ?? (() => {});
  let inputs;
  try {
    statSync(bundle);
    inputs = JSON.parse(readFileSync(manifest, "utf8")).inputs;
  } catch {
    why("no bundle");
    return undefined;
  }
  if (typeof inputs !== "object" || inputs === null || Object.keys(inputs).length === 0) {
    why("the manifest lists no inputs");
    return undefined;
  }
  // Paths are relative to the manifest, so a moved tree (the installer's app.new → app) stays fresh.
  const base = dirname(manifest);
  for (const [path, recorded] of Object.entries(inputs)) {
    let s;
    try {
      s = statSync(resolve(base, path));
    } catch {
      why(`${path} is gone`);
      return undefined;
    }
    if (s.size !== recorded.size || s.mtimeMs !== recorded.mtimeMs) {
      why(`${path} changed`);
      return undefined;
    }
  }
  return bundle;
}
