// defineResource + dispatch: what a handler sees, how its answers and errors become CoAP
// responses, and the registry's checks on route files.
import assert from "node:assert/strict";
import { test } from "node:test";
import { createRegistry, defineResource, dispatch, ResourceError, type ResourceRequest } from "@coaps-edge/cloud/lib";
import { Code, decodeBase64, encodeBase64 } from "@coaps-edge/shared";
import * as z from "zod/mini";
import * as zc from "zod";
import { envelope, text, utf8, type EnvelopeInput } from "./helpers.js";

let seen: ResourceRequest<string, unknown, unknown> | undefined;
const registry = createRegistry([
  {
    path: "/things/[kind]/[id]",
    resource: defineResource({
      params: ["kind", "id"],
      get: {
        handler: (req) => {
          seen = req as ResourceRequest<string, unknown, unknown>;
          // @ts-expect-error only the declared params exist on req.params
          void req.params.other;
          return { text: `${req.params.kind}:${req.params.id}` };
        },
      },
    }),
  },
  { path: "/things/all/[id]", resource: defineResource({ get: { handler: () => ({ text: "static wins" }) } }) },
  {
    path: "/q",
    resource: defineResource({
      get: {
        query: z.object({ n: z.coerce.number().check(z.int(), z.maximum(10)), tag: z.optional(z.string()) }),
        handler: (req) => ({ json: { n: req.query.n, tag: req.query.tag ?? null } }),
      },
    }),
  },
  {
    path: "/classic",
    resource: defineResource({
      post: { payload: zc.object({ name: zc.string().min(2) }), handler: (req) => ({ code: "2.01", text: `hi ${req.json.name}`, locationPath: "/classic/1" }) },
    }),
  },
  {
    path: "/answers",
    resource: defineResource({
      get: {
        query: z.object({ kind: z.string() }),
        handler: (req) => {
          switch (req.query.kind) {
            case "forbidden":
              throw new ResourceError("4.03", "not yours");
            case "conflict":
              throw new ResourceError(Code.Conflict);
            case "crash":
              throw new Error("secret internals");
            case "bad-code":
              return { code: 0x01 };
            case "bad-code-text":
              return { code: "2.99" as "2.05" };
            case "two-bodies":
              return { text: "a", json: 1 };
            case "bad-max-age":
              return { text: "x", maxAge: -1 };
            case "long-etag":
              return { text: "x", etag: "123456789" };
            case "full":
              return { payload: Uint8Array.of(1, 2), etag: "v1", maxAge: 30, locationPath: ["a", "b"], options: [{ number: 2052, value: Uint8Array.of(7) }] };
            case "void":
              return;
            default:
              return { text: "?" };
          }
        },
      },
      delete: { handler: () => undefined },
      post: { handler: () => ({}) },
      fetch: { handler: (req) => ({ text: `json is ${JSON.stringify(req.json)}` }) },
    }),
  },
  { path: "/raw", resource: defineResource({ ct: 42, get: { handler: () => ({ payload: Uint8Array.of(9) }) } }) },
]);

const run = async (input: EnvelopeInput) => dispatch(envelope(input), registry, { SOME_VAR: "v" });

test("the handler sees params, query, peer, options, ids, env", async () => {
  const r = await run({ path: "/things/lamp/7", query: ["a=1", "a=2", "flag"], options: [{ number: 2049, value: encodeBase64(Uint8Array.of(5)) }], peer: { auth: "x509", identity: "cn-1", certificateSha256: "0f".repeat(32) } });
  assert.equal(text(r.payload), "lamp:7");
  assert.ok(seen);
  assert.deepEqual(seen.params, { kind: "lamp", id: "7" });
  assert.deepEqual(seen.query, { a: "1", flag: "" });
  assert.deepEqual(seen.queryItems, ["a=1", "a=2", "flag"]);
  assert.deepEqual(seen.options, [{ number: 2049, value: Uint8Array.of(5) }]);
  assert.deepEqual(seen.peer, { address: "fd00::1", port: 49152, auth: "x509", identity: "cn-1", certificateSha256: "0f".repeat(32) });
  assert.equal(seen.gatewayId, "gw-test");
  assert.equal(seen.requestId, "req-1");
  assert.equal(seen.env.SOME_VAR, "v");
  assert.equal(seen.method, "GET");
});

test("a static segment beats a parameter in the same place", async () => {
  assert.equal(text((await run({ path: "/things/all/7" })).payload), "static wins");
});

