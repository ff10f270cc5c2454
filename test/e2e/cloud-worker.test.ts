// End to end against the REAL Workers runtime: wrangler's unstable_startWorker runs the Worker
// (infra/wrangler/wrangler.jsonc: custom build → bundle → workerd) on 127.0.0.1, offline, with a
// fresh gateway key in GATEWAY_KEYS; HttpCloudForwarder forwards requests to it.
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { Code, ContentFormat, Method, generateGatewayKeyPair, utf8Decode, utf8Encode } from "@coaps-edge/shared";
import { HttpCloudForwarder, type ForwardRequest } from "../../edge-agent/src/forward/index.js";
import { largeText } from "../../cloud/resources/large.js";
import { forwardRequest } from "../helpers/forward.js";

process.env.WRANGLER_SEND_METRICS = "false";
process.env.CLOUDFLARE_CF_FETCH_ENABLED = "false";

const ROOT = new URL("../../", import.meta.url).pathname;
const available = existsSync(join(ROOT, "node_modules/wrangler"));
const skip = !available && process.env.CI !== "true" ? "wrangler not installed" : false;

const GATEWAY = "gw-e2e";
const key = generateGatewayKeyPair();

type Worker = { ready: Promise<void>; url: Promise<URL>; dispose(): Promise<void> };
let worker: Worker | undefined;
let url = "";

before(async () => {
  if (skip) return;
  // Wrangler resolves the custom build's cwd against the process cwd: run from the repo root.
  process.chdir(ROOT);
  const { unstable_startWorker } = await import("wrangler");
  worker = (await unstable_startWorker({
    config: join(ROOT, "infra/wrangler/wrangler.jsonc"),
    bindings: { GATEWAY_KEYS: { type: "plain_text", value: JSON.stringify({ [GATEWAY]: key.publicKey }) } },
    sendMetrics: false,
    dev: { server: { hostname: "127.0.0.1", port: 0 }, inspector: false, persist: false, watch: false, remote: false, logLevel: "warn" },
  })) as unknown as Worker;
  await worker.ready;
  url = (await worker.url).href;
});

after(async () => {
  await worker?.dispose();
});

const request = forwardRequest;

const forwarder = (gatewayKey = key.privateKey) => new HttpCloudForwarder({ url, gatewayId: GATEWAY, gatewayKey, timeoutMs: 5000 });

test("health and /hello through the Worker", { skip }, async () => {
  const health = await fetch(new URL("/health", url));
  assert.equal(health.status, 200);
  const r = await forwarder().forward(request());
  assert.deepEqual([r.code, utf8Decode(r.payload), r.contentFormat, r.maxAge], [Code.Content, "Hello from coaps-edge", ContentFormat.text, 60]);
});

test("PUT temperature: valid → 2.04, invalid → 4.00 with diagnostic; GET json", { skip }, async () => {
  const f = forwarder();
  const put = (body: string) =>
    f.forward(request({ method: Method.PUT, uriPath: ["sensors", "w1", "temperature"], payload: utf8Encode(body), contentFormat: ContentFormat.json }));
  assert.equal((await put('{"celsius":24.5}')).code, Code.Changed);
  const bad = await put('{"celsius":"hot"}');
  assert.equal(bad.code, Code.BadRequest);
  assert.equal(utf8Decode(bad.payload), "invalid payload: payload.celsius: Invalid input: expected number, received string");
  const get = await f.forward(request({ uriPath: ["sensors", "w1", "temperature"] }));
  assert.equal(get.code, Code.Content);
  assert.equal(get.contentFormat, ContentFormat.json);
  assert.equal((JSON.parse(utf8Decode(get.payload)) as { sensor: string }).sensor, "w1");
});

test("/large (16 KiB) and /whoami", { skip }, async () => {
  const f = forwarder();
  const large = await f.forward(request({ uriPath: ["large"] }));
  assert.equal(large.code, Code.Content);
  assert.equal(large.payload.length, 16384);
  assert.equal(utf8Decode(large.payload), largeText());
  const who = await f.forward(request({ uriPath: ["whoami"], identity: { kind: "psk", identity: "sensor-12" } }));
  assert.equal(utf8Decode(who.payload), "psk sensor-12");
  const reg = await f.fetchRegistry();
  assert.ok(reg.ok && reg.registry.resources.length >= 6);
});

test("a token signed with the wrong key is rejected (401 → 5.02)", { skip }, async () => {
  const r = await forwarder(generateGatewayKeyPair().privateKey).forward(request({ uriPath: ["whoami"] }));
  assert.deepEqual([r.code, r.failure?.kind, r.failure?.status], [Code.BadGateway, "rejected", 401]);
  const raw = await fetch(new URL("/v1/coap", url), { method: "POST", body: "{}" });
  assert.equal(raw.status, 401);
});
