// `wrangler deploy --dry-run` bundles the Worker offline: the config, the custom build (registry
// generation) and the bundle must all work, and the bundle must stay on zod/mini.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdtemp, readFile, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";

const ROOT = new URL("../../", import.meta.url).pathname;
const WRANGLER = join(ROOT, "node_modules/.bin/wrangler");

test("wrangler deploy --dry-run builds the Worker cleanly", { skip: !existsSync(WRANGLER) && process.env.CI !== "true" ? "wrangler not installed" : false }, async () => {
  const out = await mkdtemp(join(tmpdir(), "wrangler-dry-"));
  try {
    const r = spawnSync(WRANGLER, ["deploy", "--dry-run", "--outdir", out, "-c", "infra/wrangler/wrangler.jsonc", "--env", "production"], {
      cwd: ROOT,
      encoding: "utf8",
      env: { ...process.env, WRANGLER_SEND_METRICS: "false", CLOUDFLARE_CF_FETCH_ENABLED: "false", NO_COLOR: "1" },
      timeout: 60_000,
    });
    assert.equal(r.status, 0, r.stdout + r.stderr);
    assert.match(r.stdout, /--dry-run: exiting now/);
    assert.doesNotMatch(r.stdout + r.stderr, /\bERROR\b|✘/);
    // Production carries no vars: GATEWAY_KEYS comes from a secret there, never the demo key.
    assert.doesNotMatch(r.stdout, /GATEWAY_KEYS/);
    const bundle = await readFile(join(out, "index.js"), "utf8");
    assert.match(bundle, /Hello from coaps-edge/);
    assert.match(bundle, /zod\/v4\/mini/);
    assert.doesNotMatch(bundle, /zod\/v4\/classic/, "zod classic crept into the Worker bundle");
    assert.doesNotMatch(bundle, /from "node:/, "a node: import in the Worker bundle");
    assert.ok((await stat(join(out, "index.js"))).size < 512 * 1024, "bundle grew past 512 KiB");
  } finally {
    await rm(out, { recursive: true, force: true });
  }
});
