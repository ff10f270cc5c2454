import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { Code, MessageType, OptionNumber, getOption, getStringOption, type CoapMessage } from "@coaps-edge/shared";
import { CoapClient, CoapClientError, parseCoapUri, type CoapClientOptions } from "../../../edge-agent/src/client/index.js";
import { CoapServer, type CoapServerOptions } from "../../../edge-agent/src/server/index.js";
import type { DatagramEndpoint } from "../../../edge-agent/src/transport/types.js";
import type { FakeClock } from "../../../edge-agent/src/util/clock.js";
import { RawPeer, bytes, fakeNet, fixedRandom, flush, text } from "../coap-kit.js";

/** Runs fake time until `p` settles (or `maxMs` passes); returns its outcome and the time taken. */
async function drive<T>(clock: FakeClock, p: Promise<T>, stepMs = 5, maxMs = 300_000): Promise<{ value?: T; error?: unknown; elapsed: number }> {
  let outcome: { value?: T; error?: unknown } | undefined;
  p.then(
    (value) => (outcome = { value }),
    (error: unknown) => (outcome = { error }),
  );
  const t0 = clock.now();
  while (!outcome && clock.now() - t0 < maxMs) {
    await flush(2);
    if (!outcome) clock.advance(stepMs);
  }
  await flush(2);
  assert.ok(outcome, "settled");
  return { ...outcome, elapsed: clock.now() - t0 };
}

function setup(serverOptions: CoapServerOptions = {}, clientOptions: CoapClientOptions = {}, mtu?: number) {
  const { clock, net } = fakeNet(mtu === undefined ? {} : { mtu });
  const server = new CoapServer({ clock, random: fixedRandom(), ...serverOptions });
  const sep = net.endpoint(5683);
  server.attach(sep);
  const client = new CoapClient({ clock, endpoint: net.endpoint(), random: fixedRandom(), ...clientOptions });
  const base = `coap://127.0.0.1:5683`;
  return { clock, net, server, client, base };
}

const body = (n: number) => Uint8Array.from({ length: n }, (_, i) => (i * 13 + 5) & 0xff);

