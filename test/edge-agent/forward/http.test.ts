// HttpCloudForwarder against real local HTTP servers: the cloud app behind node:http, and servers
// that are stopped, slow, broken or overloaded — each failure mapped per DESIGN.md §3.
import assert from "node:assert/strict";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { after, test } from "node:test";
import { createDefaultCloudApp } from "@coaps-edge/cloud/lib";
import { Code, ContentFormat, Method, generateGatewayKeyPair, utf8Decode, utf8Encode, verifyGatewayToken } from "@coaps-edge/shared";
import { HttpCloudForwarder, type ForwardRequest } from "../../../edge-agent/src/forward/index.js";
import { forwardRequest } from "../../helpers/forward.js";

const key = generateGatewayKeyPair();
const GATEWAY = "gw-http";
const ENV = { GATEWAY_KEYS: JSON.stringify({ [GATEWAY]: key.publicKey }) };

const request = forwardRequest;

type Handler = (req: IncomingMessage, body: Buffer, res: ServerResponse) => void | Promise<void>;
const servers: Server[] = [];
after(() => servers.forEach((s) => s.closeAllConnections?.() ?? s.close()));

async function serve(handler: Handler): Promise<{ url: string; server: Server }> {
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => void handler(req, Buffer.concat(chunks), res));
  });
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, server };
}

/** The cloud app behind node:http (what wrangler dev does with workerd, minus workerd). */
function appHandler(app = createDefaultCloudApp()): Handler {
  return async (req, body, res) => {
    const headers = new Headers();
    for (const [k, v] of Object.entries(req.headers)) if (typeof v === "string") headers.set(k, v);
    const r = await app.fetch(new Request(`http://127.0.0.1${req.url}`, { method: req.method, headers, ...(body.length > 0 && { body }) }), ENV);
    res.writeHead(r.status, Object.fromEntries(r.headers));
    res.end(Buffer.from(await r.arrayBuffer()));
  };
}

const fwd = (url: string, extra: Partial<ConstructorParameters<typeof HttpCloudForwarder>[0]> = {}) =>
  new HttpCloudForwarder({ url, gatewayId: GATEWAY, gatewayKey: key.privateKey, timeoutMs: 2000, ...extra });

test("forwards over HTTP to the app: hello, PUT valid/invalid, registry", async () => {
  const { url } = await serve(appHandler());
  const f = fwd(url + "/");
  const hello = await f.forward(request());
  assert.deepEqual([hello.code, utf8Decode(hello.payload), hello.contentFormat], [Code.Content, "Hello from coaps-edge", ContentFormat.text]);
  const put = (body: string) => f.forward(request({ method: Method.PUT, uriPath: ["sensors", "h1", "temperature"], payload: utf8Encode(body), contentFormat: ContentFormat.json }));
  assert.equal((await put('{"celsius":19}')).code, Code.Changed);
  const bad = await put("{}");
  assert.equal(bad.code, Code.BadRequest);
  assert.match(utf8Decode(bad.payload), /payload\.celsius/);
  const reg = await f.fetchRegistry();
  assert.ok(reg.ok && reg.registry.resources.some((r) => r.path === "/large"));
});

test("stopped server → 5.03 with Max-Age (unreachable)", async () => {
  const { url, server } = await serve(appHandler());
  await new Promise<void>((resolve) => server.close(() => resolve()));
  const r = await fwd(url, { unavailableMaxAge: 7 }).forward(request());
  assert.deepEqual([r.code, r.maxAge, r.failure?.kind], [Code.ServiceUnavailable, 7, "unreachable"]);
  assert.match(utf8Decode(r.payload), /ECONNREFUSED/);
  const reg = await fwd(url).fetchRegistry();
  assert.ok(!reg.ok && reg.failure.kind === "unreachable");
});

test("server slower than the timeout → 5.04", async () => {
  const { url } = await serve((_req, _body, res) => void setTimeout(() => res.end("{}"), 1500).unref());
  const started = performance.now();
  const r = await fwd(url, { timeoutMs: 150 }).forward(request());
  assert.deepEqual([r.code, r.failure?.kind], [Code.GatewayTimeout, "timeout"]);
  assert.ok(performance.now() - started < 1000, "answered at the timeout, not when the server finished");
});

test("garbage answers → 5.02: not JSON, wrong schema, HTTP 500, too large", async () => {
  const bodies: [number, string][] = [
    [200, "<html>oops</html>"],
    [200, JSON.stringify({ version: 1, code: "2.05", options: [], payload: "***" })],
    [200, JSON.stringify({ version: 2, code: "2.05", options: [], payload: "" })],
    [500, JSON.stringify({ error: "internal" })],
    [502, "bad gateway"],
    [200, "x".repeat(5000)],
  ];
  for (const [status, body] of bodies) {
    const { url } = await serve((_req, _b, res) => void res.writeHead(status, { "content-type": "application/json" }).end(body));
    const r = await fwd(url, { maxResponseBytes: 4096 }).forward(request());
    assert.deepEqual([r.code, r.failure?.kind], [Code.BadGateway, "invalid-response"], `${status} ${body.slice(0, 30)}`);
  }
});

