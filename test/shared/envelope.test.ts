// Envelope and registry schemas, the strict base64 codec (RFC 4648 §10 vectors), path templates.
import assert from "node:assert/strict";
import { test } from "node:test";
import {
  GatewayKeyFileSchema,
  GatewayKeysSchema,
  RegistrySchema,
  RequestEnvelopeSchema,
  ResponseEnvelopeSchema,
  compareTemplates,
  decodeBase64,
  decodeBase64Url,
  encodeBase64,
  encodeBase64Url,
  findRoute,
  parsePathTemplate,
  routeKey,
  type RequestEnvelope,
  type ResponseEnvelope,
} from "@coaps-edge/shared";

const ascii = (s: string) => new TextEncoder().encode(s);

test("base64: RFC 4648 §10 test vectors, both directions (7 ran)", () => {
  const vectors: [string, string, string][] = [
    ["", "", ""],
    ["f", "Zg==", "Zg"],
    ["fo", "Zm8=", "Zm8"],
    ["foo", "Zm9v", "Zm9v"],
    ["foob", "Zm9vYg==", "Zm9vYg"],
    ["fooba", "Zm9vYmE=", "Zm9vYmE"],
    ["foobar", "Zm9vYmFy", "Zm9vYmFy"],
  ];
  let ran = 0;
  for (const [plain, b64, b64url] of vectors) {
    assert.equal(encodeBase64(ascii(plain)), b64);
    assert.deepEqual(decodeBase64(b64), ascii(plain));
    assert.equal(encodeBase64Url(ascii(plain)), b64url);
    assert.deepEqual(decodeBase64Url(b64url), ascii(plain));
    ran++;
  }
  assert.equal(ran, 7);
});

test("base64: agrees with Buffer on every length 0..64 and all byte values", () => {
  for (let n = 0; n <= 64; n++) {
    const bytes = Uint8Array.from({ length: n }, (_, i) => (i * 37 + n * 11) & 0xff);
    assert.equal(encodeBase64(bytes), Buffer.from(bytes).toString("base64"));
    assert.equal(encodeBase64Url(bytes), Buffer.from(bytes).toString("base64url"));
    assert.deepEqual(decodeBase64(encodeBase64(bytes)), bytes);
    assert.deepEqual(decodeBase64Url(encodeBase64Url(bytes)), bytes);
  }
  const all = Uint8Array.from({ length: 256 }, (_, i) => i);
  assert.deepEqual(decodeBase64(Buffer.from(all).toString("base64")), all);
});

test("base64: non-canonical or foreign text is refused", () => {
  for (const bad of ["Zg", "Zg=", "Zh==", "Zm9=", "Z===", "Zm9v\n", "Zm-v", "Zm_v", "=Zm9", "é"]) assert.equal(decodeBase64(bad), undefined, bad);
  for (const bad of ["Zg==", "Zh", "Z", "Zm+v", "Zm/v"]) assert.equal(decodeBase64Url(bad), undefined, bad);
});

const request: RequestEnvelope = {
  version: 1,
  requestId: "0b0e9a3c-5d9e-4a5e-8f65-d6e0f0c7a001",
  gatewayId: "gw-1",
  receivedAt: 1767225600000,
  peer: { address: "fd00::1", port: 49152, auth: "psk", identity: "demo" },
  method: "PUT",
  uriPath: ["sensors", "7", "temperature"],
  uriQuery: ["unit=c"],
  options: [{ number: 2049, value: "AQ==" }],
  contentFormat: 50,
  accept: 50,
  payload: encodeBase64(ascii('{"celsius":22}')),
};

test("request envelope: a full example parses unchanged; each broken field is refused", () => {
  assert.deepEqual(RequestEnvelopeSchema.parse(request), request);
  const x509 = { ...request, peer: { address: "10.0.0.2", port: 5684, auth: "x509", identity: "dev-1", certificateSha256: "ab".repeat(32) } };
  assert.ok(RequestEnvelopeSchema.safeParse(x509).success);
  const broken: [string, unknown][] = [
    ["version", { ...request, version: 2 }],
    ["method", { ...request, method: "PROPFIND" }],
    ["auth", { ...request, peer: { ...request.peer, auth: "oauth" } }],
    ["port", { ...request, peer: { ...request.peer, port: 70000 } }],
    ["cert hash", { ...request, peer: { ...request.peer, certificateSha256: "AB".repeat(32) } }],
    ["payload", { ...request, payload: "not base64!" }],
    ["option value", { ...request, options: [{ number: 1, value: "Zg" }] }],
    ["option number", { ...request, options: [{ number: 65536, value: "" }] }],
    ["segment", { ...request, uriPath: ["x".repeat(256)] }],
    ["content format", { ...request, contentFormat: -1 }],
    ["receivedAt", { ...request, receivedAt: 1.5 }],
    ["requestId", { ...request, requestId: "" }],
    ["missing", { ...request, uriPath: undefined }],
  ];
  for (const [what, value] of broken) assert.equal(RequestEnvelopeSchema.safeParse(value).success, false, what);
});

