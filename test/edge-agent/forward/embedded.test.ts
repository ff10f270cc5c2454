// EmbeddedCloudForwarder: ForwardRequest → signed request → the real app in process → ForwardResult.
import assert from "node:assert/strict";
import { test } from "node:test";
import { createCloudApp, createDefaultCloudApp, createRegistry, defineResource, routes } from "@coaps-edge/cloud/lib";
import { Code, ContentFormat, Method, generateGatewayKeyPair, utf8Decode, utf8Encode } from "@coaps-edge/shared";
import { EmbeddedCloudForwarder, RegistryView, registryLinks, type ForwardRequest } from "../../../edge-agent/src/forward/index.js";
import { forwardRequest } from "../../helpers/forward.js";

const request = forwardRequest;

const key = generateGatewayKeyPair();

test("forwards through the app: text, JSON, options, identity", async () => {
  const fwd = new EmbeddedCloudForwarder({ app: createDefaultCloudApp(), gatewayId: "gw-embedded", gatewayKey: key.privateKey });
  const hello = await fwd.forward(request());
  assert.deepEqual({ ...hello, payload: utf8Decode(hello.payload) }, {
    code: Code.Content, options: [], payload: "Hello from coaps-edge", contentFormat: ContentFormat.text, maxAge: 60,
  });
  assert.equal(utf8Decode((await fwd.forward(request({ uriPath: ["whoami"], identity: { kind: "x509", identity: "cn-9", certificateSha256: "AB".repeat(32) } }))).payload), "x509 cn-9");

  const put = await fwd.forward(request({ method: Method.PUT, uriPath: ["sensors", "e1", "temperature"], payload: utf8Encode('{"celsius":30}'), contentFormat: ContentFormat.json }));
  assert.equal(put.code, Code.Changed);
  const bad = await fwd.forward(request({ method: Method.PUT, uriPath: ["sensors", "e1", "temperature"], payload: utf8Encode('{"celsius":null}'), contentFormat: ContentFormat.json }));
  assert.equal(bad.code, Code.BadRequest);
  assert.match(utf8Decode(bad.payload), /payload\.celsius: Invalid input: expected number, received null/);
  assert.equal(bad.failure, undefined, "a 4.00 from the handler is a cloud answer, not a forwarding failure");

  const echo = await fwd.forward(request({ method: Method.POST, uriPath: ["echo"], payload: Uint8Array.of(1, 2, 3), contentFormat: ContentFormat.cbor }));
  assert.deepEqual([echo.code, echo.payload, echo.contentFormat], [Code.Changed, Uint8Array.of(1, 2, 3), ContentFormat.cbor]);
  assert.equal((await fwd.forward(request({ uriPath: ["nope"] }))).code, Code.NotFound);
  assert.equal((await fwd.forward(request({ method: Method.DELETE }))).code, Code.MethodNotAllowed);
});

test("response fields come back as CoAP values: ETag bytes, Location-Path, extra options", async () => {
  const registry = createRegistry([
    { path: "/r", resource: defineResource({ post: { handler: () => ({ code: "2.01", etag: Uint8Array.of(9, 8), locationPath: "/r/1", options: [{ number: 20, value: utf8Encode("v=1") }] }) } }) },
  ]);
  const fwd = new EmbeddedCloudForwarder({ app: createCloudApp({ registry }), gatewayId: "gw-e", gatewayKey: key.privateKey });
  assert.deepEqual(await fwd.forward(request({ method: Method.POST, uriPath: ["r"] })), {
    code: Code.Created, options: [{ number: 20, value: utf8Encode("v=1") }], payload: new Uint8Array(0), etag: Uint8Array.of(9, 8), locationPath: ["r", "1"],
  });
});