describe("CoapClient against CoapServer (in memory)", () => {
  it("gets a resource", async () => {
    const { clock, server, client, base } = setup();
    server.addResource("/hello", { get: () => ({ code: "2.05", payload: "hi" }) });
    const { value } = await drive(clock, client.get(`${base}/hello`));
    assert.equal(value?.code, Code.Content);
    assert.equal(value?.codeText, "2.05");
    assert.equal(text(value!.payload), "hi");
    assert.equal(value?.contentFormat, 0);
    assert.equal(value?.messages, 1);
  });

  it("returns 4.xx/5.xx as responses, not errors", async () => {
    const { clock, client, base } = setup();
    const { value } = await drive(clock, client.get(`${base}/missing`));
    assert.equal(value?.code, Code.NotFound);
  });

  it("downloads a large body block-wise as one payload, at the server's or the asked block size", async () => {
    const { clock, server, client, base } = setup();
    const data = body(5000);
    server.addResource("/big", { get: () => ({ code: Code.Content, payload: data, contentFormat: 42 }) });
    const plain = await drive(clock, client.get(`${base}/big`));
    assert.deepEqual(plain.value?.payload, data);
    assert.equal(plain.value?.messages, 5);
    assert.equal(plain.value?.contentFormat, 42);
    assert.equal(getOption({ options: plain.value!.options } as CoapMessage, OptionNumber.Block2), undefined);
    const small = await drive(clock, client.get(`${base}/big`, { blockSize: 64 }));
    assert.deepEqual(small.value?.payload, data);
    assert.equal(small.value?.messages, Math.ceil(5000 / 64));
  });

  it("uploads a large body block-wise and adopts the server's smaller block size", async () => {
    const { clock, server, client, base } = setup({ blockwise: { preferredSzx: 2 } });
    const data = body(3000);
    const got: Uint8Array[] = [];
    server.addResource("/echo", { put: (r) => (got.push(r.payload), { code: Code.Changed, payload: r.payload }) });
    const { value } = await drive(clock, client.put(`${base}/echo`, data, { blockSize: 256 }));
    assert.equal(value?.code, Code.Changed);
    assert.deepEqual(got, [data]);
    assert.deepEqual(value?.payload, data, "the echo comes back block-wise too");
    // First block at 256 bytes, the rest at the server's 64: 1 + ceil(2744/64) uploads, then 3000/64 downloads − 1.
    assert.equal(value?.messages, 1 + Math.ceil(2744 / 64) + Math.ceil(3000 / 64) - 1);
  });

  it("splits a payload that does not fit one datagram even without a block size", async () => {
    const { clock, server, client, base } = setup({}, {}, 600);
    const data = body(2000);
    let got: Uint8Array | undefined;
    server.addResource("/up", { post: (r) => ((got = r.payload), { code: Code.Changed }) });
    const { value } = await drive(clock, client.post(`${base}/up`, data));
    assert.equal(value?.code, Code.Changed);
    assert.deepEqual(got, data);
    assert.ok((value?.messages ?? 0) > 1);
  });

  it("waits for a separate response after an empty ACK", async () => {
    const { clock, server, client, base } = setup();
    server.addResource("/slow", { get: () => new Promise((resolve) => clock.setTimer(4000, () => resolve({ code: Code.Content, payload: "late" }))) });
    const { value, elapsed } = await drive(clock, client.get(`${base}/slow`));
    assert.equal(text(value!.payload), "late");
    assert.ok(elapsed >= 4000 && elapsed < 4100, `took ${elapsed}`);
    assert.equal(server.stats.separateResponses, 1);
    assert.equal(server.layers[0]?.stats.retransmissions, 0, "the client ACKed the separate response");
  });

  it("sends NON requests when asked and gets NON responses", async () => {
    const { clock, server, client, base } = setup();
    let type: boolean | undefined;
    server.addResource("/n", { get: (r) => ((type = r.confirmable), { code: Code.Content, payload: "n" }) });
    const { value } = await drive(clock, client.get(`${base}/n`, { confirmable: false }));
    assert.equal(type, false);
    assert.equal(text(value!.payload), "n");
  });

  it("fails with block-mismatch when the representation changes between blocks", async () => {
    const { clock, server, client, base } = setup({ blockwise: { transferIdleMs: 1 } });
    let version = 0;
    server.addResource("/moving", { get: () => ({ code: Code.Content, payload: body(3000), etag: Uint8Array.of(++version) }) });
    const { error } = await drive(clock, client.get(`${base}/moving`));
    assert.ok(error instanceof CoapClientError);
    assert.equal(error.code, "block-mismatch");
  });
});

