// The stream layer between CoapServer / CoapClient and RFC 8323 connections, over in-memory
// channels: the same resource handlers as over UDP, block-wise and BERT (§6) both ways,
// errors as responses (no RST), connection loss failing pending requests.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  Code,
  OptionNumber,
  bertBlockOption,
  csmMessage,
  decodeBlockAllowingBert,
  decodeStreamMessage,
  encodeStreamMessage,
  stringOption,
  uintOption,
  type StreamMessage,
} from "@coaps-edge/shared";
import { CoapClient } from "../../../edge-agent/src/client/index.js";
import { memoryChannelPair, type StreamChannel } from "../../../edge-agent/src/coap/stream/channel.js";
import { FrameReader } from "../../../edge-agent/src/coap/stream/frame-reader.js";
import { StreamLayer } from "../../../edge-agent/src/coap/stream/stream-layer.js";
import { CoapServer, demoLargeBody, registerDemoResources, type CoapRequest } from "../../../edge-agent/src/server/index.js";
import { flush } from "../coap-kit.js";

const BODY = demoLargeBody(64 * 1024);

function serverWith(seen: CoapRequest[] = []): CoapServer {
  const server = new CoapServer();
  registerDemoResources(server);
  server.addResource("/big", {
    get: (r) => (seen.push(r), { code: Code.Content, payload: BODY }),
    put: (r) => (seen.push(r), { code: Code.Changed, payload: `${r.payload.length} ${Buffer.compare(Buffer.from(r.payload), Buffer.from(BODY)) === 0 ? "same" : "differ"}` }),
  });
  return server;
}

const local = { address: "127.0.0.1", port: 5683, family: "IPv4" as const };

/** A server layer and a client layer joined by an in-memory channel pair. */
async function pair(opts: { serverMms?: number; clientMms?: number; clientBwt?: boolean } = {}) {
  const seen: CoapRequest[] = [];
  const server = serverWith(seen);
  const serverLayer = new StreamLayer({ transport: "tcp", scheme: "coap", local, connection: { maxMessageSize: opts.serverMms } });
  server.attachLayer(serverLayer);
  const clientLayer = new StreamLayer({
    transport: "tcp",
    scheme: "coap",
    local: { address: "127.0.0.1", port: 40001, family: "IPv4" },
    connection: { maxMessageSize: opts.clientMms, blockWiseTransfer: opts.clientBwt },
  });
  const [c, s] = memoryChannelPair();
  serverLayer.addChannel(s);
  const conn = clientLayer.addChannel(c);
  await conn.ready;
  const client = new CoapClient({ layer: clientLayer, timeoutMs: 5000 });
  const base = "coap://127.0.0.1:5683";
  return { server, serverLayer, clientLayer, client, conn, base, seen };
}

describe("StreamLayer: server and client over one connection", () => {
  it("serves the same handlers as UDP: GET /hello, PUT /echo, /.well-known/core", async () => {
    const { client, base, serverLayer } = await pair();
    const hello = await client.get(`${base}/hello`);
    assert.equal(hello.codeText, "2.05");
    assert.equal(Buffer.from(hello.payload).toString(), "Hello from coaps-edge");
    const echo = await client.put(`${base}/echo`, "over tcp", { contentFormat: 0 });
    assert.equal(echo.codeText, "2.04");
    assert.equal(Buffer.from(echo.payload).toString(), "over tcp");
    const core = await client.get(`${base}/.well-known/core`);
    assert.match(Buffer.from(core.payload).toString(), /<\/hello>/);
    assert.equal(serverLayer.streamStats.requests, 3);
    assert.equal(serverLayer.outstanding, 0);
  });

  it("64 KiB GET in one message when both Max-Message-Sizes allow it", async () => {
    const { client, base } = await pair();
    const r = await client.get(`${base}/big`);
    assert.equal(r.messages, 1);
    assert.deepEqual(Buffer.from(r.payload), Buffer.from(BODY));
  });

  it("64 KiB GET as BERT when a small Max-Message-Size forces block-wise and both sides announced it", async () => {
    const { client, base, serverLayer, seen } = await pair({ serverMms: 8448 });
    const r = await client.get(`${base}/big`);
    assert.deepEqual(Buffer.from(r.payload), Buffer.from(BODY));
    // 8 KiB BERT messages: 8 requests instead of 64, the handler ran once (later blocks from the cache).
    assert.ok(r.messages <= 9, `messages ${r.messages}`);
    assert.ok(serverLayer.streamStats.bertResponses >= 7);
    assert.equal(seen.length, 1);
  });

  it("64 KiB GET in 1024-byte blocks when the client did not announce Block-Wise-Transfer (no BERT)", async () => {
    const { client, base, serverLayer } = await pair({ serverMms: 8448, clientBwt: false });
    const r = await client.get(`${base}/big`);
    assert.deepEqual(Buffer.from(r.payload), Buffer.from(BODY));
    assert.equal(r.messages, 64);
    assert.equal(serverLayer.streamStats.bertResponses, 0);
  });

  it("64 KiB PUT in 1024-byte blocks joined into BERT messages up to the Max-Message-Size", async () => {
    const { client, base, seen, clientLayer, serverLayer } = await pair({ serverMms: 8448 });
    const r = await client.put(`${base}/big`, BODY, { blockSize: 1024 });
    assert.equal(r.codeText, "2.04");
    assert.equal(Buffer.from(r.payload).toString(), "65536 same");
    assert.equal(r.messages, 64); // blocks the client produced
    const sent = clientLayer.streamStats.bertUploadsSent;
    assert.ok(sent >= 8 && sent <= 10, `BERT messages on the wire: ${sent}`);
    assert.equal(serverLayer.streamStats.bertUploads, sent);
    assert.equal(seen.length, 1);
  });

  it("64 KiB PUT in plain 1024-byte blocks when the server did not announce Block-Wise-Transfer", async () => {
    const { client, base, seen, clientLayer } = await pair();
    clientLayer.connections[0]!.peerBlockWiseTransfer = false;
    const r = await client.put(`${base}/big`, BODY, { blockSize: 1024 });
    assert.equal(Buffer.from(r.payload).toString(), "65536 same");
    assert.equal(clientLayer.streamStats.bertUploadsSent, 0);
    assert.equal(seen.length, 1);
  });

  it("an unknown critical option is answered 4.02 (there is no RST over TCP)", async () => {
    const { client, base } = await pair();
    const r = await client.get(`${base}/hello`, { options: [{ number: 9999, value: new Uint8Array(0) }] });
    assert.equal(r.codeText, "4.02");
  });

  it("a request in flight fails with 'closed' when the connection goes", async () => {
    const { client, base, server, conn } = await pair();
    server.addResource("/never", { get: () => new Promise(() => {}) });
    const p = client.get(`${base}/never`);
    await flush(2);
    conn.channel.destroy();
    await assert.rejects(p, (e: Error & { code?: string }) => e.code === "closed");
  });

  it("Ping/Pong through the layer's connection", async () => {
    const { conn } = await pair();
    assert.ok((await conn.ping()) >= 0);
  });
});

