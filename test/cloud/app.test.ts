// The Hono app in process (app.request): every route, every HTTP-level refusal, and the proof
// that a refused request never reaches a handler (a counting resource stays at zero).
import assert from "node:assert/strict";
import { test } from "node:test";
import { createCloudApp, createRegistry, defineResource, routes } from "@coaps-edge/cloud/lib";
import { createGatewayToken, encodeBase64, generateGatewayKeyPair, RegistrySchema } from "@coaps-edge/shared";
import { ENV, GATEWAY_ID, coap, envelope, gatewayKeys, text, token } from "./helpers.js";

let handled = 0;
const counting = defineResource({ get: { handler: () => ({ text: `call ${++handled}` }) } });
const registry = createRegistry([...routes, { path: "/count", resource: counting }]);
const T0 = Date.UTC(2026, 0, 1);
let clock = T0;
const app = createCloudApp({ registry, now: () => clock, maxEnvelopeBytes: 4096 });

const post = (authorization: string | undefined, body: string, env: Record<string, unknown> = ENV) =>
  app.request("/v1/coap", { method: "POST", headers: { ...(authorization !== undefined && { authorization }), "content-type": "application/json" }, body }, env);
const countEnvelope = JSON.stringify(envelope({ path: "/count" }));

test("GET /health needs no token", async () => {
  const res = await app.request("/health", {}, ENV);
  assert.equal(res.status, 200);
  assert.deepEqual(await res.json(), { status: "ok", resources: routes.length + 1 });
});

test("refused tokens → 401, and no handler runs", async () => {
  clock = T0;
  const other = generateGatewayKeyPair();
  const cases: [string, string | undefined, string][] = [
    ["no header", undefined, "missing-token"],
    ["basic scheme", "Basic Z3c6cHc=", "missing-token"],
    ["empty bearer", "Bearer ", "missing-token"],
    ["garbage", "Bearer abc.def.ghi", "malformed"],
    ["forged signature", `Bearer ${createGatewayToken({ gatewayId: GATEWAY_ID, privateKey: other.privateKey, nowMs: T0 })}`, "bad-signature"],
    ["unknown gateway", `Bearer ${createGatewayToken({ gatewayId: "gw-stranger", privateKey: other.privateKey, nowMs: T0 })}`, "unknown-key"],
    ["expired", `Bearer ${token(T0 - 600_000)}`, "expired"],
    ["future", `Bearer ${token(T0 + 600_000)}`, "future"],
  ];
  for (const [what, authorization, error] of cases) {
    const res = await post(authorization, countEnvelope);
    assert.equal(res.status, 401, what);
    assert.match(res.headers.get("www-authenticate") ?? "", /^Bearer realm="coaps-edge"/, what);
    assert.equal(((await res.json()) as { error: string }).error, error, what);
  }
  // The same holds for the registry endpoint.
  assert.equal((await app.request("/v1/registry", {}, ENV)).status, 401);
  assert.equal(handled, 0, "a handler ran for a refused request");

  const ok = await post(`Bearer ${token(T0)}`, countEnvelope);
  assert.equal(ok.status, 200);
  assert.equal(handled, 1);
  // RFC 9110 §11.1: the auth scheme is case-insensitive.
  assert.equal((await post(`bearer ${token(T0)}`, countEnvelope)).status, 200);
  assert.equal(handled, 2);
  handled = 0;
});

test("no GATEWAY_KEYS → every token is unknown (401); a broken one is a 500 config error", async () => {
  clock = T0;
  const before = handled;
  const res = await post(`Bearer ${token(T0)}`, countEnvelope, {});
  assert.equal(res.status, 401);
  for (const bad of ["{not json", JSON.stringify({ [GATEWAY_ID]: "short" }), JSON.stringify(["x"])]) {
    const r = await post(`Bearer ${token(T0)}`, countEnvelope, { GATEWAY_KEYS: bad });
    assert.equal(r.status, 500, bad);
    assert.equal(((await r.json()) as { error: string }).error, "bad-config");
  }
  // wrangler passes JSON vars already parsed: an object works too.
  const obj = await post(`Bearer ${token(T0)}`, countEnvelope, { GATEWAY_KEYS: { [GATEWAY_ID]: gatewayKeys.publicKey } });
  assert.equal(obj.status, 200);
  assert.equal(handled, before + 1);
});