test("query schema: coerced and typed, or 4.00 with a diagnostic", async () => {
  assert.deepEqual(JSON.parse(text((await run({ path: "/q", query: ["n=3"] })).payload)), { n: 3, tag: null });
  const bad = await run({ path: "/q", query: ["n=11"] });
  assert.equal(bad.code, "4.00");
  assert.match(text(bad.payload), /^invalid query: query\.n: Too big/);
  assert.equal((await run({ path: "/q" })).code, "4.00");
});

test("zod classic schemas work too; 2.01 with Location-Path", async () => {
  const ok = await run({ method: "POST", path: "/classic", payload: '{"name":"ann"}', contentFormat: 50 });
  assert.deepEqual({ code: ok.code, text: text(ok.payload), loc: ok.locationPath, cf: ok.contentFormat }, { code: "2.01", text: "hi ann", loc: ["classic", "1"], cf: 0 });
  const bad = await run({ method: "POST", path: "/classic", payload: '{"name":"a"}', contentFormat: 50 });
  assert.equal(bad.code, "4.00");
  assert.match(text(bad.payload), /payload\.name: Too small/);
});

test("handler errors: ResourceError → its code and message; anything else → 5.00 without internals", async () => {
  const forbidden = await run({ path: "/answers", query: ["kind=forbidden"] });
  assert.deepEqual([forbidden.code, text(forbidden.payload)], ["4.03", "not yours"]);
  assert.equal((await run({ path: "/answers", query: ["kind=conflict"] })).code, "4.09");
  const crash = await run({ path: "/answers", query: ["kind=crash"] });
  assert.deepEqual([crash.code, text(crash.payload)], ["5.00", "internal server error"]);
  assert.throws(() => new ResourceError("2.05"), RangeError);
  assert.throws(() => new ResourceError("4.5"), RangeError);
});

test("invalid handler answers become 5.00", async () => {
  for (const kind of ["bad-code", "bad-code-text", "two-bodies", "bad-max-age", "long-etag"]) {
    const r = await run({ path: "/answers", query: [`kind=${kind}`] });
    assert.equal(r.code, "5.00", kind);
  }
});

test("answer fields map to the envelope; default codes per method", async () => {
  const full = await run({ path: "/answers", query: ["kind=full"] });
  assert.deepEqual(full, {
    version: 1, code: "2.05", options: [{ number: 2052, value: "Bw==" }], maxAge: 30,
    etag: encodeBase64(utf8("v1")), locationPath: ["a", "b"], payload: encodeBase64(Uint8Array.of(1, 2)),
  });
  assert.equal((await run({ path: "/answers", query: ["kind=void"] })).code, "2.05");
  assert.equal((await run({ method: "DELETE", path: "/answers" })).code, "2.02");
  assert.equal((await run({ method: "POST", path: "/answers" })).code, "2.04");
  // The resource's single ct applies to a raw payload.
  const raw = await run({ path: "/raw" });
  assert.equal(raw.contentFormat, 42);
  assert.deepEqual(decodeBase64(raw.payload), Uint8Array.of(9));
  assert.equal((await run({ path: "/raw", accept: 50 })).code, "4.06");
});

test("without a payload schema, req.json parses on access: JSON, or 4.15 for text", async () => {
  const json = await run({ method: "FETCH", path: "/answers", payload: '{"a":[1]}', contentFormat: 50 });
  assert.equal(text(json.payload), 'json is {"a":[1]}');
  const txt = await run({ method: "FETCH", path: "/answers", payload: "plain", contentFormat: 0 });
  assert.equal(txt.code, "4.15");
});

test("registry refuses bad route modules", () => {
  const r = defineResource({ get: { handler: () => ({}) } });
  const withParams = defineResource({ params: ["id"], get: { handler: () => ({}) } });
  assert.throws(() => createRegistry([{ path: "/a", resource: r }, { path: "/a", resource: r }]), /claim the same route/);
  assert.throws(() => createRegistry([{ path: "/s/[id]", resource: r }, { path: "/s/[name]", resource: r }]), /claim the same route/);
  assert.throws(() => createRegistry([{ path: "/s/[name]", file: "s/[name].ts", resource: withParams }]), /declares params \[id\] but its path has \[name\]/);
  assert.throws(() => createRegistry([{ path: "no-slash", resource: r }]), /invalid path template/);
  assert.throws(() => createRegistry([{ path: "/x", file: "x.ts", resource: { default: r } }]), /does not export default defineResource/);
  assert.throws(() => defineResource({}), TypeError);
  assert.doesNotThrow(() => createRegistry([{ path: "/s/[id]", resource: withParams }, { path: "/", resource: r }]));
});
