/**
 * Parity rows "coap_new_client_session(ctx, local, server, proto)", "local_if" and the
 * coap_*_is_supported checks: every protocol (UDP, DTLS anonymous, TCP, TLS, WS, WSS, AF_UNIX
 * datagram and stream), port 0 → the protocol's default port, binding the source address, and
 * the typed failures. Peers: libcoap's coap-server-notls / coap-server-openssl, and our own
 * CoapServer on the transports libcoap 4.3.1 does not serve (WebSockets, AF_UNIX).
 */
import assert from "node:assert/strict";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { Code } from "@coaps-edge/shared";
import {
  COAP_BLOCK_SINGLE_BODY,
  COAP_BLOCK_USE_LIBCOAP,
  CoapContext,
  CoapSessionError,
  coapAfUnixIsSupported,
  coapDtlsIsSupported,
  coapDtlsPkiIsSupported,
  coapTcpIsSupported,
  coapTlsIsSupported,
  coapWsIsSupported,
  coapWssIsSupported,
  defaultPortFor,
  newClientSession,
} from "../../edge-agent/src/api/index.js";
import { generateTestPki, loadCredentials, writeTestPki } from "../../edge-agent/src/pki/index.js";
import { CoapServer } from "../../edge-agent/src/server/index.js";
import { listenUnix } from "../../edge-agent/src/transport/unix.js";
import { UnixDgramEndpoint } from "../../edge-agent/src/transport/unix-dgram.js";
import { listenWs } from "../../edge-agent/src/transport/ws.js";
import { UdpEndpoint } from "../../edge-agent/src/transport/udp.js";
import { unixDgramIsSupported } from "../../edge-agent/src/transport/support.js";
import { findBinary, freeUdpPortPair, requireBinary, start, waitForUdp, type RunningProcess } from "../helpers/libcoap.js";

const text = (b: Uint8Array) => Buffer.from(b).toString("utf8");
const dir = mkdtempSync(join(tmpdir(), "api-libcoap-"));
const pki = generateTestPki({ devices: 1 });
writeTestPki(pki, dir);
const procs: RunningProcess[] = [];
const cleanups: Array<() => Promise<unknown>> = [];
let ctx: CoapContext;
let notlsPort = 0;
let opensslPort = 0;
let certPort = 0;

before(async () => {
  ctx = new CoapContext({ connectTimeoutMs: 5000, requestTimeoutMs: 5000 });
  ctx.setBlockMode(COAP_BLOCK_USE_LIBCOAP | COAP_BLOCK_SINGLE_BODY);
  const notls = findBinary("coap-server-notls");
  if (notls) {
    notlsPort = await freeUdpPortPair();
    procs.push(start(notls, ["-A", "127.0.0.1", "-p", String(notlsPort)]));
    await waitForUdp(notlsPort);
  }
  const openssl = findBinary("coap-server-openssl");
  if (openssl) {
    opensslPort = await freeUdpPortPair();
    procs.push(start(openssl, ["-A", "127.0.0.1", "-p", String(opensslPort), "-k", "ctx-key"]));
    certPort = await freeUdpPortPair();
    procs.push(start(openssl, ["-A", "127.0.0.1", "-p", String(certPort), "-c", join(dir, "server.crt"), "-j", join(dir, "server.key")]));
    await Promise.all([waitForUdp(opensslPort), waitForUdp(certPort)]);
  }
});
after(async () => {
  await ctx.free();
  for (const c of cleanups) await c();
  await Promise.all(procs.map((p) => p.stop()));
  rmSync(dir, { recursive: true, force: true });
});

/** Our CoapServer with /hello answering the transport it came in on. */
function helloServer(): CoapServer {
  const server = new CoapServer();
  server.addResource("/hello", { get: (req) => ({ code: "2.05", payload: `hello over ${req.scheme} from ${req.peer.address}:${req.peer.port}` }) });
  return server;
}

describe("coap_*_is_supported", () => {
  it("say what this build does (and the sessions below agree)", () => {
    assert.equal(coapDtlsIsSupported(), true);
    assert.equal(coapTcpIsSupported(), true);
    assert.equal(coapTlsIsSupported(), true);
    assert.equal(typeof coapWsIsSupported(), "boolean");
    assert.equal(coapWssIsSupported(), coapWsIsSupported() && coapTlsIsSupported());
    assert.equal(typeof coapAfUnixIsSupported(), "boolean");
  });
});

