/**
 * Hostile input at a live server over real UDP (STYLE.md §11, after aiocoap's
 * test_noncoap_client): 10,000 random and mutated datagrams — truncations, bit flips, byte
 * splices into valid requests, random option blocks — must neither crash the server nor stop
 * it from answering a normal request afterwards. Malformed input is counted, never thrown.
 */
import assert from "node:assert/strict";
import dgram from "node:dgram";
import { after, before, describe, it } from "node:test";
import {
  Code,
  MessageType,
  OptionNumber,
  blockOption,
  encodeMessage,
  uintOption,
  uriPathOptions,
  type CoapMessage,
} from "@coaps-edge/shared";
import { CoapClient } from "../../edge-agent/src/client/index.js";
import { CoapServer, registerDemoResources } from "../../edge-agent/src/server/index.js";
import { UdpEndpoint } from "../../edge-agent/src/transport/udp.js";
import { seededRandom } from "../../edge-agent/src/util/random.js";

const COUNT = 10_000;

function corpus(rnd: () => number): Uint8Array[] {
  const int = (n: number) => Math.floor(rnd() * n);
  const valid = (): CoapMessage => ({
    type: int(4) as MessageType,
    code: [1, 2, 3, 4, 5, 0x45, 0x84, 0][int(8)]!,
    messageId: int(0x10000),
    token: Uint8Array.from({ length: int(9) }, () => int(256)),
    options: [
      ...uriPathOptions(["/hello", "/echo", "/large", "/.well-known/core", "/x"][int(5)]!),
      ...(rnd() < 0.3 ? [blockOption(rnd() < 0.5 ? OptionNumber.Block1 : OptionNumber.Block2, { num: int(50), more: rnd() < 0.5, szx: int(7) })] : []),
      ...(rnd() < 0.2 ? [uintOption(OptionNumber.Size1, int(1 << 30))] : []),
      ...(rnd() < 0.2 ? [{ number: int(65536), value: Uint8Array.from({ length: int(20) }, () => int(256)) }] : []),
    ],
    payload: Uint8Array.from({ length: rnd() < 0.5 ? 0 : int(300) }, () => int(256)),
  });
  const out: Uint8Array[] = [];
  while (out.length < COUNT) {
    const kind = int(5);
    if (kind === 0) {
      out.push(Uint8Array.from({ length: int(64) }, () => int(256))); // noise
    } else {
      let m = valid();
      if (m.code === 0) m = { ...m, token: new Uint8Array(0), options: [], payload: new Uint8Array(0) };
      let b: Uint8Array;
      try {
        b = encodeMessage(m);
      } catch {
        continue;
      }
      if (kind === 1) b = b.subarray(0, int(b.length + 1)); // truncation
      if (kind === 2) {
        for (let i = 0; i < 1 + int(4); i++) {
          const at = int(b.length);
          b[at] = (b[at] as number) ^ (1 << int(8)); // bit flips
        }
      }
      if (kind === 3) {
        // splice random bytes after the header
        const at = 4 + int(Math.max(1, b.length - 4));
        const junk = Uint8Array.from({ length: int(16) }, () => int(256));
        const c = new Uint8Array(b.length + junk.length);
        c.set(b.subarray(0, at));
        c.set(junk, at);
        c.set(b.subarray(at), at + junk.length);
        b = c;
      }
      out.push(b); // kind 4: valid but odd (random types, codes, options)
    }
  }
  return out;
}

describe("hostile input over UDP", () => {
  let ep: UdpEndpoint;
  let server: CoapServer;
  before(async () => {
    ep = await UdpEndpoint.bind({ address: "127.0.0.1", port: 0 });
    server = new CoapServer();
    registerDemoResources(server);
    server.attach(ep);
  });
  after(async () => {
    server.close();
    await ep.close();
  });

  it(`survives ${COUNT} random and mutated datagrams and still answers`, async () => {
    const sock = dgram.createSocket("udp4");
    sock.on("message", () => {});
    await new Promise<void>((r) => sock.bind(0, "127.0.0.1", () => r()));
    const datagrams = corpus(seededRandom(20240601));
    const layer = server.layers[0]!;
    // Same process, same event loop: send in small batches and let the server read them, or
    // the kernel's receive buffer overflows and the test measures nothing.
    for (let i = 0; i < datagrams.length; i += 50) {
      await Promise.all(
        datagrams.slice(i, i + 50).map((d) => new Promise<void>((r) => sock.send(d, ep.local.port, "127.0.0.1", () => r()))),
      );
      const sent = Math.min(i + 50, datagrams.length);
      for (let w = 0; w < 100 && layer.stats.received < sent; w++) await new Promise<void>((r) => setImmediate(r));
    }
    for (let i = 0; i < 50 && layer.stats.received < COUNT; i++) await new Promise((r) => setTimeout(r, 10));
    sock.close();
    assert.ok(layer.stats.received >= COUNT * 0.95, `received ${layer.stats.received} of ${COUNT}`);
    assert.ok(layer.stats.malformed > COUNT / 10, `malformed counted: ${layer.stats.malformed}`);
    assert.ok(server.stats.requests > 100, `some mutated requests were valid: ${server.stats.requests}`);
    assert.equal(layer.stats.internalErrors, 0, "no exception escaped a layer");

    const client = new CoapClient();
    try {
      const res = await client.get(`coap://127.0.0.1:${ep.local.port}/hello`, { timeoutMs: 5000 });
      assert.equal(res.code, Code.Content);
      const big = await client.get(`coap://127.0.0.1:${ep.local.port}/large`, { timeoutMs: 5000, blockSize: 256 });
      assert.equal(big.payload.length, 16384);
    } finally {
      await client.close();
    }
  });
});