const response: ResponseEnvelope = {
  version: 1,
  code: "2.05",
  options: [{ number: 20, value: encodeBase64(ascii("a=1")) }],
  contentFormat: 0,
  maxAge: 60,
  etag: encodeBase64(Uint8Array.of(1, 2, 3, 4)),
  locationPath: ["items", "9"],
  payload: encodeBase64(ascii("hello")),
};

test("response envelope: codes, ETag size, named options kept out of `options`", () => {
  assert.deepEqual(ResponseEnvelopeSchema.parse(response), response);
  for (const code of ["2.01", "2.31", "4.04", "5.03", "4.29"]) assert.ok(ResponseEnvelopeSchema.safeParse({ ...response, code }).success, code);
  for (const code of ["0.01", "2.5", "2.32", "7.01", "3.00", "205", ""]) assert.equal(ResponseEnvelopeSchema.safeParse({ ...response, code }).success, false, code);
  assert.equal(ResponseEnvelopeSchema.safeParse({ ...response, etag: "" }).success, false);
  assert.equal(ResponseEnvelopeSchema.safeParse({ ...response, etag: encodeBase64(new Uint8Array(9)) }).success, false);
  assert.equal(ResponseEnvelopeSchema.safeParse({ ...response, maxAge: 2 ** 32 }).success, false);
  for (const n of [4, 8, 12, 14]) {
    assert.equal(ResponseEnvelopeSchema.safeParse({ ...response, options: [{ number: n, value: "" }] }).success, false, `option ${n}`);
  }
});

test("gateway key file and GATEWAY_KEYS schemas", () => {
  const key = "A".repeat(42) + "A"; // 43 chars = 32 bytes
  assert.ok(GatewayKeyFileSchema.safeParse({ gatewayId: "gw-1", privateKey: key, publicKey: key }).success);
  assert.equal(GatewayKeyFileSchema.safeParse({ gatewayId: "gw 1", privateKey: key, publicKey: key }).success, false);
  assert.equal(GatewayKeyFileSchema.safeParse({ gatewayId: "gw-1", privateKey: key + "A", publicKey: key }).success, false);
  assert.ok(GatewayKeysSchema.safeParse({ "gw-1": key, "gw-2": key }).success);
  assert.equal(GatewayKeysSchema.safeParse({ "gw-1": 5 }).success, false);
});

test("path templates: parse, route keys, and most-specific-first matching", () => {
  assert.deepEqual(parsePathTemplate("/"), []);
  assert.deepEqual(parsePathTemplate("/sensors/[id]/temperature"), [
    { kind: "static", value: "sensors" },
    { kind: "param", name: "id" },
    { kind: "static", value: "temperature" },
  ]);
  for (const bad of ["", "hello", "/a//b", "/a/", "/[id]/[id]", "/[1x]", "/a[b]"]) assert.equal(parsePathTemplate(bad), undefined, bad);
  assert.equal(routeKey(parsePathTemplate("/s/[id]")!), routeKey(parsePathTemplate("/s/[name]")!));

  const entries = ["/sensors/[id]", "/sensors/all", "/[x]/all", "/"].map((path) => ({ path, segments: parsePathTemplate(path)! }));
  entries.sort((a, b) => compareTemplates(a.segments, b.segments));
  const hit = (p: string[]) => findRoute(entries, p);
  assert.equal(hit(["sensors", "all"])?.entry.path, "/sensors/all");
  assert.deepEqual(hit(["sensors", "7"])?.params, { id: "7" });
  assert.equal(hit(["lights", "all"])?.entry.path, "/[x]/all");
  assert.equal(hit([])?.entry.path, "/");
  assert.equal(hit(["sensors", ""]), undefined); // an empty segment is not an id
  assert.equal(hit(["sensors", "7", "x"]), undefined);
});

test("registry schema", () => {
  const reg = { version: 1, resources: [{ path: "/hello", methods: ["GET"], title: "Hello", rt: "greeting", ct: 0 }, { path: "/t/[id]", methods: ["GET", "PUT"], ct: [50, 60] }] };
  assert.deepEqual(RegistrySchema.parse(reg), reg);
  assert.equal(RegistrySchema.safeParse({ ...reg, version: 2 }).success, false);
  assert.equal(RegistrySchema.safeParse({ version: 1, resources: [{ path: "hello", methods: [] }] }).success, false);
  assert.equal(RegistrySchema.safeParse({ version: 1, resources: [{ path: "/a", methods: ["BREW"] }] }).success, false);
});
