/**
 * DtlsServer.reloadPsk (the SIGHUP path): sessions whose identity is still known with the same
 * key continue; removed identities and changed keys lose their session (close_notify); new
 * identities connect; the count of closed sessions is returned.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { pskTable, type CloseReason } from "../../../edge-agent/src/dtls/index.js";
import { connect, fixture, KEY_A, KEY_B, pump, text, utf8 } from "../dtls/helpers.js";

test("reloadPsk keeps unchanged sessions, closes removed and re-keyed ones", async () => {
  const KEY_C = utf8("key-c");
  const f = fixture({ server: { psk: pskTable([{ identity: "dev-a", key: KEY_A }, { identity: "dev-b", key: KEY_B }, { identity: "dev-c", key: KEY_C }]) } });
  const seen: string[] = [];
  f.server.onDatagram = (d, _p, id) => seen.push(`${id.identity}:${text(d)}`);
  const clients = await Promise.all(
    [
      ["dev-a", KEY_A],
      ["dev-b", KEY_B],
      ["dev-c", KEY_C],
    ].map(async ([identity, key]) => {
      const c = (await connect(f, { psk: { identity: identity as string, key: key as Uint8Array } })).client!;
      const closed: CloseReason[] = [];
      c.onClose = (r) => void closed.push(r);
      return { c, closed };
    }),
  );
  const [a, b, c] = clients as [(typeof clients)[0], (typeof clients)[0], (typeof clients)[0]];
  // dev-b removed, dev-c's key changed, dev-d new.
  const closedCount = f.server.reloadPsk(pskTable([{ identity: "dev-a", key: KEY_A }, { identity: "dev-c", key: utf8("new-c") }, { identity: "dev-d", key: utf8("key-d") }]));
  assert.equal(closedCount, 2);
  await pump(f.clock, 50);
  assert.deepEqual([a.closed, b.closed, c.closed], [[], ["peer_close_notify"], ["peer_close_notify"]]);
  assert.equal(f.server.sessionCount, 1);
  a.c.send(f.server.local, utf8("still here"));
  await pump(f.clock, 50);
  assert.deepEqual(seen, ["dev-a:still here"]);
  assert.ok((await connect(f, { psk: { identity: "dev-d", key: utf8("key-d") } })).client, "a new identity connects");
  assert.ok((await connect(f, { psk: { identity: "dev-c", key: utf8("new-c") } })).client, "the new key works");
  assert.ok((await connect(f, { psk: { identity: "dev-b", key: KEY_B }, handshakeTimeoutMs: 3000 })).error, "a removed identity is refused");
});

test("the remote forwarder signs with a reloaded gateway key (SIGHUP)", async () => {
  const { generateGatewayKeyPair, verifyGatewayToken } = await import("@coaps-edge/shared");
  const { HttpCloudForwarder } = await import("../../../edge-agent/src/forward/http.js");
  const k1 = generateGatewayKeyPair();
  const k2 = generateGatewayKeyPair();
  const auths: string[] = [];
  const fwd = new HttpCloudForwarder({
    url: "http://cloud.invalid",
    gatewayId: "gw-1",
    gatewayKey: k1.privateKey,
    fetch: async (_u, init) => {
      auths.push(String(new Headers(init?.headers).get("authorization")));
      return new Response("{}", { status: 503 });
    },
  });
  assert.equal(fwd.publicKey, k1.publicKey);
  await fwd.fetchRegistry();
  fwd.updateGatewayKey("gw-1", k2.privateKey);
  assert.equal(fwd.publicKey, k2.publicKey);
  await fwd.fetchRegistry();
  assert.equal(auths.length, 2);
  const token = (a: string) => a.replace(/^Bearer /, "");
  const keys = (k: string) => ({ "gw-1": k });
  assert.equal(verifyGatewayToken(token(auths[0]!), keys(k1.publicKey), Date.now()).ok, true);
  assert.equal(verifyGatewayToken(token(auths[1]!), keys(k2.publicKey), Date.now()).ok, true, "signed with the new key");
  assert.equal(verifyGatewayToken(token(auths[1]!), keys(k1.publicKey), Date.now()).ok, false);
  await fwd.close();
});
