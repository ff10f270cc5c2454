/**
 * Unix-domain sockets (libcoap 4.3.1 has no AF_UNIX support, so the peers are our client and
 * an independent raw-socket client sending hand-assembled RFC 8323 bytes):
 *   stream sockets with TCP framing (coap+tcp://%2Fpath…): round trip, socket file gone after close;
 *   datagram sockets (coap://%2Fpath…, the optional unix-dgram module): round trip over the
 *   UDP message layer, the client's unique path and the server's path gone after close.
 */
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import net from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { Code } from "@coaps-edge/shared";
import { CoapClient } from "../../edge-agent/src/client/index.js";
import { transportLayerFactory } from "../../edge-agent/src/coap/stream/client-factory.js";
import { CoapServer, DEMO_HELLO_TEXT, registerDemoResources } from "../../edge-agent/src/server/index.js";
import { unixDgramIsSupported, unixStreamIsSupported } from "../../edge-agent/src/transport/support.js";
import { UnixDgramEndpoint } from "../../edge-agent/src/transport/unix-dgram.js";
import { listenUnix } from "../../edge-agent/src/transport/unix.js";

const uri = (scheme: string, path: string, resource: string): string => `${scheme}://${encodeURIComponent(path)}/${resource}`;

describe("Unix-domain sockets", () => {
  let dir: string;
  const server = new CoapServer();
  registerDemoResources(server);
  server.addResource("/peer", { get: (r) => ({ code: Code.Content, payload: `${r.peer.family} ${r.peer.address}` }) });

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), "coap-unix-"));
  });
  after(async () => {
    server.close();
    await rm(dir, { recursive: true, force: true });
  });

  it("stream: our client round-trips over coap+tcp://%2F…; the socket file is gone after close", async (t) => {
    if (!unixStreamIsSupported()) return void t.skip("no Unix sockets on this platform");
    const path = join(dir, "stream.sock");
    const listener = await listenUnix({ path }, server);
    assert.ok(existsSync(path));
    const client = new CoapClient({ layerFactory: transportLayerFactory(), timeoutMs: 5000 });
    const r = await client.get(uri("coap+tcp", path, "hello"));
    assert.equal(Buffer.from(r.payload).toString(), DEMO_HELLO_TEXT);
    const peer = await client.get(uri("coap+tcp", path, "peer"));
    assert.match(Buffer.from(peer.payload).toString(), new RegExp(`^Unix ${path.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}$`));
    await client.close();
    await listener.close();
    assert.equal(existsSync(path), false, "the listening socket file is removed");
  });

  it("stream: an independent raw client (hand-written CSM + GET bytes) gets the CSM and 2.05", async (t) => {
    if (!unixStreamIsSupported()) return void t.skip("no Unix sockets on this platform");
    const path = join(dir, "raw.sock");
    const listener = await listenUnix({ path }, server);
    t.after(() => listener.close());
    const s = net.connect({ path });
    await new Promise<void>((r) => s.once("connect", r));
    // CSM: Len 4, TKL 0, 7.01, Max-Message-Size 1152, Block-Wise-Transfer; GET: Len 6, TKL 1, token 07, Uri-Path "hello"
    s.write(Buffer.concat([Buffer.from("40e122048020", "hex"), Buffer.from("610107b5", "hex"), Buffer.from("hello")]));
    let got = Buffer.alloc(0);
    while (!got.includes(Buffer.from(DEMO_HELLO_TEXT))) {
      got = Buffer.concat([got, await new Promise<Buffer>((r) => s.once("data", r))]);
    }
    s.destroy();
    const csmLen = ((got[0] as number) >> 4) + 2; // Len < 13: header + code + options
    assert.equal(got[1], 0xe1);
    const res = got.subarray(csmLen);
    assert.equal(res[0]! & 0x0f, 1); // TKL 1
    const len = res[0]! >> 4;
    const codeAt = len < 13 ? 1 : len === 13 ? 2 : 3; // §3.2: 0, 1 or 2 extended length bytes here
    assert.equal(res[codeAt], 0x45); // 2.05
    assert.equal(res[codeAt + 1], 0x07); // our token
  });

  it("datagram: our client round-trips over coap://%2F… on unix-dgram; both paths are removed on close", async (t) => {
    if (!unixDgramIsSupported()) {
      if (process.env.CI === "true") throw new Error("unix-dgram did not load");
      return void t.skip("the optional unix-dgram module is not available");
    }
    const path = join(dir, "dgram.sock");
    const ep = await UnixDgramEndpoint.bind({ path });
    server.attach(ep);
    const client = new CoapClient({ layerFactory: transportLayerFactory(), timeoutMs: 5000 });
    const r = await client.get(uri("coap", path, "hello"));
    assert.equal(Buffer.from(r.payload).toString(), DEMO_HELLO_TEXT);
    const clientPath = client.layers[0]!.endpoint.local.address;
    assert.notEqual(clientPath, path);
    assert.ok(existsSync(clientPath), "the client session has its own bound path");
    const peer = await client.get(uri("coap", path, "peer"));
    assert.equal(Buffer.from(peer.payload).toString(), `Unix ${clientPath}`);
    // A second client session gets a different path.
    const other = new CoapClient({ layerFactory: transportLayerFactory(), timeoutMs: 5000 });
    await other.get(uri("coap", path, "hello"));
    assert.notEqual(other.layers[0]!.endpoint.local.address, clientPath);
    await other.close();
    await client.close();
    assert.equal(existsSync(clientPath), false, "the client's path is removed on close");
    server.detach(ep);
    await ep.close();
    assert.equal(existsSync(path), false);
  });
});
