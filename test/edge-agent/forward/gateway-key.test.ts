// Gateway key files: created 0600, loaded and checked (mode, JSON shape, key pair consistency).
import assert from "node:assert/strict";
import { chmod, mkdtemp, readFile, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import { createGatewayToken, generateGatewayKeyPair, verifyGatewayToken } from "@coaps-edge/shared";
import { GatewayKeyError, loadGatewayKey, newGatewayKeyFile, saveGatewayKey } from "../../../edge-agent/src/forward/index.js";

const dir = await mkdtemp(join(tmpdir(), "gw-key-"));
after(() => rm(dir, { recursive: true, force: true }));

const code = async (p: Promise<unknown>) => {
  try {
    await p;
    return "ok";
  } catch (err) {
    assert.ok(err instanceof GatewayKeyError, String(err));
    return err.code;
  }
};

test("save writes mode 0600 JSON; load returns it; the keys sign and verify tokens", async () => {
  const path = join(dir, "gw.key.json");
  const key = newGatewayKeyFile("gw-7");
  await saveGatewayKey(path, key);
  if (process.platform !== "win32") assert.equal((await stat(path)).mode & 0o777, 0o600);
  assert.deepEqual(JSON.parse(await readFile(path, "utf8")), key);
  const loaded = await loadGatewayKey(path);
  assert.deepEqual(loaded, key);
  const t = createGatewayToken({ gatewayId: loaded.gatewayId, privateKey: loaded.privateKey, nowMs: Date.now() });
  assert.ok(verifyGatewayToken(t, { [loaded.gatewayId]: loaded.publicKey }, Date.now()).ok);

  assert.equal(await code(saveGatewayKey(path, key)), "exists");
  await chmod(path, 0o644);
  await saveGatewayKey(path, newGatewayKeyFile("gw-7"), { overwrite: true });
  if (process.platform !== "win32") assert.equal((await stat(path)).mode & 0o777, 0o600, "overwrite resets the mode");
});

test("load refuses: group/other access, missing file, bad JSON, bad fields, mismatched keys", async () => {
  const key = newGatewayKeyFile("gw-8");
  const write = async (name: string, text: string, mode = 0o600) => {
    const p = join(dir, name);
    await writeFile(p, text, { mode });
    await chmod(p, mode);
    return p;
  };
  if (process.platform !== "win32") {
    const open = await write("open.json", JSON.stringify(key), 0o644);
    assert.equal(await code(loadGatewayKey(open)), "insecure-permissions");
    assert.deepEqual(await loadGatewayKey(open, { allowInsecurePermissions: true }), key);
  }
  assert.equal(await code(loadGatewayKey(join(dir, "missing.json"))), "unreadable");
  assert.equal(await code(loadGatewayKey(await write("text.json", "gatewayId=gw"))), "invalid");
  assert.equal(await code(loadGatewayKey(await write("fields.json", JSON.stringify({ ...key, privateKey: "abc" })))), "invalid");
  const other = generateGatewayKeyPair();
  assert.equal(await code(loadGatewayKey(await write("mismatch.json", JSON.stringify({ ...key, publicKey: other.publicKey })))), "key-mismatch");
  assert.throws(() => newGatewayKeyFile("bad id"), GatewayKeyError);
});
