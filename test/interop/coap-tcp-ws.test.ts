/**
 * CoAP over WebSockets (RFC 8323 §4). libcoap 4.3.1 has no WebSocket support, so the second,
 * independent peer is a minimal client written here from RFC 6455 (handshake, masked binary
 * frames) and RFC 8323 §4 (subprotocol "coap", /.well-known/coap, Len = 0), sending
 * hand-assembled bytes — it shares no code with the agent's codec or the `ws` package.
 * Then our own client over coap+ws and coaps+ws (certificates, PSK), 64 KiB as BERT.
 */
import assert from "node:assert/strict";
import { createHash, randomBytes } from "node:crypto";
import net from "node:net";
import { after, before, describe, it } from "node:test";
import { Code } from "@coaps-edge/shared";
import { CoapClient } from "../../edge-agent/src/client/index.js";
import { transportLayerFactory } from "../../edge-agent/src/coap/stream/client-factory.js";
import type { StreamLayer } from "../../edge-agent/src/coap/stream/stream-layer.js";
import { generateTestPki, loadCredentials, loadTrustStore, type TestPki } from "../../edge-agent/src/pki/index.js";
import { CoapServer, DEMO_HELLO_TEXT, demoLargeBody, registerDemoResources, type CoapRequest } from "../../edge-agent/src/server/index.js";
import type { StreamListener } from "../../edge-agent/src/transport/stream-socket.js";
import { wsIsSupported, wssIsSupported } from "../../edge-agent/src/transport/support.js";
import { listenWs } from "../../edge-agent/src/transport/ws.js";

const BODY = demoLargeBody(64 * 1024);
const GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"; // RFC 6455 §1.3

/** An RFC 6455 client connection: the handshake, then whole binary messages in and out. */
class TinyWebSocket {
  readonly messages: Buffer[] = [];
  #buf = Buffer.alloc(0);
  #waiters: Array<() => void> = [];
  constructor(readonly socket: net.Socket) {
    socket.on("data", (d: Buffer) => {
      this.#buf = Buffer.concat([this.#buf, d]);
      this.#parse();
    });
  }