test("HTTP statuses: 503/429 → 5.03 with Retry-After as Max-Age, 504 → 5.04, 413 → 4.13, 401 → 5.02", async () => {
  const cases: [number, Record<string, string>, number, number | undefined][] = [
    [503, { "retry-after": "42" }, Code.ServiceUnavailable, 42],
    [429, {}, Code.ServiceUnavailable, 10],
    [504, {}, Code.GatewayTimeout, undefined],
    [413, {}, Code.RequestEntityTooLarge, undefined],
    [401, {}, Code.BadGateway, undefined],
  ];
  for (const [status, headers, code, maxAge] of cases) {
    const { url } = await serve((_req, _b, res) => void res.writeHead(status, headers).end());
    const r = await fwd(url).forward(request());
    assert.deepEqual([r.code, r.maxAge], [code, maxAge], String(status));
    assert.equal(r.failure?.status, status);
  }
});

test("the real app's 413: a body over its limit becomes 4.13 for the device", async () => {
  const { url } = await serve(appHandler());
  const r = await fwd(url).forward(request({ method: Method.PUT, uriPath: ["echo"], payload: new Uint8Array(900 * 1024) }));
  assert.deepEqual([r.code, r.failure?.kind], [Code.RequestEntityTooLarge, "too-large"]);
});

test("bounded concurrency: never more than maxConcurrent in flight; a full queue answers 5.03 at once", async () => {
  let inFlight = 0;
  let peak = 0;
  const handler = appHandler();
  const { url } = await serve(async (req, body, res) => {
    peak = Math.max(peak, ++inFlight);
    await new Promise((r) => setTimeout(r, 30));
    inFlight--;
    await handler(req, body, res);
  });
  const f = fwd(url, { maxConcurrent: 2, maxQueued: 3 });
  const results = await Promise.all(Array.from({ length: 8 }, () => f.forward(request())));
  const codes = results.map((r) => r.code);
  assert.equal(peak, 2);
  assert.equal(codes.filter((c) => c === Code.Content).length, 5); // 2 in flight + 3 queued
  assert.equal(codes.filter((c) => c === Code.ServiceUnavailable).length, 3);
  assert.ok(results.filter((r) => r.code === Code.ServiceUnavailable).every((r) => r.failure?.kind === "overloaded" && r.maxAge === 10));
  assert.deepEqual(f.load, { active: 0, queued: 0 });
});

test("tokens: one per lifetime, renewed a minute before expiry, always valid when sent", async () => {
  const seen: string[] = [];
  const handler = appHandler();
  const { url } = await serve(async (req, body, res) => {
    seen.push(String(req.headers.authorization).slice("Bearer ".length));
    await handler(req, body, res);
  });
  let now = Date.now();
  const f = fwd(url, { now: () => now });
  await f.forward(request());
  now += 200_000;
  await f.forward(request()); // 200 s old: still the same token
  now += 41_000;
  await f.forward(request()); // 241 s: renewed (less than 60 s left)
  assert.equal(seen.length, 3);
  assert.equal(seen[0], seen[1]);
  assert.notEqual(seen[1], seen[2]);
  const check = verifyGatewayToken(seen[2]!, { [GATEWAY]: key.publicKey }, now);
  assert.ok(check.ok && check.expiresAt * 1000 - now > 250_000);
});

test("close(): in-flight and new requests answer 5.03", async () => {
  const { url } = await serve((_req, _b, res) => void setTimeout(() => res.end("{}"), 1000).unref());
  const f = fwd(url);
  const pending = f.forward(request());
  await new Promise((r) => setTimeout(r, 50));
  await f.close();
  const r = await pending;
  assert.deepEqual([r.code, r.failure?.kind], [Code.ServiceUnavailable, "overloaded"]);
  assert.equal((await f.forward(request())).code, Code.ServiceUnavailable);
});

test("configuration errors throw at construction", () => {
  assert.throws(() => new HttpCloudForwarder({ url: "not a url", gatewayId: GATEWAY, gatewayKey: key.privateKey }), TypeError);
  assert.throws(() => new HttpCloudForwarder({ url: "ftp://x", gatewayId: GATEWAY, gatewayKey: key.privateKey }), TypeError);
  assert.throws(() => new HttpCloudForwarder({ url: "http://x", gatewayId: "bad id", gatewayKey: key.privateKey }), RangeError);
  assert.throws(() => new HttpCloudForwarder({ url: "http://x", gatewayId: GATEWAY, gatewayKey: "short" }), RangeError);
});