test("unknown method code → 4.05 and oversized Uri-Path segment → 4.00, without calling the app", async () => {
  let calls = 0;
  const app = { fetch: () => (calls++, new Response("{}")) };
  const fwd = new EmbeddedCloudForwarder({ app, gatewayId: "gw-e", gatewayKey: key.privateKey });
  const m = await fwd.forward(request({ method: 0x08 }));
  assert.deepEqual([m.code, m.failure?.kind], [Code.MethodNotAllowed, "bad-request"]);
  const long = await fwd.forward(request({ uriPath: ["x".repeat(300)] }));
  assert.deepEqual([long.code, long.failure?.kind], [Code.BadRequest, "bad-request"]);
  assert.equal(calls, 0);
});

test("the token is checked: an env without this gateway's key → 5.02 (rejected); a slow handler → 5.04", async () => {
  const other = generateGatewayKeyPair();
  const refused = new EmbeddedCloudForwarder({
    app: createDefaultCloudApp(), gatewayId: "gw-e", gatewayKey: key.privateKey,
    env: { GATEWAY_KEYS: JSON.stringify({ "gw-e": other.publicKey }) },
  });
  const r = await refused.forward(request());
  assert.deepEqual([r.code, r.failure?.kind, r.failure?.status], [Code.BadGateway, "rejected", 401]);
  assert.match(utf8Decode(r.payload), /HTTP 401 \(bad-signature\)/);

  const slow = new EmbeddedCloudForwarder({ app: createDefaultCloudApp(), gatewayId: "gw-e", gatewayKey: key.privateKey, timeoutMs: 50 });
  const s = await slow.forward(request({ uriPath: ["slow"], uriQuery: ["ms=1000"] }));
  assert.deepEqual([s.code, s.failure?.kind], [Code.GatewayTimeout, "timeout"]);
});

test("an app that throws or answers garbage → 5.02; a closed forwarder → 5.03 with Max-Age", async () => {
  const throwing = new EmbeddedCloudForwarder({ app: { fetch: () => { throw new Error("boom"); } }, gatewayId: "g", gatewayKey: key.privateKey });
  assert.equal((await throwing.forward(request())).code, Code.BadGateway);
  const garbage = new EmbeddedCloudForwarder({ app: { fetch: () => new Response('{"version":1,"code":"9.99"}') }, gatewayId: "g", gatewayKey: key.privateKey });
  const g = await garbage.forward(request());
  assert.deepEqual([g.code, g.failure?.kind], [Code.BadGateway, "invalid-response"]);
  await garbage.close();
  const c = await garbage.forward(request());
  assert.deepEqual([c.code, c.maxAge, c.failure?.kind], [Code.ServiceUnavailable, 10, "overloaded"]);
});

test("fetchRegistry, and the links for /.well-known/core leave out template paths", async () => {
  const fwd = new EmbeddedCloudForwarder({ app: createCloudApp({ registry: createRegistry(routes) }), gatewayId: "gw-e", gatewayKey: key.privateKey });
  const r = await fwd.fetchRegistry();
  assert.ok(r.ok);
  const links = registryLinks(r.registry);
  assert.deepEqual(links.map((l) => l.href), ["/echo", "/hello", "/large", "/slow", "/whoami"]);
  assert.deepEqual(links.find((l) => l.href === "/large")?.attributes, { title: "Large text", rt: "large", ct: 0, sz: 16384 });

  // Local 4.04/4.05 decisions agree with what the Worker answers.
  const view = new RegistryView(r.registry);
  assert.equal(view.links().length, 5);
  const found = view.lookup(["sensors", "9", "temperature"], Method.PUT);
  assert.ok(found.kind === "found");
  assert.deepEqual(found.params, { id: "9" });
  assert.equal(view.lookup(["sensors", "9", "temperature"], Method.DELETE).kind, "method-not-allowed");
  assert.equal(view.lookup(["hello"], 0x08).kind, "method-not-allowed");
  assert.equal(view.lookup(["nope"], Method.GET).kind, "not-found");
  for (const [path, method, code] of [[["nope"], Method.GET, Code.NotFound], [["hello"], Method.POST, Code.MethodNotAllowed]] as const) {
    assert.equal((await fwd.forward(request({ uriPath: path, method }))).code, code);
  }
});