test("envelope gateway id must be the token's (403, no handler)", async () => {
  clock = T0;
  const before = handled;
  const other = generateGatewayKeyPair();
  const env = { GATEWAY_KEYS: JSON.stringify({ [GATEWAY_ID]: gatewayKeys.publicKey, "gw-other": other.publicKey }) };
  const res = await post(`Bearer ${token(T0)}`, JSON.stringify(envelope({ path: "/count", gatewayId: "gw-other" })), env);
  assert.equal(res.status, 403);
  assert.equal(handled, before);
});

test("body over the limit → 413 before parsing; bad JSON or envelope → 400", async () => {
  clock = T0;
  const before = handled;
  const big = JSON.stringify(envelope({ path: "/count", payload: "x".repeat(5000) }));
  const res = await post(`Bearer ${token(T0)}`, big);
  assert.equal(res.status, 413);
  assert.equal(((await res.json()) as { error: string }).error, "too-large");

  const badJson = await post(`Bearer ${token(T0)}`, "{");
  assert.equal(badJson.status, 400);
  assert.equal(((await badJson.json()) as { error: string }).error, "bad-json");

  const badEnv = await post(`Bearer ${token(T0)}`, JSON.stringify({ ...envelope({ path: "/count" }), method: "BREW", payload: "!" }));
  assert.equal(badEnv.status, 400);
  const body = (await badEnv.json()) as { error: string; message: string };
  assert.equal(body.error, "bad-envelope");
  assert.match(body.message, /method/);
  assert.match(body.message, /payload/);
  assert.equal(handled, before);
});

test("unknown HTTP routes → 404 JSON", async () => {
  const res = await app.request("/nope", {}, ENV);
  assert.equal(res.status, 404);
  assert.equal(((await res.json()) as { error: string }).error, "not-found");
});

test("GET /v1/registry lists paths, methods and link attributes", async () => {
  clock = T0;
  const res = await app.request("/v1/registry", { headers: { authorization: `Bearer ${token(T0)}` } }, ENV);
  assert.equal(res.status, 200);
  const reg = RegistrySchema.parse(await res.json());
  const byPath = new Map(reg.resources.map((r) => [r.path, r]));
  assert.deepEqual(byPath.get("/hello"), { path: "/hello", methods: ["GET"], title: "Hello", rt: "greeting", ct: 0 });
  assert.deepEqual(byPath.get("/sensors/[id]/temperature")?.methods, ["GET", "PUT"]);
  assert.deepEqual(byPath.get("/echo")?.methods, ["POST", "PUT"]);
  assert.equal(byPath.get("/large")?.sz, 16384);
  assert.deepEqual([...byPath.keys()], [...byPath.keys()].sort());
});

test("the demo resources through POST /v1/coap", async () => {
  const a = createCloudApp({ registry });
  const hello = await coap(a, { path: "/hello" });
  assert.equal(hello.status, 200);
  assert.deepEqual({ ...hello.body, payload: text(hello.body.payload) }, {
    version: 1, code: "2.05", options: [], contentFormat: 0, maxAge: 60, payload: "Hello from coaps-edge",
  });

  const echo = await coap(a, { method: "POST", path: "/echo", payload: Uint8Array.of(0, 1, 255), contentFormat: 42 });
  assert.equal(echo.body.code, "2.04");
  assert.equal(echo.body.contentFormat, 42);
  assert.equal(echo.body.payload, encodeBase64(Uint8Array.of(0, 1, 255)));
  const echoPut = await coap(a, { method: "PUT", path: "/echo", payload: "not json {" });
  assert.equal(echoPut.body.code, "2.04");
  assert.equal(text(echoPut.body.payload), "not json {");
  assert.equal(echoPut.body.contentFormat, undefined);
  assert.equal((await coap(a, { method: "GET", path: "/echo" })).body.code, "4.05");

  const large = await coap(a, { path: "/large" });
  const body = text(large.body.payload);
  assert.equal(body.length, 16384);
  assert.match(body, /^line 0000 abc/);
  assert.match(body, /line 0255 [^\n]*\n$/);

  assert.equal(text((await coap(a, { path: "/whoami" })).body.payload), "psk demo");
  assert.equal(text((await coap(a, { path: "/whoami", peer: { auth: "x509", identity: "dev-7" } })).body.payload), "x509 dev-7");
  assert.equal(text((await coap(a, { path: "/whoami", peer: { auth: "none", identity: undefined } })).body.payload), "none");

  const slow = await coap(a, { path: "/slow", query: ["ms=20"] });
  assert.equal(text(slow.body.payload), "slept 20 ms");
  const slowBad = await coap(a, { path: "/slow", query: ["ms=abc"] });
  assert.equal(slowBad.body.code, "4.00");
  assert.match(text(slowBad.body.payload), /query\.ms/);

  const missing = await coap(a, { path: "/nothing/here" });
  assert.equal(missing.body.code, "4.04");
  assert.equal(text(missing.body.payload), "no resource at /nothing/here");
  assert.equal((await coap(a, { method: "DELETE", path: "/hello" })).body.code, "4.05");
});

