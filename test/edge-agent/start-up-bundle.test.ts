/**
 * The agent's start-up bundle (edge-agent/bin/bundle.mjs, issue 7: ~50 MB less RSS than tsx):
 * coaps-edge.mjs may run it only while every file it was built from is unchanged, so it can
 * never run code older than the sources; and a real build serves the CLI.
 */
import assert from "node:assert/strict";
import { mkdtemp, rm, utimes, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { after, describe, it } from "node:test";
import { run } from "../helpers/libcoap.js";
import { freshBundle as fresh } from "../../edge-agent/bin/fresh-bundle.mjs";

describe("start-up bundle", () => {
  const dirs: string[] = [];
  after(async () => {
    for (const d of dirs) await rm(d, { recursive: true, force: true });
  });
  const tempDir = async () => {
    const d = await mkdtemp(join(tmpdir(), "coaps-edge-bundle-"));
    dirs.push(d);
    return d;
  };

  it("is fresh only while every input keeps its recorded size and mtime", async () => {
    const d = await tempDir();
    const bundle = join(d, "coaps-edge.mjs");
    const manifest = join(d, "manifest.json");
    const input = join(d, "input.ts");
    await writeFile(bundle, "export const main = () => 0;\n");
    await writeFile(input, "export const a = 1;\n");
    await utimes(input, 1_700_000_000, 1_700_000_000);
    await writeFile(manifest, JSON.stringify({ inputs: { "input.ts": { size: 20, mtimeMs: 1_700_000_000_000 } } })); // relative to the manifest
    const reasons: string[] = [];
    const check = () => fresh({ bundle, manifest, why: (r) => reasons.push(r) });

    assert.equal(check(), bundle);
    await writeFile(input, "export const a = 2;\n"); // same size, new mtime: an edit
    assert.equal(check(), undefined);
    assert.match(reasons.at(-1)!, /input\.ts changed/);
    await utimes(input, 1_700_000_000, 1_700_000_000);
    assert.equal(check(), bundle, "back to the recorded state");
    await rm(input);
    assert.equal(check(), undefined);
    assert.match(reasons.at(-1)!, /input\.ts is gone/);
    await rm(manifest);
    assert.equal(check(), undefined);
    assert.equal(reasons.at(-1), "no bundle");
  });

  it("a real build serves the CLI, and is fresh until a source it contains changes", async () => {
    const d = await tempDir();
    const script = fileURLToPath(new URL("../../edge-agent/bin/bundle.mjs", import.meta.url));
    const built = await run(process.execPath, [script, "--out", d], { timeoutMs: 60_000 });
    assert.equal(built.code, 0, built.stderr.toString());
    const bundle = join(d, "coaps-edge.mjs");
    assert.equal(fresh({ bundle, manifest: join(d, "manifest.json") }), bundle);
    const { main } = (await import(pathToFileURL(bundle).href)) as { main: (argv: string[], io: unknown) => Promise<number> };
    let out = "";
    const sink = { write: (s: string) => ((out += s), true) };
    const code = await main(["agent", "--help"], { stdout: sink, stderr: sink, stdin: process.stdin });
    assert.equal(code, 0);
    assert.match(out, /--demo/);
  });
});
