// The registry generator: file → path mapping, duplicate and bad paths fail loudly (function and
// CLI), skipped files, and the committed cloud/src/registry.gen.ts is up to date.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtemp, mkdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import {
  RegistryGenError,
  buildRegistrySource,
  generateRegistry,
  listResourceFiles,
  routePathForFile,
} from "../../cloud/scripts/gen-registry.js";

const SCRIPT = new URL("../../cloud/scripts/gen-registry.ts", import.meta.url).pathname;

test("file names map to resource paths", () => {
  assert.equal(routePathForFile("hello.ts"), "/hello");
  assert.equal(routePathForFile("sensors/[id]/temperature.ts"), "/sensors/[id]/temperature");
  assert.equal(routePathForFile("lights/index.ts"), "/lights");
  assert.equal(routePathForFile("index.ts"), "/");
});

test("two files claiming one route fail with both names", () => {
  const dup = (files: string[]) => {
    try {
      buildRegistrySource(files);
    } catch (err) {
      assert.ok(err instanceof RegistryGenError);
      return `${err.code}: ${err.message}`;
    }
    return "no error";
  };
  assert.equal(dup(["a.ts", "a/index.ts"]), "duplicate-route: resources/a.ts and resources/a/index.ts both claim /a");
  assert.equal(dup(["s/[id].ts", "s/[name].ts"]), "duplicate-route: resources/s/[id].ts and resources/s/[name].ts both claim /s/[]");
  assert.match(dup(["s/[1d].ts"]), /^bad-path: resources\/s\/\[1d\]\.ts/);
  assert.match(dup(["a[b].ts"]), /^bad-path/);
  assert.equal(dup(["a.ts", "b/[id]/c.ts", "b/x/c.ts"]), "no error");
});

test("generated source: sorted imports and entries", () => {
  const src = buildRegistrySource(["z.ts", "a/[id].ts", "index.ts"]);
  assert.match(src, /import r0 from "\.\.\/resources\/index\.js";\nimport r1 from "\.\.\/resources\/a\/\[id\]\.js";\nimport r2 from "\.\.\/resources\/z\.js";/);
  assert.match(src, /\{ path: "\/", file: "index\.ts", resource: r0 \},\n {2}\{ path: "\/a\/\[id\]", file: "a\/\[id\]\.ts", resource: r1 \}/);
});

test("listing skips helpers, hidden files, declarations and tests; the CLI writes, checks, and fails loudly", async () => {
  const dir = await mkdtemp(join(tmpdir(), "gen-registry-"));
  try {
    const res = join(dir, "resources");
    await mkdir(join(res, "s", "[id]"), { recursive: true });
    await mkdir(join(res, "_lib"), { recursive: true });
    for (const f of ["hello.ts", "s/[id]/t.ts", "_util.ts", "_lib/x.ts", ".hidden.ts", "types.d.ts", "hello.test.ts", "notes.md"]) {
      await writeFile(join(res, f), "export default 1;\n");
    }
    assert.deepEqual(await listResourceFiles(res), ["hello.ts", "s/[id]/t.ts"]);

    const out = join(dir, "registry.gen.ts");
    const first = await generateRegistry({ resourcesDir: res, outFile: out });
    assert.equal(first.upToDate, false);
    assert.equal(await readFile(out, "utf8"), first.source);
    assert.equal((await generateRegistry({ resourcesDir: res, outFile: out, check: true })).upToDate, true);

    const cli = (...args: string[]) => spawnSync(process.execPath, ["--import", "tsx", SCRIPT, "--resources", res, "--out", out, ...args], { encoding: "utf8" });
    assert.equal(cli("--check").status, 0);
    await writeFile(join(res, "s", "[other].ts"), "export default 1;\n");
    assert.equal(cli("--check").status, 1); // stale
    await mkdir(join(res, "hello"));
    await writeFile(join(res, "hello", "index.ts"), "export default 1;\n");
    const dup = cli();
    assert.equal(dup.status, 1);
    assert.match(dup.stderr, /resources\/hello\.ts and resources\/hello\/index\.ts both claim \/hello/);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test("the committed cloud/src/registry.gen.ts matches cloud/resources/", async () => {
  const { upToDate, outFile } = await generateRegistry({ check: true });
  assert.ok(upToDate, `${outFile} is stale: run node --import tsx cloud/scripts/gen-registry.ts`);
});