describe("coap_new_client_session", () => {
  it("COAP_PROTO_UDP to coap-server-notls: one body for a block-wise resource", async (t) => {
    if (!requireBinary(t, "coap-server-notls")) return;
    const s = await newClientSession(ctx, { server: { address: "127.0.0.1", port: notlsPort }, proto: "udp" }).connected();
    assert.equal(s.refCount, 1);
    assert.equal(s.server.port, notlsPort);
    const root = await s.request({ path: "/" });
    assert.equal(root.code, Code.Content);
    assert.match(text(root.payload), /libcoap/);
    const data = Uint8Array.from({ length: 4000 }, (_, i) => 65 + (i % 26));
    const put = await s.request({ method: "PUT", path: "example_data", payload: data, contentFormat: 0 });
    assert.ok(put.code === Code.Changed || put.code === Code.Created);
    assert.ok(put.messages > 1, "Block1");
    const got = await s.request({ path: "example_data", blockSize: 256 });
    assert.deepEqual(got.payload, data);
    assert.equal(got.messages, Math.ceil(4000 / 256));
    await s.release();
    assert.equal(s.state, "released");
  });

  it("COAP_PROTO_TCP to coap-server-notls", async (t) => {
    if (!requireBinary(t, "coap-server-notls")) return;
    const s = await newClientSession(ctx, { server: { address: "127.0.0.1", port: notlsPort }, proto: "tcp" }).connected();
    const r = await s.request({ path: "/" });
    assert.match(text(r.payload), /libcoap/);
    await s.release();
  });

  it("COAP_PROTO_DTLS without credentials is anonymous: encrypted, the server not verified", { skip: coapDtlsPkiIsSupported() ? false : "no ECDHE" }, async (t) => {
    if (!requireBinary(t, "coap-server-openssl")) return;
    const s = await newClientSession(ctx, { server: { address: "127.0.0.1", port: certPort + 1 }, proto: "dtls" }).connected();
    assert.match(s.dtlsSession?.cipherSuite.name ?? "", /ECDHE_ECDSA/);
    assert.equal(s.dtlsSession?.identity.kind, "none", "the server is not authenticated");
    assert.match(text((await s.request({ path: "/" })).payload), /libcoap/);
    await s.release();
  });

  it("COAP_PROTO_DTLS and COAP_PROTO_TLS use the context's PSK when the session has none", async (t) => {
    if (!requireBinary(t, "coap-server-openssl")) return;
    const c = new CoapContext({ connectTimeoutMs: 5000 });
    c.setBlockMode(COAP_BLOCK_USE_LIBCOAP);
    c.setPsk({ identity: "ctx", key: "ctx-key" });
    for (const proto of ["dtls", "tls"] as const) {
      const s = await newClientSession(c, { server: { address: "127.0.0.1", port: opensslPort + 1 }, proto }).connected();
      assert.match(text((await s.request({ path: "/" })).payload), /libcoap/, proto);
      if (proto === "dtls") assert.equal(s.dtlsSession?.pskIdentity, "ctx");
    }
    assert.equal(c.sessions().length, 2);
    await c.free();
    assert.equal(c.sessions().length, 0);
    await assert.rejects(async () => newClientSession(c, { server: { address: "127.0.0.1", port: opensslPort }, proto: "udp" }).connected(), (e) => e instanceof CoapSessionError && e.code === "released");
  });

  it("COAP_PROTO_WS and COAP_PROTO_WSS to our own CoapServer", { skip: coapWsIsSupported() ? false : "no ws" }, async () => {
    const server = helloServer();
    const ws = await listenWs({ address: "127.0.0.1", port: 0 }, server);
    const wss = await listenWs({ address: "127.0.0.1", port: 0, secure: true, certificate: loadCredentials(pki.server?.chainPem ?? "", pki.server?.keyPem ?? "") }, server);
    cleanups.push(() => ws.close(), () => wss.close());
    const s1 = await newClientSession(ctx, { server: { address: "127.0.0.1", port: ws.local.port }, proto: "ws" }).connected();
    assert.match(text((await s1.request({ path: "hello" })).payload), /hello over coap /);
    const s2 = await newClientSession(ctx, { server: { address: "127.0.0.1", port: wss.local.port }, proto: "wss" }).connected();
    assert.match(text((await s2.request({ path: "hello" })).payload), /hello over coaps /);
    await Promise.all([s1.release(), s2.release()]);
  });

  it("AF_UNIX datagram: a unique local path is required, bound, and removed on release", { skip: unixDgramIsSupported() ? false : "no unix-dgram" }, async () => {
    const serverPath = join(dir, "server.sock");
    const endpoint = await UnixDgramEndpoint.bind({ path: serverPath });
    const server = helloServer();
    server.attach(endpoint);
    cleanups.push(async () => {
      server.close();
      await endpoint.close();
    });
    await assert.rejects(async () => newClientSession(ctx, { server: { path: serverPath }, proto: "udp" }).connected(), (e) => e instanceof CoapSessionError && e.code === "bad-address");
    const localPath = join(dir, `client.${process.pid}`);
    const s = await newClientSession(ctx, { local: { path: localPath }, server: { path: serverPath }, proto: "udp" }).connected();
    assert.equal(existsSync(localPath), true);
    assert.equal(s.local?.address, localPath);
    const r = await s.request({ path: "hello" });
    assert.equal(text(r.payload), `hello over coap from ${localPath}:0`);
    await s.release();
    assert.equal(existsSync(localPath), false, "the unique local path is deleted when the session closes");
  });

  it("AF_UNIX stream (COAP_PROTO_TCP with a path)", async () => {
    const path = join(dir, "stream.sock");
    const listener = await listenUnix({ path }, helloServer());
    cleanups.push(() => listener.close());
    const s = await newClientSession(ctx, { server: { path }, proto: "tcp" }).connected();
    assert.match(text((await s.request({ path: "hello" })).payload), /^hello over coap/);
    await s.release();
  });

  it("local_if binds the source address and port", async () => {
    const server = helloServer();
    const udp = await UdpEndpoint.bind({ address: "127.0.0.1", port: 0 });
    server.attach(udp);
    cleanups.push(async () => {
      server.close();
      await udp.close();
    });
    const probe = await UdpEndpoint.bind({ address: "127.0.0.1", port: 0 });
    const localPort = probe.local.port;
    await probe.close();
    const s = await newClientSession(ctx, { local: { address: "127.0.0.1", port: localPort }, server: { address: "127.0.0.1", port: udp.local.port }, proto: "udp" }).connected();
    assert.equal(s.local?.port, localPort);
    assert.equal(text((await s.request({ path: "hello" })).payload), `hello over coap from 127.0.0.1:${localPort}`);
    // The port is now taken: a second session on it cannot bind.
    await assert.rejects(
      async () => newClientSession(ctx, { local: { address: "127.0.0.1", port: localPort }, server: { address: "127.0.0.1", port: udp.local.port }, proto: "udp" }).connected(),
      (e) => e instanceof CoapSessionError && e.code === "bind-failed",
    );
    await s.release();
  });

  it("port 0 in the server address is the protocol's default port", async () => {
    assert.deepEqual(
      (["udp", "dtls", "tcp", "tls", "ws", "wss"] as const).map(defaultPortFor),
      [5683, 5684, 5683, 5684, 80, 443],
    );
    const s = await newClientSession(ctx, { server: { address: "127.0.0.1", port: 0 }, proto: "udp" }).connected();
    assert.equal(s.server.port, 5683);
    await s.release();
    // A DTLS session to port 0 tries 5684 (nothing there in this test: the handshake fails naming it).
    const quick = new CoapContext({ connectTimeoutMs: 300 });
    quick.setPsk({ identity: "x", key: "y" });
    await assert.rejects(async () => newClientSession(quick, { server: { address: "127.0.0.2", port: 0 }, proto: "dtls" }).connected(), (e) => e instanceof CoapSessionError && e.code === "handshake-failed" && /:5684/.test(e.message));
  });

  it("typed failures: mixed address families, unknown hosts, refused connections", async () => {
    const bad = (code: string) => (e: unknown) => e instanceof CoapSessionError && e.code === code;
    await assert.rejects(async () => newClientSession(ctx, { local: { address: "::1", port: 0 }, server: { address: "127.0.0.1", port: 1 }, proto: "udp" }).connected(), bad("bad-address"));
    await assert.rejects(async () => newClientSession(ctx, { local: { path: "/tmp/x" }, server: { address: "127.0.0.1", port: 1 }, proto: "udp" }).connected(), bad("bad-address"));
    await assert.rejects(async () => newClientSession(ctx, { server: { address: "no-such-host.invalid", port: 1 }, proto: "udp" }).connected(), bad("bad-address"));
    await assert.rejects(async () => newClientSession(ctx, { server: { path: "/tmp/x" }, proto: "dtls" }).connected(), bad("not-supported"));
    const probe = await UdpEndpoint.bind({ address: "127.0.0.1", port: 0 }); // a port with no TCP listener, most likely
    const port = probe.local.port;
    await probe.close();
    await assert.rejects(async () => newClientSession(ctx, { server: { address: "127.0.0.1", port }, proto: "tcp" }).connected(), bad("connect-failed"));
  });
});
