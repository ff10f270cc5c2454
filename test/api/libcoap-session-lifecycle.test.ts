/**
 * Parity rows "coap_session_set_mtu / coap_session_max_pdu_size", "coap_session_release" and
 * "block mode USE_LIBCOAP + SINGLE_BODY", plus context- vs session-level settings (block mode,
 * transmission parameters). Peers: our CoapServer over UDP, CoapSecure over DTLS, and a silent
 * UDP socket that counts what arrives.
 */
import assert from "node:assert/strict";
import dgram from "node:dgram";
import { after, before, describe, it } from "node:test";
import { Code, OptionNumber, getBlock } from "@coaps-edge/shared";
import {
  COAP_BLOCK_SINGLE_BODY,
  COAP_BLOCK_USE_LIBCOAP,
  COAP_DEFAULT_MTU,
  CoapContext,
  CoapSecure,
  CoapSessionError,
  newClientSession,
  newClientSessionPsk,
} from "../../edge-agent/src/api/index.js";
import { CoapClientError } from "../../edge-agent/src/client/index.js";
import { CoapServer } from "../../edge-agent/src/server/index.js";
import type { DatagramEndpoint, DatagramHandler } from "../../edge-agent/src/transport/types.js";
import { UdpEndpoint } from "../../edge-agent/src/transport/udp.js";
import { EventLog, IDENTITY, PSK, sleep } from "./helpers.js";

/** Records the size of every datagram the server receives. */
class Recorder implements DatagramEndpoint {
  readonly scheme = "coap" as const;
  onDatagram: DatagramHandler = () => {};
  readonly sizes: number[] = [];
  constructor(readonly inner: UdpEndpoint) {
    inner.onDatagram = (d, p, i) => {
      this.sizes.push(d.length);
      this.onDatagram(d, p, i);
    };
  }
  get local() {
    return this.inner.local;
  }
  send(peer: Parameters<DatagramEndpoint["send"]>[0], data: Uint8Array): void {
    this.inner.send(peer, data);
  }
  maxMessageSize(): number {
    return this.inner.maxMessageSize();
  }
  close(): Promise<void> {
    return this.inner.close();
  }
}

const big = Uint8Array.from({ length: 3000 }, (_, i) => (i * 7) & 0xff);
let ctx: CoapContext;
let server: CoapServer;
let recorder: Recorder;
let stored = new Uint8Array(0);
let dtlsServer: CoapSecure;
const serverLog = new EventLog();
const udpTarget = () => ({ server: { address: "127.0.0.1", port: recorder.local.port }, proto: "udp" as const });
const dtlsTarget = () => ({ server: { address: "127.0.0.1", port: dtlsServer.local?.port ?? 0 }, proto: "dtls" as const });

before(async () => {
  ctx = new CoapContext({ connectTimeoutMs: 3000, requestTimeoutMs: 5000 });
  ctx.setBlockMode(COAP_BLOCK_USE_LIBCOAP | COAP_BLOCK_SINGLE_BODY);
  server = new CoapServer();
  server.addResource("/big", {
    get: () => ({ code: "2.05", payload: big }),
    put: (req) => {
      stored = Uint8Array.from(req.payload);
      return { code: "2.04" };
    },
  });
  server.addResource("/slow", { get: () => new Promise((resolve) => setTimeout(() => resolve({ code: "2.05" }), 400)) });
  recorder = new Recorder(await UdpEndpoint.bind({ address: "127.0.0.1", port: 0 }));
  server.attach(recorder);
  dtlsServer = new CoapSecure({ address: "127.0.0.1", guardTimeMs: 20 });
  dtlsServer.setPsk(PSK, IDENTITY);
  dtlsServer.setClientConnectedCallback(serverLog.handler);
  dtlsServer.addResource({ uriPath: "store", handler: (req, info) => dtlsServer.sendResponse({ code: "2.04", payload: String(req.payload.length) }, info) });
  await dtlsServer.start(0);
});
after(async () => {
  await ctx.free();
  server.close();
  await recorder.close();
  await dtlsServer.stop();
});

describe("coap_session_set_mtu / coap_session_max_pdu_size", () => {
  it("UDP: the max PDU is the MTU (default 1152); a smaller MTU makes smaller blocks", async () => {
    const s = await newClientSession(ctx, udpTarget()).connected();
    assert.equal(COAP_DEFAULT_MTU, 1152);
    assert.equal(s.mtu, 1152);
    assert.equal(s.maxPduSize(), 1152);
    s.setMtu(300);
    assert.equal(s.maxPduSize(), 300);
    recorder.sizes.length = 0;
    const put = await s.request({ method: "PUT", path: "big", payload: big });
    assert.equal(put.code, Code.Changed);
    assert.deepEqual(stored, big);
    assert.ok(recorder.sizes.length >= Math.ceil(3000 / 256));
    assert.ok(Math.max(...recorder.sizes) <= 300, `largest datagram ${Math.max(...recorder.sizes)}`);
    const got = await s.request({ path: "big" });
    assert.deepEqual(got.payload, big);
    assert.throws(() => s.setMtu(10), RangeError);
    await s.release();
  });

  it("DTLS: the max PDU is the MTU less the record overhead (29 bytes with CCM_8)", async () => {
    const s = await newClientSessionPsk(ctx, dtlsTarget(), { identity: IDENTITY, key: PSK }).connected();
    assert.equal(s.maxPduSize(), 1152 - 29);
    s.setMtu(400);
    assert.equal(s.maxPduSize(), 400 - 29);
    const r = await s.request({ method: "POST", path: "store", payload: big });
    assert.equal(Buffer.from(r.payload).toString(), "3000");
    assert.ok(r.messages >= Math.ceil(3000 / 256));
    await s.release();
  });

  it("reliable transports: the MTU less the RFC 8323 length bytes (libcoap's formula)", async () => {
    const { CoapSession } = await import("../../edge-agent/src/api/index.js");
    const s = new CoapSession(ctx, "tcp", { address: "127.0.0.1", port: 1, family: "IPv4" }, 1152, 0, {});
    assert.equal(s.maxPduSize(), 1148);
    s.setMtu(200);
    assert.equal(s.maxPduSize(), 197);
  });
});

