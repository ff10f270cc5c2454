// The *_is_supported answers against what actually works here, and hostile bytes thrown at a
// stream listener's connections: never an exception, every bad connection aborted, the
// server still answering a well-behaved client afterwards.
import assert from "node:assert/strict";
import { getCiphers } from "node:crypto";
import { describe, it } from "node:test";
import fc from "fast-check";
import { csmMessage, encodeStreamMessage } from "@coaps-edge/shared";
import { CoapClient } from "../../../edge-agent/src/client/index.js";
import { memoryChannelPair } from "../../../edge-agent/src/coap/stream/channel.js";
import { StreamLayer } from "../../../edge-agent/src/coap/stream/stream-layer.js";
import { CoapServer, registerDemoResources } from "../../../edge-agent/src/server/index.js";
import {
  dtlsIsSupported,
  tcpIsSupported,
  tlsIsSupported,
  transportSupport,
  unixDgramIsSupported,
  unixStreamIsSupported,
  wsIsSupported,
  wssIsSupported,
} from "../../../edge-agent/src/transport/support.js";
import { listenTcp } from "../../../edge-agent/src/transport/tcp.js";
import { UnixDgramEndpoint } from "../../../edge-agent/src/transport/unix-dgram.js";
import { flush } from "../coap-kit.js";

describe("transport support checks", () => {
  it("TCP and TLS: supported, and a TCP listener really binds", async () => {
    assert.equal(tcpIsSupported(), true);
    assert.equal(tlsIsSupported(), true);
    const l = await listenTcp({ port: 0 });
    assert.ok(l.local.port > 0);
    await l.close();
  });
  it("DTLS follows AES-128-CCM in node:crypto; WS/WSS follow the ws package", async () => {
    assert.equal(dtlsIsSupported(), getCiphers().includes("aes-128-ccm"));
    let ws = true;
    try {
      await import("ws");
    } catch {
      ws = false;
    }
    assert.equal(wsIsSupported(), ws);
    assert.equal(wssIsSupported(), ws);
  });
  it("Unix datagrams: supported exactly when a datagram socket can be bound", async () => {
    const bound = await UnixDgramEndpoint.bind().then(
      async (ep) => (await ep.close(), true),
      () => false,
    );
    assert.equal(unixDgramIsSupported(), bound);
    assert.equal(unixStreamIsSupported(), process.platform !== "win32");
    assert.equal(transportSupport().unixDgram, bound);
  });
});

describe("hostile bytes on stream connections", () => {
  it("random frames after a CSM: no exception escapes, the listener keeps serving", async () => {
    const server = new CoapServer();
    registerDemoResources(server);
    const layer = new StreamLayer({ transport: "tcp", scheme: "coap", local: { address: "127.0.0.1", port: 5683, family: "IPv4" } });
    server.attachLayer(layer);
    const csm = encodeStreamMessage(csmMessage({ blockWiseTransfer: true }));
    let port = 41000;
    await fc.assert(
      fc.asyncProperty(fc.array(fc.uint8Array({ maxLength: 40 }), { minLength: 1, maxLength: 6 }), fc.boolean(), async (chunks, withCsm) => {
        const [raw, s] = memoryChannelPair({ clientAddress: { address: "10.0.0.1", port: port++, family: "IPv4" } });
        layer.addChannel(s);
        if (withCsm) raw.send(csm);
        for (const c of chunks) raw.send(c);
        await flush(1);
        raw.destroy();
      }),
      { numRuns: 300 },
    );
    await flush(2);
    assert.equal(layer.stats.internalErrors, 0);
    assert.equal(layer.connections.length, 0);
    // A good client still gets answers.
    const client = new CoapClient({ layer: await goodClient(layer), timeoutMs: 2000 });
    const r = await client.get("coap://127.0.0.1:5683/hello");
    assert.equal(r.codeText, "2.05");
  });
});

async function goodClient(serverLayer: StreamLayer): Promise<StreamLayer> {
  const cl = new StreamLayer({ transport: "tcp", scheme: "coap", local: { address: "127.0.0.1", port: 40001, family: "IPv4" } });
  const [c, s] = memoryChannelPair();
  serverLayer.addChannel(s);
  await cl.addChannel(c).ready;
  return cl;
}