describe("CoapClient failures", () => {
  it("times out after MAX_RETRANSMIT retransmissions when nobody answers", async () => {
    const { clock, net } = fakeNet();
    const silent = new RawPeer(net, clock, 5683);
    const client = new CoapClient({ clock, endpoint: net.endpoint(), random: fixedRandom(0.5) });
    const { error, elapsed } = await drive(clock, client.get("coap://127.0.0.1:5683/x"), 100);
    assert.ok(error instanceof CoapClientError);
    assert.equal(error.code, "timeout");
    assert.equal(error.name, "CoapTimeoutError");
    assert.equal(silent.received.length, 5, "1 transmission + 4 retransmissions");
    assert.ok(Math.abs(elapsed - 77_500) <= 100, `gave up after ${elapsed} ms (2.5 s × 31)`);
  });

  it("times out at the request deadline", async () => {
    const { clock, net } = fakeNet();
    new RawPeer(net, clock, 5683);
    const client = new CoapClient({ clock, endpoint: net.endpoint(), random: fixedRandom() });
    const { error, elapsed } = await drive(clock, client.get("coap://127.0.0.1:5683/x", { timeoutMs: 3000 }), 10);
    assert.equal((error as CoapClientError).code, "timeout");
    assert.ok(elapsed >= 3000 && elapsed <= 3020);
  });

  it("reports an RST as reset", async () => {
    const { clock, net } = fakeNet();
    const peer = new RawPeer(net, clock, 5683);
    peer.ep.onDatagram = (d, from) => peer.send(from, Uint8Array.of(0x70, 0, d[2]!, d[3]!));
    const client = new CoapClient({ clock, endpoint: net.endpoint(), random: fixedRandom() });
    const { error } = await drive(clock, client.get("coap://127.0.0.1:5683/x"));
    assert.equal((error as CoapClientError).code, "reset");
  });

  it("rejects in-flight requests with closed on close()", async () => {
    const { clock, net } = fakeNet();
    new RawPeer(net, clock, 5683);
    const client = new CoapClient({ clock, endpoint: net.endpoint() });
    const p = client.get("coap://127.0.0.1:5683/x");
    await flush();
    await client.close();
    await assert.rejects(p, (e: unknown) => e instanceof CoapClientError && e.code === "closed");
  });

  it("needs an endpoint factory for coaps:// and uses it", async () => {
    const { clock, net, server } = setup();
    server.addResource("/s", { get: (r) => ({ code: Code.Content, payload: r.scheme }) });
    // A stand-in for a DTLS endpoint: a memory endpoint that calls itself "coaps" (served too).
    const serverSide = net.endpoint(5684);
    const securedServer: DatagramEndpoint = Object.assign(serverSide, { scheme: "coaps" as const });
    server.attach(securedServer);
    const plain = new CoapClient({ clock, endpoint: net.endpoint() });
    const refused = await drive(clock, plain.get("coaps://127.0.0.1:5684/s"));
    assert.equal((refused.error as CoapClientError).code, "unsupported-scheme");
    const targets: string[] = [];
    const secured = new CoapClient({
      clock,
      endpointFactory: (t) => {
        targets.push(`${t.scheme} ${t.address.address}:${t.address.port}`);
        return Object.assign(net.endpoint(), { scheme: "coaps" as const });
      },
    });
    const a = await drive(clock, secured.get("coaps://127.0.0.1:5684/s"));
    const b = await drive(clock, secured.get("coaps://127.0.0.1:5684/s"));
    assert.equal(text(a.value!.payload), "coaps");
    assert.equal(text(b.value!.payload), "coaps");
    assert.deepEqual(targets, ["coaps 127.0.0.1:5684"], "one endpoint per (scheme, peer)");
  });

  it("sends Uri-Host for a host name and resolves it with the lookup given", async () => {
    const { clock, net } = fakeNet();
    const peer = new RawPeer(net, clock, 5683);
    const client = new CoapClient({ clock, endpoint: net.endpoint(), lookup: async () => ({ address: "127.0.0.1", family: 4 }) });
    const p = client.get("coap://sensor.example:5683/a/b%20c?x=1", { timeoutMs: 50 });
    await drive(clock, p);
    const m = peer.messages()[0]!;
    assert.equal(getStringOption(m, OptionNumber.UriHost), "sensor.example");
    assert.equal(m.type, MessageType.CON);
    assert.deepEqual(
      m.options.filter((o) => o.number === OptionNumber.UriPath).map((o) => text(o.value)),
      ["a", "b c"],
    );
    assert.equal(getStringOption(m, OptionNumber.UriQuery), "x=1");
    assert.equal(m.token.length, 8);
  });
});

describe("parseCoapUri (RFC 7252 §6.4)", () => {
  it("parses hosts, ports, paths and queries", () => {
    assert.deepEqual(parseCoapUri("coap://127.0.0.1/hello"), { scheme: "coap", host: "127.0.0.1", port: 5683, path: ["hello"], query: [] });
    assert.deepEqual(parseCoapUri("coaps://[::1]:6000/a/b?x=1&y"), { scheme: "coaps", host: "::1", port: 6000, path: ["a", "b"], query: ["x=1", "y"] });
    assert.deepEqual(parseCoapUri("coap://h").path, []);
    assert.deepEqual(parseCoapUri("coap://h/").path, []);
    assert.deepEqual(parseCoapUri("coap://h/%2F%C3%A9").path, ["/é"]);
  });

  it("rejects what is not a CoAP URI", () => {
    for (const bad of ["http://h/x", "coap://h/x#frag", "/relative", "coap://u:p@h/"]) {
      assert.throws(() => parseCoapUri(bad), (e: unknown) => e instanceof CoapClientError && e.code === "bad-uri", bad);
    }
  });
});

describe("CoapClient payload types", () => {
  it("sends string payloads as UTF-8 with the given content format", async () => {
    const { clock, server, client, base } = setup();
    server.addResource("/echo", { post: (r) => ({ code: Code.Content, payload: r.payload, contentFormat: r.contentFormat }) });
    const { value } = await drive(clock, client.request({ method: "post", uri: `${base}/echo`, payload: "héllo", contentFormat: 0 }));
    assert.deepEqual(value?.payload, bytes("héllo"));
    assert.equal(value?.contentFormat, 0);
  });
});
