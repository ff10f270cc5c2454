/**
 * Interop: our CoapServer (demo resources, real UDP) ← libcoap's coap-client-notls.
 * coap-client exits 0 even on failure, so every check is on its output (or its -o file).
 */
import assert from "node:assert/strict";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { Code, parseLinkFormat } from "@coaps-edge/shared";
import { CoapServer, DEMO_HELLO_TEXT, demoLargeBody, registerDemoResources, type CoapRequest } from "../../edge-agent/src/server/index.js";
import { UdpEndpoint } from "../../edge-agent/src/transport/udp.js";
import { requireBinary, run } from "../helpers/libcoap.js";

const CLIENT = "coap-client-notls";

describe("our server ← coap-client-notls", () => {
  let ep: UdpEndpoint;
  let server: CoapServer;
  let base: string;
  let dir: string;
  const recorded: CoapRequest[] = [];

  before(async () => {
    ep = await UdpEndpoint.bind({ address: "127.0.0.1", port: 0 });
    server = new CoapServer();
    registerDemoResources(server);
    server.addResource("/record", {
      post: (r) => (recorded.push(r), { code: Code.Changed, payload: r.payload, contentFormat: r.contentFormat }),
      put: (r) => (recorded.push(r), { code: Code.Changed, payload: r.payload, contentFormat: r.contentFormat }),
    });
    server.addResource("/slow", {
      get: () => new Promise((resolve) => setTimeout(() => resolve({ code: Code.Content, payload: "worth the wait" }), 1500)),
    });
    server.attach(ep);
    base = `coap://127.0.0.1:${ep.local.port}`;
    dir = await mkdtemp(join(tmpdir(), "coap-udp-server-"));
  });

  after(async () => {
    server.close();
    await ep.close();
    await rm(dir, { recursive: true, force: true });
  });

  /** coap-client with -B; returns stdout as text. */
  async function client(bin: string, args: string[]): Promise<{ out: string; err: string }> {
    const r = await run(bin, ["-B", "10", ...args], { timeoutMs: 20_000 });
    assert.equal(r.timedOut, false, `coap-client hung: ${args.join(" ")}`);
    return { out: r.stdout.toString("utf8"), err: r.stderr.toString("utf8") };
  }

  it("GET /hello", async (t) => {
    const bin = requireBinary(t, CLIENT);
    if (!bin) return;
    const { out } = await client(bin, [`${base}/hello`]);
    assert.equal(out.trim(), DEMO_HELLO_TEXT);
  });

  it("GET /hello as NON with a token", async (t) => {
    const bin = requireBinary(t, CLIENT);
    if (!bin) return;
    const { out } = await client(bin, ["-N", "-T", "cafe", `${base}/hello`]);
    assert.equal(out.trim(), DEMO_HELLO_TEXT);
  });

  it("PUT and POST to /echo return the payload; the server sees the content format", async (t) => {
    const bin = requireBinary(t, CLIENT);
    if (!bin) return;
    const put = await client(bin, ["-m", "put", "-e", "put body", "-t", "text/plain", `${base}/echo`]);
    assert.equal(put.out.trim(), "put body");
    const post = await client(bin, ["-m", "post", "-e", '{"a":1}', "-t", "json", `${base}/echo`]);
    assert.equal(post.out.trim(), '{"a":1}');
    recorded.length = 0;
    await client(bin, ["-m", "post", "-e", "x", "-t", "50", `${base}/record`]);
    assert.equal(recorded[0]?.contentFormat, 50);
    assert.equal(recorded[0]?.method, "POST");
  });

  for (const size of [16, 64, 1024]) {
    it(`GET /large block-wise with -b ${size} returns the exact 16 KiB`, async (t) => {
      const bin = requireBinary(t, CLIENT);
      if (!bin) return;
      const out = join(dir, `large-${size}`);
      const before = server.stats.blocksFromCache;
      await client(bin, ["-b", String(size), "-o", out, `${base}/large`]);
      const got = await readFile(out);
      assert.equal(got.length, 16384);
      assert.deepEqual(new Uint8Array(got), demoLargeBody());
      assert.equal(server.stats.blocksFromCache - before, 16384 / size - 1, "later blocks came from the body cache");
    });
  }

  it("PUT of 10 KiB with -b 64 (Block1) reaches the handler whole and is echoed whole", async (t) => {
    const bin = requireBinary(t, CLIENT);
    if (!bin) return;
    const body = Buffer.from(Array.from({ length: 10 * 1024 }, (_, i) => 33 + ((i * 7) % 90)));
    const inFile = join(dir, "up10k");
    const outFile = join(dir, "up10k.out");
    await writeFile(inFile, body);
    recorded.length = 0;
    await client(bin, ["-m", "put", "-b", "64", "-f", inFile, "-o", outFile, `${base}/record`]);
    assert.equal(recorded.length, 1, "the handler ran once, after reassembly");
    assert.deepEqual(Buffer.from(recorded[0]!.payload), body);
    assert.deepEqual(await readFile(outFile), body);
    await client(bin, ["-m", "put", "-b", "64", "-f", inFile, "-o", outFile, `${base}/echo`]);
    assert.deepEqual(await readFile(outFile), body);
  });

  it("GET /.well-known/core lists the resources", async (t) => {
    const bin = requireBinary(t, CLIENT);
    if (!bin) return;
    const { out } = await client(bin, [`${base}/.well-known/core`]);
    const links = parseLinkFormat(out.trim());
    const hrefs = links.map((l) => l.href);
    for (const h of ["/hello", "/echo", "/large", "/record", "/slow"]) assert.ok(hrefs.includes(h), `${h} in ${out}`);
    assert.equal(links.find((l) => l.href === "/large")?.attributes?.sz, 16384);
    const filtered = await client(bin, [`${base}/.well-known/core?rt=greeting`]);
    assert.deepEqual(parseLinkFormat(filtered.out.trim()).map((l) => l.href), ["/hello"]);
  });

  it("a slow handler answers with an empty ACK and a separate response", async (t) => {
    const bin = requireBinary(t, CLIENT);
    if (!bin) return;
    const before = server.stats.separateResponses;
    const { out } = await client(bin, [`${base}/slow`]);
    assert.equal(out.trim(), "worth the wait");
    assert.equal(server.stats.separateResponses, before + 1);
  });

  it("4.04 for an unknown path", async (t) => {
    const bin = requireBinary(t, CLIENT);
    if (!bin) return;
    const { out, err } = await client(bin, [`${base}/nope`]);
    assert.match(out + err, /4\.04/);
  });
});
