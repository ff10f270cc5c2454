/**
 * Builds an LD_PRELOAD shim (a C file in test/helpers) into a shared object once per content, in
 * the temp dir. Needs a C compiler (`cc`, Debian's gcc): missing, it fails the test under CI=true
 * and skips it otherwise, like a missing libcoap binary (.ci/run installs gcc).
 */
import { execFile } from "node:child_process";
import { createHash } from "node:crypto";
import { readFile, rename, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { TestContext } from "node:test";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { findBinary } from "./libcoap.js";

/**
 * The path of `test/helpers/<file>` built as a shared object, or undefined when skipped.
 * `what` names the shim in the skip/failure message; `name` is the built file's prefix.
 */
export async function buildPreloadShim(t: TestContext, file: string, name: string, what: string, cflags: readonly string[] = []): Promise<string | undefined> {
  const cc = findBinary("cc") ?? findBinary("gcc");
  if (!cc) {
    if (process.env.CI === "true") throw new Error(`no C compiler (cc) to build the ${what}: apt-get install gcc`);
    t.skip(`no C compiler (cc) to build the ${what}`);
    return undefined;
  }
  const sourcePath = fileURLToPath(new URL(`./${file}`, import.meta.url));
  const source = await readFile(sourcePath);
  const out = join(tmpdir(), `coaps-edge-${name}-${createHash("sha256").update(source).update(cflags.join(" ")).digest("hex").slice(0, 16)}.so`);
  if (await stat(out).then(() => true, () => false)) return out;
  // Build under a unique name, then rename: parallel test files may build at the same time.
  const partial = `${out}.${process.pid}.tmp`;
  await promisify(execFile)(cc, ["-O2", "-Wall", ...cflags, "-shared", "-fPIC", "-o", partial, sourcePath, "-ldl"]);
  await rename(partial, out);
  return out;
}
