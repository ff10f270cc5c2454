/**
 * Parity row "coap_new_client_session*": libcoap returns the session at once and the
 * handshake runs in the background; what is sent before it completes goes out after it, and
 * a failed handshake fails those requests. What libcoap refuses with NULL throws at once.
 * Peers: our CoapSecure over DTLS-PSK and coap-server-openssl over TLS-PSK (TCP connect + CSM).
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import {
  COAP_BLOCK_SINGLE_BODY,
  COAP_BLOCK_USE_LIBCOAP,
  CoapContext,
  CoapSecure,
  CoapSessionError,
  newClientSession,
  newClientSessionPsk,
} from "../../edge-agent/src/api/index.js";
import { findBinary, requireBinary, type RunningProcess, start, startLibcoapServer } from "../helpers/libcoap.js";
import { IDENTITY, PSK } from "./helpers.js";

const failed = (code: string) => (e: unknown) => e instanceof CoapSessionError && e.code === code;
const LIBCOAP_KEY = "background-key";
let ctx: CoapContext;
let agent: CoapSecure;
let libcoap: RunningProcess | undefined;
let libcoapPort = 0;
const dtls = () => ({ server: { address: "127.0.0.1", port: agent.local?.port ?? 0 }, proto: "dtls" as const });

before(async () => {
  ctx = new CoapContext({ connectTimeoutMs: 3000, requestTimeoutMs: 5000 });
  ctx.setBlockMode(COAP_BLOCK_USE_LIBCOAP | COAP_BLOCK_SINGLE_BODY);
  agent = new CoapSecure({ address: "127.0.0.1", guardTimeMs: 20 });
  agent.setPsk(PSK, IDENTITY);
  agent.addResource({ uriPath: "ping", handler: (_req, info) => agent.sendResponse({ code: "2.05", payload: "pong" }, info) });
  await agent.start(0);
  if (findBinary("coap-server-openssl")) {
    ({ proc: libcoap, port: libcoapPort } = await startLibcoapServer("coap-server-openssl", ["-k", LIBCOAP_KEY]));
  }
});
after(async () => {
  await ctx.free();
  await agent.stop();
  await libcoap?.stop();
});

describe("coap_new_client_session*: the session at once, the handshake in the background", () => {
  it("DTLS: returns while connecting; requests sent at once go out after the handshake", async () => {
    const s = newClientSessionPsk(ctx, dtls(), { identity: IDENTITY, key: PSK });
    assert.equal(s.state, "connecting");
    const info = () => s.dtlsSession; // read later again (no narrowing)
    assert.equal(info(), undefined, "no handshake yet");
    const [a, b] = await Promise.all([s.request({ path: "ping" }), s.request({ path: "ping" })]);
    assert.equal(Buffer.from(a.payload).toString(), "pong");
    assert.equal(Buffer.from(b.payload).toString(), "pong");
    assert.equal(s.state, "established");
    assert.equal(info()?.pskIdentity, IDENTITY);
    assert.equal(await s.connected(), s);
    await s.release();
  });

  it("observe() on a session waits for the handshake like request()", async (t) => {
    if (!requireBinary(t, "coap-server-openssl")) return;
    const s = newClientSessionPsk(ctx, { server: { address: "127.0.0.1", port: libcoapPort + 1 }, proto: "dtls" }, { identity: "x", key: LIBCOAP_KEY });
    const seqs: (number | undefined)[] = [];
    const obs = await s.observe({ path: "time" }, (n) => seqs.push(n.observe));
    assert.equal(obs.active, true);
    await new Promise((r) => setTimeout(r, 2600)); // libcoap's /time changes every second
    await obs.cancel();
    assert.ok(seqs.length >= 2, `notifications: ${seqs.length}`);
    assert.ok(seqs.every((v, i) => v !== undefined && (i === 0 || v > seqs[i - 1]!)));
    await s.release();
  });

  it("a failed handshake fails the queued requests, later ones and connected() with handshake-failed", async () => {
    const s = newClientSessionPsk(ctx, dtls(), { identity: IDENTITY, key: "wrong-key" });
    const queued = [s.request({ path: "ping" }), s.request({ path: "ping" })];
    for (const q of queued) await assert.rejects(q, failed("handshake-failed"));
    assert.equal(s.state, "failed");
    await assert.rejects(s.connected(), failed("handshake-failed"));
    await assert.rejects(s.request({ path: "ping" }), failed("handshake-failed"));
    assert.ok(!ctx.sessions().includes(s), "a failed session leaves its context");
  });

  it("released while connecting: queued requests fail with released, the transport is closed", async () => {
    const s = newClientSessionPsk(ctx, dtls(), { identity: IDENTITY, key: PSK });
    const queued = s.request({ path: "ping" });
    await s.release();
    assert.equal(s.state, "released");
    await assert.rejects(queued, failed("released"));
    await assert.rejects(s.connected(), failed("released"));
  });

  it("TLS (coap-server-openssl): a request before the TCP connect + TLS handshake + CSM is answered after", async (t) => {
    if (!requireBinary(t, "coap-server-openssl")) return;
    const s = newClientSessionPsk(ctx, { server: { address: "127.0.0.1", port: libcoapPort + 1 }, proto: "tls" }, { identity: "x", key: LIBCOAP_KEY });
    assert.equal(s.state, "connecting");
    const r = await s.request({ path: "/" });
    assert.match(Buffer.from(r.payload).toString(), /libcoap/);
    await s.release();
  });

  it("what libcoap answers with NULL throws at once: freed context, unsupported protocol, mixed families, empty PSK", async () => {
    const freed = new CoapContext();
    await freed.free();
    assert.throws(() => newClientSession(freed, { server: { address: "127.0.0.1", port: 1 }, proto: "udp" }), failed("released"));
    assert.throws(() => newClientSession(ctx, { server: { path: "/tmp/x" }, proto: "dtls" }), failed("not-supported"));
    assert.throws(() => newClientSession(ctx, { local: { address: "::1", port: 0 }, server: { address: "127.0.0.1", port: 1 }, proto: "udp" }), failed("bad-address"));
    assert.throws(() => newClientSessionPsk(ctx, dtls(), { identity: "", key: PSK }), failed("bad-credentials"));
    // A host name resolves in the background: its failure comes through the session.
    const s = newClientSession(ctx, { server: { address: "no-such-host.invalid", port: 1 }, proto: "udp" });
    await assert.rejects(s.connected(), failed("bad-address"));
  });
});