  static async open(port: number, protocol: string | undefined): Promise<{ ws?: TinyWebSocket; status: number; headers: Record<string, string> }> {
    const socket = net.connect(port, "127.0.0.1");
    await new Promise<void>((r, j) => socket.once("connect", r).once("error", j));
    const key = randomBytes(16).toString("base64");
    socket.write(
      `GET /.well-known/coap HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
        `Sec-WebSocket-Key: ${key}\r\nSec-WebSocket-Version: 13\r\n${protocol ? `Sec-WebSocket-Protocol: ${protocol}\r\n` : ""}\r\n`,
    );
    let head = Buffer.alloc(0);
    while (!head.includes("\r\n\r\n")) {
      const chunk = await new Promise<Buffer | undefined>((r) => {
        socket.once("data", r);
        socket.once("close", () => r(undefined));
      });
      if (!chunk) break;
      head = Buffer.concat([head, chunk]);
    }
    const end = head.indexOf("\r\n\r\n");
    const lines = head.subarray(0, end < 0 ? head.length : end).toString().split("\r\n");
    const status = Number(lines[0]?.split(" ")[1]);
    const headers: Record<string, string> = {};
    for (const l of lines.slice(1)) headers[l.slice(0, l.indexOf(":")).toLowerCase()] = l.slice(l.indexOf(":") + 1).trim();
    if (status !== 101) {
      socket.destroy();
      return { status, headers };
    }
    assert.equal(headers["sec-websocket-accept"], createHash("sha1").update(key + GUID).digest("base64"));
    socket.removeAllListeners("data");
    const ws = new TinyWebSocket(socket);
    if (end + 4 < head.length) socket.emit("data", head.subarray(end + 4));
    return { ws, status, headers };
  }

  /** One masked binary frame (RFC 6455 §5.2: client frames MUST be masked). */
  send(payload: Buffer): void {
    const mask = randomBytes(4);
    const len = payload.length;
    const head = len < 126 ? Buffer.from([0x82, 0x80 | len]) : Buffer.from([0x82, 0x80 | 126, len >> 8, len & 0xff]);
    const body = Buffer.from(payload.map((b, i) => b ^ (mask[i % 4] as number)));
    this.socket.write(Buffer.concat([head, mask, body]));
  }

  async next(): Promise<Buffer> {
    while (this.messages.length === 0) await new Promise<void>((r) => this.#waiters.push(r));
    return this.messages.shift() as Buffer;
  }

  #parse(): void {
    for (;;) {
      const b = this.#buf;
      if (b.length < 2) return;
      const opcode = (b[0] as number) & 0x0f;
      let len = (b[1] as number) & 0x7f;
      let off = 2;
      if (len === 126) {
        if (b.length < 4) return;
        len = b.readUInt16BE(2);
        off = 4;
      } else if (len === 127) {
        if (b.length < 10) return;
        len = Number(b.readBigUInt64BE(2));
        off = 10;
      }
      if (b.length < off + len) return;
      if (opcode === 2) this.messages.push(b.subarray(off, off + len)); // server frames are unmasked
      this.#buf = b.subarray(off + len);
      for (const w of this.#waiters.splice(0)) w();
    }
  }
}

describe("coap+ws: our listener ← an independent RFC 6455 / RFC 8323 client", () => {
  const seen: CoapRequest[] = [];
  const server = new CoapServer();
  registerDemoResources(server);
  server.addResource("/big", { get: (r) => (seen.push(r), { code: Code.Content, payload: BODY }), put: (r) => ({ code: Code.Changed, payload: String(r.payload.length) }) });
  let ws: StreamListener;

  before(async () => {
    assert.ok(wsIsSupported(), "ws is a dependency of the edge agent");
    ws = await listenWs({ port: 0 }, server);
  });
  after(async () => {
    await ws?.close();
    server.close();
  });

  it("handshake with subprotocol coap; CSM first; GET /hello with Len = 0 framing", async () => {
    const { ws: c, status, headers } = await TinyWebSocket.open(ws.local.port, "coap");
    assert.equal(status, 101);
    assert.equal(headers["sec-websocket-protocol"], "coap");
    assert.ok(c);
    // CSM: Len 0, TKL 0, code 7.01, Max-Message-Size (opt 2) = 1152, Block-Wise-Transfer (opt 4)
    c.send(Buffer.from("00e122048020", "hex"));
    // GET: Len 0, TKL 1, code 0.01, token aa, Uri-Path (opt 11) "hello"
    c.send(Buffer.concat([Buffer.from("0101aab5", "hex"), Buffer.from("hello")]));
    const csm = await c.next();
    assert.equal((csm[0] as number) >> 4, 0, "Len must be 0 over WebSockets");
    assert.equal(csm[1], 0xe1, "the server's first message is a CSM");
    const res = await c.next();
    assert.equal((res[0] as number) >> 4, 0);
    assert.equal((res[0] as number) & 0x0f, 1); // TKL 1
    assert.equal(res[1], 0x45); // 2.05
    assert.equal(res[2], 0xaa); // our token
    const marker = res.indexOf(0xff, 3);
    assert.equal(res.subarray(marker + 1).toString(), DEMO_HELLO_TEXT);
    assert.equal(seen.length, 0);
    c.socket.destroy();
  });

  it("a request first (no CSM) is answered with Abort (7.05) and the close", async () => {
    const { ws: c } = await TinyWebSocket.open(ws.local.port, "coap");
    assert.ok(c);
    c.send(Buffer.concat([Buffer.from("0101aab5", "hex"), Buffer.from("hello")]));
    await c.next(); // the server's CSM
    const abort = await c.next();
    assert.equal(abort[1], 0xe5);
    c.socket.destroy();
  });

  it("without the coap subprotocol the upgrade is refused", async () => {
    const { status } = await TinyWebSocket.open(ws.local.port, undefined);
    assert.notEqual(status, 101);
    const other = await TinyWebSocket.open(ws.local.port, "mqtt");
    assert.notEqual(other.status, 101);
  });
});

describe("coap+ws / coaps+ws: our client → our listener", () => {
  let pki: TestPki;
  const seen: CoapRequest[] = [];
  const server = new CoapServer();
  registerDemoResources(server);
  server.addResource("/big", { get: () => ({ code: Code.Content, payload: BODY }), put: (r) => (seen.push(r), { code: Code.Changed, payload: String(r.payload.length) }) });
  server.addResource("/whoami", { get: (r) => ({ code: Code.Content, payload: `${r.scheme} ${r.identity.kind}:${r.identity.identity ?? ""}` }) });
  const listeners: StreamListener[] = [];
  let plain: StreamListener;
  let secure: StreamListener;
  let psk: StreamListener;

  before(async () => {
    assert.ok(wssIsSupported(), "ws and node:tls are available");
    pki = generateTestPki({ devices: ["device-001"] });
    plain = await listenWs({ port: 0, connection: { maxMessageSize: 8448 } }, server);
    secure = await listenWs({ port: 0, secure: true, certificate: loadCredentials(pki.server!.chainPem, pki.server!.keyPem), trust: loadTrustStore(pki.ca.cert.pem) }, server);
    psk = await listenWs({ port: 0, secure: true, psk: { hint: "CoAP", lookup: (id) => (id === "dev" ? Buffer.from("k3y") : undefined) } }, server);
    listeners.push(plain, secure, psk);
  });
  after(async () => {
    for (const l of listeners) await l.close();
    server.close();
  });

  it("coap+ws: 64 KiB GET as BERT and PUT in blocks", async (t) => {
    const client = new CoapClient({ layerFactory: transportLayerFactory(), timeoutMs: 10_000 });
    t.after(() => client.close());
    const url = `coap+ws://127.0.0.1:${plain.local.port}/big`;
    const get = await client.get(url);
    assert.deepEqual(Buffer.from(get.payload), Buffer.from(BODY));
    assert.ok((client.layers[0] as StreamLayer).streamStats.bertReceived > 0);
    const put = await client.put(url, BODY);
    assert.equal(Buffer.from(put.payload).toString(), "65536");
    assert.ok(put.messages > 1);
  });

  it("coaps+ws with certificates both ways: the handler sees coaps and the device CN", async (t) => {
    const client = new CoapClient({
      layerFactory: transportLayerFactory({ tls: { certificate: loadCredentials(pki.devices[0]!.chainPem, pki.devices[0]!.keyPem), trust: loadTrustStore(pki.ca.cert.pem) } }),
      timeoutMs: 10_000,
    });
    t.after(() => client.close());
    const r = await client.get(`coaps+ws://127.0.0.1:${secure.local.port}/whoami`);
    assert.equal(Buffer.from(r.payload).toString(), "coaps x509:device-001");
    assert.equal(r.identity.identity, "localhost");
  });

  it("coaps+ws with PSK", async (t) => {
    const client = new CoapClient({ layerFactory: transportLayerFactory({ tls: { psk: { identity: "dev", key: Buffer.from("k3y") } } }), timeoutMs: 10_000 });
    t.after(() => client.close());
    const r = await client.get(`coaps+ws://127.0.0.1:${psk.local.port}/whoami`);
    assert.equal(Buffer.from(r.payload).toString(), "coaps psk:dev");
  });
});