describe("coap_session_reference / coap_session_release", () => {
  it("counts references; at 0 the DTLS session sends close_notify and is gone", async () => {
    const s = await newClientSessionPsk(ctx, dtlsTarget(), { identity: IDENTITY, key: PSK }).connected();
    await serverLog.next((e) => e.event === "Connected");
    assert.equal(s.refCount, 1);
    assert.equal(s.reference(), s);
    assert.equal(s.refCount, 2);
    assert.ok(ctx.sessions().includes(s));
    await s.release();
    assert.equal(s.refCount, 1);
    assert.equal(s.state, "established");
    assert.equal((await s.request({ method: "POST", path: "store", payload: "x" })).code, Code.Changed);
    await s.release();
    assert.equal(s.refCount, 0);
    assert.equal(s.state, "released");
    assert.equal(ctx.sessions().includes(s), false);
    const down = await serverLog.next((e) => e.event !== "Connected");
    assert.equal(down.event, "DisconnectedPeerClosed", "the server got our close_notify");
    await assert.rejects(s.request({ path: "store" }), (e) => e instanceof CoapSessionError && e.code === "released");
    assert.throws(() => s.reference(), (e) => e instanceof CoapSessionError && e.code === "released");
    await s.release(); // past 0: a no-op
  });

  it("a request in flight when the last reference goes fails with closed", async () => {
    const s = await newClientSession(ctx, udpTarget()).connected();
    const pending = s.request({ path: "slow" });
    // The rejection comes while release() runs: watch for it before, or it is unhandled for a tick.
    const failed = assert.rejects(pending, (e) => e instanceof CoapClientError && e.code === "closed");
    await sleep(50);
    await s.release();
    await failed;
  });

  it("coap_free_context closes every session whatever its count", async () => {
    const c = new CoapContext();
    const a = await newClientSession(c, udpTarget()).connected();
    const b = await newClientSession(c, udpTarget()).connected();
    b.reference();
    await c.free();
    assert.equal(a.state, "released");
    assert.equal(b.state, "released");
  });
});

describe("block mode and context- vs session-level settings", () => {
  it("without COAP_BLOCK_USE_LIBCOAP a request is one message and the response comes as it is", async () => {
    const raw = new CoapContext({ requestTimeoutMs: 3000 });
    const s = await newClientSession(raw, udpTarget()).connected();
    assert.equal(s.blockMode, 0);
    const first = await s.request({ path: "big" });
    assert.equal(first.messages, 1);
    const b2 = getBlock({ type: 0, code: 0, messageId: 0, token: new Uint8Array(0), options: first.options, payload: first.payload }, OptionNumber.Block2);
    assert.equal(b2?.num, 0);
    assert.equal(b2?.more, true);
    assert.ok(first.payload.length < big.length);
    await assert.rejects(s.request({ method: "PUT", path: "big", payload: big }), (e) => e instanceof CoapClientError && e.code === "bad-request");
    // A session-level block mode overrides the context's.
    const joined = await newClientSession(raw, { ...udpTarget(), blockMode: COAP_BLOCK_USE_LIBCOAP | COAP_BLOCK_SINGLE_BODY }).connected();
    assert.deepEqual((await joined.request({ path: "big" })).payload, big);
    await raw.free();
  });

  it("transmission parameters: the context's, unless the session sets its own", async () => {
    const silent = dgram.createSocket("udp4");
    let received = 0;
    silent.on("message", () => received++);
    await new Promise<void>((resolve) => silent.bind(0, "127.0.0.1", () => resolve()));
    const port = silent.address().port;
    try {
      const c = new CoapContext();
      c.setBlockMode(COAP_BLOCK_USE_LIBCOAP);
      c.setTransmission({ ackTimeoutMs: 60, ackRandomFactor: 1, maxRetransmit: 1 });
      const ctxLevel = await newClientSession(c, { server: { address: "127.0.0.1", port }, proto: "udp" }).connected();
      await assert.rejects(ctxLevel.request({ path: "x" }), (e) => e instanceof CoapClientError && e.code === "timeout");
      await sleep(30);
      assert.equal(received, 2, "1 transmission + MAX_RETRANSMIT 1");
      received = 0;
      const own = await newClientSession(c, { server: { address: "127.0.0.1", port }, proto: "udp", transmission: { maxRetransmit: 3 } }).connected();
      await assert.rejects(own.request({ path: "x" }), (e) => e instanceof CoapClientError && e.code === "timeout");
      await sleep(30);
      assert.equal(received, 4, "the session's MAX_RETRANSMIT 3, the context's ACK_TIMEOUT");
      await c.free();
    } finally {
      silent.close();
    }
  });
});