describe("StreamLayer: BERT uploads from an independent peer", () => {
  it("a BERT Block1 PUT of 3 × 1024 then a final block: 2.31 echoes Block1 NUM/BERT, the handler gets the whole body", async () => {
    const seen: CoapRequest[] = [];
    const server = serverWith(seen);
    const layer = new StreamLayer({ transport: "tcp", scheme: "coap", local });
    server.attachLayer(layer);
    const [raw, s] = memoryChannelPair();
    layer.addChannel(s);
    const got: StreamMessage[] = [];
    const reader = new FrameReader(1 << 20);
    (raw as StreamChannel).onData = (b) => {
      for (const f of reader.push(b)) got.push(decodeStreamMessage(f));
    };
    const send = (m: StreamMessage): void => raw.send(encodeStreamMessage(m));
    send(csmMessage({ maxMessageSize: 1 << 20, blockWiseTransfer: true }));
    const path = [stringOption(OptionNumber.UriPath, "big")];
    const body = BODY.subarray(0, 4096 + 100);
    send({ code: 3, token: Uint8Array.of(1), options: [...path, bertBlockOption(OptionNumber.Block1, { num: 0, more: true, szx: 7 }), uintOption(OptionNumber.Size1, body.length)], payload: body.subarray(0, 3072) });
    await flush(3);
    const cont = got.at(-1) as StreamMessage;
    assert.equal(cont.code, Code.Continue);
    assert.deepEqual(decodeBlockAllowingBert(cont.options.find((o) => o.number === OptionNumber.Block1)!.value), { num: 0, more: true, szx: 7 });
    send({ code: 3, token: Uint8Array.of(2), options: [...path, bertBlockOption(OptionNumber.Block1, { num: 3, more: false, szx: 7 })], payload: body.subarray(3072) });
    await flush(3);
    const done = got.at(-1) as StreamMessage;
    assert.equal(done.code, Code.Changed);
    assert.deepEqual(decodeBlockAllowingBert(done.options.find((o) => o.number === OptionNumber.Block1)!.value), { num: 3, more: false, szx: 7 });
    assert.equal(seen.length, 1);
    assert.equal(seen[0]?.payload.length, body.length);
    assert.equal(layer.streamStats.bertUploads, 2);
  });

  it("a non-final BERT block that is not a multiple of 1024 bytes → 4.00", async () => {
    const server = serverWith();
    const layer = new StreamLayer({ transport: "tcp", scheme: "coap", local });
    server.attachLayer(layer);
    const [raw, s] = memoryChannelPair();
    layer.addChannel(s);
    const got: StreamMessage[] = [];
    raw.onData = (b) => got.push(decodeStreamMessage(b));
    raw.send(encodeStreamMessage(csmMessage({ blockWiseTransfer: true })));
    raw.send(encodeStreamMessage({ code: 3, token: Uint8Array.of(1), options: [stringOption(OptionNumber.UriPath, "big"), bertBlockOption(OptionNumber.Block1, { num: 0, more: true, szx: 7 })], payload: new Uint8Array(1500) }));
    await flush(3);
    assert.equal(got.at(-1)?.code, Code.BadRequest);
  });
});