test("temperature: GET json, PUT validated (2.04 / 4.00 with diagnostic), CBOR both ways, 4.15, 4.06", async () => {
  const { encode, decode } = await import("cborg");
  const a = createCloudApp({ registry });
  const get = await coap(a, { path: "/sensors/s1/temperature" });
  assert.equal(get.body.code, "2.05");
  assert.equal(get.body.contentFormat, 50);
  assert.deepEqual(JSON.parse(text(get.body.payload)), { celsius: 21.5, sensor: "s1" });

  const put = await coap(a, { method: "PUT", path: "/sensors/s1/temperature", payload: '{"celsius":23.25}', contentFormat: 50 });
  assert.equal(put.body.code, "2.04");
  assert.equal(put.body.payload, "");
  assert.deepEqual(JSON.parse(text((await coap(a, { path: "/sensors/s1/temperature" })).body.payload)), { celsius: 23.25, sensor: "s1" });

  const bad = await coap(a, { method: "PUT", path: "/sensors/s1/temperature", payload: '{"celsius":"warm"}', contentFormat: 50 });
  assert.equal(bad.body.code, "4.00");
  assert.equal(bad.body.contentFormat, undefined); // RFC 7252 §5.5.2 diagnostic payload
  assert.equal(text(bad.body.payload), "invalid payload: payload.celsius: Invalid input: expected number, received string");
  const notJson = await coap(a, { method: "PUT", path: "/sensors/s1/temperature", payload: "{celsius", contentFormat: 50 });
  assert.equal(notJson.body.code, "4.00");
  assert.match(text(notJson.body.payload), /not valid JSON/);
  const empty = await coap(a, { method: "PUT", path: "/sensors/s1/temperature", contentFormat: 50 });
  assert.equal(empty.body.code, "4.00");
  // No Content-Format: read as JSON (coap-client -e without -t).
  assert.equal((await coap(a, { method: "PUT", path: "/sensors/s2/temperature", payload: '{"celsius":1}' })).body.code, "2.04");

  const cborPut = await coap(a, { method: "PUT", path: "/sensors/s3/temperature", payload: encode({ celsius: -4 }), contentFormat: 60 });
  assert.equal(cborPut.body.code, "2.04");
  const cborGet = await coap(a, { path: "/sensors/s3/temperature", accept: 60 });
  assert.equal(cborGet.body.contentFormat, 60);
  assert.deepEqual(decode(Buffer.from(cborGet.body.payload, "base64")), { celsius: -4, sensor: "s3" });
  const badCbor = await coap(a, { method: "PUT", path: "/sensors/s3/temperature", payload: Uint8Array.of(0xff), contentFormat: 60 });
  assert.equal(badCbor.body.code, "4.00");

  assert.equal((await coap(a, { method: "PUT", path: "/sensors/s1/temperature", payload: "23", contentFormat: 0 })).body.code, "4.15");
  assert.equal((await coap(a, { path: "/sensors/s1/temperature", accept: 0 })).body.code, "4.06");
  assert.equal((await coap(a, { path: "/sensors//temperature" })).body.code, "4.04");
});
