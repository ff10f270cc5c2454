/**
 * Parity rows "coap_new_client_session_psk2(..., setup)" and "context-level vs session-level
 * credentials": identity + key, the identity-hint callback choosing the credentials, client
 * SNI, DTLS and TLS (the hint callback on both). Peers: coap-server-openssl -k/-h, and our CoapSecure (to see the SNI).
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

const SERVER = "coap-server-openssl";
const KEY = "psk-for-libcoap";
const HINT = "gw-hint";
const text = (b: Uint8Array) => Buffer.from(b).toString("utf8");
const failed = (code: string) => (e: unknown) => e instanceof CoapSessionError && e.code === code;
let proc: RunningProcess | undefined;
let port = 0;
let ctx: CoapContext;

before(async () => {
  ctx = new CoapContext({ connectTimeoutMs: 3000, requestTimeoutMs: 5000 });
  ctx.setBlockMode(COAP_BLOCK_USE_LIBCOAP | COAP_BLOCK_SINGLE_BODY);
  const bin = findBinary(SERVER);
  if (!bin) return;
  ({ proc, port } = await startLibcoapServer(bin, ["-k", KEY, "-h", HINT]));
});
after(async () => {
  await ctx.free();
  await proc?.stop();
});

describe("coap_new_client_session_psk2 against coap-server-openssl", () => {
  it("identity + key over DTLS: the session reports identity, hint and TLS_PSK_WITH_AES_128_CCM_8", async (t) => {
    if (!requireBinary(t, SERVER)) return;
    const s = await newClientSessionPsk(ctx, { server: { address: "127.0.0.1", port: port + 1 }, proto: "dtls" }, { identity: "dev-7", key: KEY }).connected();
    assert.equal(s.dtlsSession?.pskIdentity, "dev-7");
    assert.equal(s.dtlsSession?.pskIdentityHint, HINT);
    assert.equal(s.dtlsSession?.cipherSuite.name, "TLS_PSK_WITH_AES_128_CCM_8");
    assert.match(text((await s.request({ path: "/" })).payload), /libcoap/);
    await s.release();
  });

  it("a wrong key fails the handshake (handshake-failed, with the DTLS error as cause)", async (t) => {
    if (!requireBinary(t, SERVER)) return;
    await assert.rejects(async () => newClientSessionPsk(ctx, { server: { address: "127.0.0.1", port: port + 1 }, proto: "dtls" }, { identity: "dev-7", key: "wrong" }).connected(), (e) => {
      return failed("handshake-failed")(e) && (e as Error).cause !== undefined;
    });
  });

  it("validate_ih_call_back gets the server's hint and chooses the credentials", async (t) => {
    if (!requireBinary(t, SERVER)) return;
    const hints: string[] = [];
    const s = await newClientSessionPsk(
      ctx,
      { server: { address: "127.0.0.1", port: port + 1 }, proto: "dtls" },
      {
        identity: "default-id",
        key: "not-the-key",
        validateIdentityHint: (hint) => {
          hints.push(hint);
          return hint === HINT ? { identity: "chosen-id", key: KEY } : undefined;
        },
      },
    ).connected();
    assert.deepEqual(hints, [HINT]);
    assert.equal(s.dtlsSession?.pskIdentity, "chosen-id");
    await s.release();
    // Returning nothing aborts the handshake.
    await assert.rejects(
      async () => newClientSessionPsk(ctx, { server: { address: "127.0.0.1", port: port + 1 }, proto: "dtls" }, { identity: "x", key: KEY, validateIdentityHint: () => undefined }).connected(),
      failed("handshake-failed"),
    );
  });

  it("COAP_PROTO_TLS with PSK", async (t) => {
    if (!requireBinary(t, SERVER)) return;
    const s = await newClientSessionPsk(ctx, { server: { address: "127.0.0.1", port: port + 1 }, proto: "tls" }, { identity: "dev-7", key: KEY }).connected();
    assert.match(text((await s.request({ path: "/" })).payload), /libcoap/);
    await s.release();
  });

  it("COAP_PROTO_TLS: validate_ih_call_back gets the server's hint over TLS too and chooses the credentials", async (t) => {
    if (!requireBinary(t, SERVER)) return;
    const hints: string[] = [];
    const s = await newClientSessionPsk(
      ctx,
      { server: { address: "127.0.0.1", port: port + 1 }, proto: "tls" },
      {
        identity: "default-id",
        key: "not-the-key",
        validateIdentityHint: (hint) => {
          hints.push(hint);
          return hint === HINT ? { identity: "chosen-tls", key: KEY } : undefined;
        },
      },
    ).connected();
    const res = await s.request({ path: "/" });
    assert.match(text(res.payload), /libcoap/, "the chosen key worked (the default one is wrong)");
    assert.deepEqual(hints, [HINT]);
    assert.equal(res.identity.identity, "chosen-tls");
    await s.release();
    // Returning nothing aborts the TLS handshake.
    await assert.rejects(
      async () => newClientSessionPsk(ctx, { server: { address: "127.0.0.1", port: port + 1 }, proto: "tls" }, { identity: "x", key: KEY, validateIdentityHint: () => undefined }).connected(),
      failed("connect-failed"),
    );
  });

  it("session-level credentials override the context's; without them the context's are used", async (t) => {
    if (!requireBinary(t, SERVER)) return;
    const c = new CoapContext({ connectTimeoutMs: 3000 });
    c.setPsk({ identity: "ctx-id", key: "wrong-at-context-level" });
    await assert.rejects(async () => newClientSession(c, { server: { address: "127.0.0.1", port: port + 1 }, proto: "dtls" }).connected(), failed("handshake-failed"));
    const s = await newClientSessionPsk(c, { server: { address: "127.0.0.1", port: port + 1 }, proto: "dtls" }, { identity: "session-id", key: KEY }).connected();
    assert.equal(s.dtlsSession?.pskIdentity, "session-id");
    c.setPsk({ identity: "ctx-id", key: KEY });
    const s2 = await newClientSession(c, { server: { address: "127.0.0.1", port: port + 1 }, proto: "dtls" }).connected();
    assert.equal(s2.dtlsSession?.pskIdentity, "ctx-id");
    await c.free();
  });

  it("an empty identity or key is bad-credentials", async () => {
    await assert.rejects(async () => newClientSessionPsk(ctx, { server: { address: "127.0.0.1", port: 9 }, proto: "dtls" }, { identity: "", key: KEY }).connected(), failed("bad-credentials"));
    await assert.rejects(async () => newClientSessionPsk(ctx, { server: { address: "127.0.0.1", port: 9 }, proto: "dtls" }, { identity: "a", key: new Uint8Array(0) }).connected(), failed("bad-credentials"));
  });
});

describe("coap_new_client_session_psk2 against CoapSecure: client_sni", () => {
  it("the server's PSK lookup and session see the SNI", async () => {
    const server = new CoapSecure({ address: "127.0.0.1", guardTimeMs: 20 });
    const lookups: Array<[string, string | undefined]> = [];
    server.setPskCredentials({
      lookup: (identity, sni) => {
        lookups.push([identity, sni]);
        return identity === "sni-dev" ? new TextEncoder().encode(KEY) : undefined;
      },
    });
    server.addResource({ uriPath: "x", handler: (_r, info) => server.sendResponse({ code: "2.05", payload: "ok" }, info) });
    await server.start(0);
    try {
      const s = await newClientSessionPsk(ctx, { server: { address: "127.0.0.1", port: server.local?.port ?? 0 }, proto: "dtls" }, { identity: "sni-dev", key: KEY, clientSni: "gw.example.net" }).connected();
      assert.equal(text((await s.request({ path: "x" })).payload), "ok");
      assert.ok(lookups.length >= 1);
      for (const l of lookups) assert.deepEqual(l, ["sni-dev", "gw.example.net"]);
      assert.equal(server.sessions()[0]?.sni, "gw.example.net");
      await s.release();
    } finally {
      await server.stop();
    }
  });
});
