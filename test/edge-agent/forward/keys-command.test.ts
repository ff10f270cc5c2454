// `coaps-edge keys --out FILE [--gateway-id ID] [--force]`, run through the CLI's main().
import assert from "node:assert/strict";
import { mkdtemp, readFile, rm, stat } from "node:fs/promises";
import { hostname, tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { createGatewayToken, verifyGatewayToken } from "@coaps-edge/shared";
import { main } from "../../../edge-agent/src/cli/main.js";
import { defaultGatewayId } from "../../../edge-agent/src/cli/keys-command.js";
import { loadGatewayKey } from "../../../edge-agent/src/forward/index.js";

async function cli(...args: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = "";
  let err = "";
  const sink = (append: (s: string) => void) =>
    ({ write: (s: string | Uint8Array, cb?: (e?: Error) => void) => (append(String(s)), cb?.(), true) }) as unknown as NodeJS.WritableStream;
  const code = await main(args, { stdout: sink((s) => (out += s)), stderr: sink((s) => (err += s)), stdin: process.stdin });
  return { code, out, err };
}

describe("coaps-edge keys", () => {
  let dir = "";
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), "coaps-edge-keys-"));
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it("writes a 0600 key file and prints only its public key", async () => {
    const file = join(dir, "k1.json");
    const r = await cli("keys", "--out", file, "--gateway-id", "gw-1");
    assert.equal(r.code, 0, r.err);
    assert.equal((await stat(file)).mode & 0o777, 0o600);
    const key = await loadGatewayKey(file);
    assert.equal(key.gatewayId, "gw-1");
    assert.equal(r.out, `${key.publicKey}\n`);
    assert.match(r.err, new RegExp(`GATEWAY_KEYS=\\{"gw-1":"${key.publicKey}"\\}`));
    // The printed key verifies what the private key signs (what the Worker does with GATEWAY_KEYS).
    const token = createGatewayToken({ gatewayId: "gw-1", privateKey: key.privateKey, nowMs: Date.now() });
    assert.equal(verifyGatewayToken(token, { "gw-1": r.out.trim() }, Date.now()).ok, true);
  });

  it("refuses to overwrite without --force", async () => {
    const file = join(dir, "k2.json");
    assert.equal((await cli("keys", "--out", file, "--gateway-id", "gw-2")).code, 0);
    const first = await readFile(file, "utf8");
    const again = await cli("keys", "--out", file, "--gateway-id", "gw-2");
    assert.equal(again.code, 1);
    assert.match(again.err, /exists; not overwriting a gateway key without --force/);
    assert.equal(again.out, "");
    assert.equal(await readFile(file, "utf8"), first);
    const forced = await cli("keys", "--out", file, "--gateway-id", "gw-2", "--force");
    assert.equal(forced.code, 0);
    assert.notEqual(await readFile(file, "utf8"), first);
    assert.equal((await loadGatewayKey(file)).publicKey, forced.out.trim());
  });

  it("defaults the gateway id to the host name; usage errors exit 2", async () => {
    const file = join(dir, "k3.json");
    assert.equal((await cli("keys", "--out", file)).code, 0);
    assert.equal((await loadGatewayKey(file)).gatewayId, defaultGatewayId(hostname()));
    assert.equal(defaultGatewayId("gw host/1 ü"), "gwhost1");
    assert.equal(defaultGatewayId("ü"), "gateway");
    assert.equal((await cli("keys")).code, 2);
    const bad = await cli("keys", "--out", join(dir, "k4.json"), "--gateway-id", "has space");
    assert.equal(bad.code, 2);
    assert.match(bad.err, /invalid gateway id/);
  });
});
