// Gateway health in process (app.request): POST /v1/health with the gateway token, the last
// report per gateway, GET /v1/gateways with the operator token; the KV store; and the round trip
// agent → HealthReporter → Worker app → GET /v1/gateways, with the Thread part read from a
// recorded OTBR answer (test/vectors/otbr/otbr-2023-leader.json).
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { after, describe, it } from "node:test";
import { createCloudApp, createRegistry, routes } from "@coaps-edge/cloud/lib";
import { generateGatewayKeyPair } from "@coaps-edge/shared";
import { KvHealthStore, MemoryHealthStore, type KvLike } from "../../cloud/src/gateways.js";
import { createAgent, validateAgentConfig, type Agent } from "../../edge-agent/src/agent.js";
import { HealthReporter, collectHealth, AGENT_VERSION } from "../../edge-agent/src/health/index.js";
import { readThreadStatus } from "../../edge-agent/src/otbr/index.js";
import { ENV, GATEWAY_ID, token } from "./helpers.js";

const OPERATOR = "op-secret-token";
const T0 = Date.UTC(2026, 0, 1);
let clock = T0;

const report = (over: Record<string, unknown> = {}) => ({
  version: "0.1.0",
  uptimeSeconds: 12,
  sessions: 2,
  handshakes: { ok: 3, failed: 1 },
  errors: { handlerErrors: 0 },
  requests: 40,
  ...over,
});

function makeApp(env: Record<string, unknown> = { ...ENV, OPERATOR_TOKEN: OPERATOR }, store = new MemoryHealthStore()) {
  const app = createCloudApp({ registry: createRegistry(routes), now: () => clock, gateways: { store, now: () => clock } });
  const postHealth = (authorization: string | undefined, body: string) =>
    app.request("/v1/health", { method: "POST", headers: { ...(authorization !== undefined && { authorization }), "content-type": "application/json" }, body }, env);
  const list = (authorization?: string) => app.request("/v1/gateways", { headers: authorization !== undefined ? { authorization } : {} }, env);
  return { app, postHealth, list, env };
}

describe("POST /v1/health and GET /v1/gateways", () => {
  it("keeps the last report per gateway and lists it for the operator with its age", async () => {
    const { postHealth, list } = makeApp();
    clock = T0;
    assert.equal((await postHealth(`Bearer ${token(clock)}`, JSON.stringify(report({ requests: 1 })))).status, 204);
    clock = T0 + 5000;
    assert.equal((await postHealth(`Bearer ${token(clock)}`, JSON.stringify(report({ requests: 2 })))).status, 204);
    clock = T0 + 65_000;
    const res = await list(`Bearer ${OPERATOR}`);
    assert.equal(res.status, 200);
    const body = (await res.json()) as { gateways: { gatewayId: string; receivedAt: string; ageSeconds: number; report: { requests: number } }[] };
    assert.equal(body.gateways.length, 1);
    assert.equal(body.gateways[0]!.gatewayId, GATEWAY_ID);
    assert.equal(body.gateways[0]!.report.requests, 2, "the last report wins");
    assert.equal(body.gateways[0]!.receivedAt, new Date(T0 + 5000).toISOString());
    assert.equal(body.gateways[0]!.ageSeconds, 60);
  });

  it("refuses a report without a valid gateway token (401) and a malformed one (400), storing nothing", async () => {
    const { postHealth, list } = makeApp();
    clock = T0;
    assert.equal((await postHealth(undefined, JSON.stringify(report()))).status, 401);
    assert.equal((await postHealth(`Bearer ${OPERATOR}`, JSON.stringify(report()))).status, 401, "the operator token is not a gateway token");
    const other = generateGatewayKeyPair();
    assert.equal((await postHealth(`Bearer ${token(clock, GATEWAY_ID, other.privateKey)}`, JSON.stringify(report()))).status, 401);
    const bad = await postHealth(`Bearer ${token(clock)}`, JSON.stringify(report({ sessions: -1 })));
    assert.equal(bad.status, 400);
    assert.match(((await bad.json()) as { message: string }).message, /sessions/);
    assert.equal((await postHealth(`Bearer ${token(clock)}`, "{not json")).status, 400);
    const res = await list(`Bearer ${OPERATOR}`);
    assert.deepEqual(await res.json(), { gateways: [] });
  });

  it("GET /v1/gateways: 401 without or with a wrong operator token (a gateway token is not one), 403 when none is configured", async () => {
    const { list } = makeApp();
    assert.equal((await list()).status, 401);
    assert.equal((await list("Bearer wrong-token")).status, 401);
    assert.equal((await list(`Bearer ${token(clock)}`)).status, 401);
    const noOperator = makeApp({ ...ENV });
    const res = await noOperator.list(`Bearer ${OPERATOR}`);
    assert.equal(res.status, 403);
    assert.equal(((await res.json()) as { error: string }).error, "operator-token-unset");
  });

  it("uses the GATEWAY_HEALTH KV binding when the app has no store: one key per gateway", async () => {
    const kv = new Map<string, string>();
    const fake: KvLike = {
      get: async (k) => (kv.has(k) ? (JSON.parse(kv.get(k)!) as unknown) : null),
      put: async (k, v) => void kv.set(k, v),
      list: async ({ prefix }) => ({ keys: [...kv.keys()].filter((k) => k.startsWith(prefix)).map((name) => ({ name })), list_complete: true }),
    };
    const env = { ...ENV, OPERATOR_TOKEN: OPERATOR, GATEWAY_HEALTH: fake };
    const app = createCloudApp({ registry: createRegistry(routes), now: () => clock });
    clock = T0;
    const post = await app.request("/v1/health", { method: "POST", headers: { authorization: `Bearer ${token(clock)}` }, body: JSON.stringify(report()) }, env);
    assert.equal(post.status, 204);
    assert.deepEqual([...kv.keys()], [`health:${GATEWAY_ID}`]);
    const stored = await new KvHealthStore(fake).list();
    assert.equal(stored[0]?.gatewayId, GATEWAY_ID);
    const res = await app.request("/v1/gateways", { headers: { authorization: `Bearer ${OPERATOR}` } }, env);
    assert.equal(((await res.json()) as { gateways: unknown[] }).gateways.length, 1);
  });
});

describe("health round trip: agent → HealthReporter → Worker app → GET /v1/gateways", () => {
  let agent: Agent | undefined;
  after(async () => agent?.close());

  it("reports sessions, handshakes, errors, uptime, version and the OTBR's Thread role, network name, partition and neighbours", async () => {
    agent = await createAgent(validateAgentConfig({ listen: { port: 0 }, logging: { level: "silent" } }));
    const { app, list, env } = makeApp();
    clock = Date.now();
    const vector = JSON.parse(readFileSync(new URL("../vectors/otbr/otbr-2023-leader.json", import.meta.url), "utf8")) as {
      responses: Record<string, { status: number; body: unknown }>;
    };
    const otbrFetch = (async (input: string | URL | Request) => {
      const r = vector.responses[new URL(String(input)).pathname];
      return r ? Response.json(r.body, { status: r.status }) : new Response("not found", { status: 404 });
    }) as typeof fetch;
    const started = Date.now() - 42_000;
    const reporter = new HealthReporter({
      url: "https://worker.example",
      gatewayId: GATEWAY_ID,
      gatewayKey: (await import("./helpers.js")).gatewayKeys.privateKey,
      intervalMs: 60_000,
      collect: async () => collectHealth(agent!, started, Date.now(), await readThreadStatus({ baseUrl: "http://otbr.test:8081", fetch: otbrFetch })),
      fetch: (async (input: string | URL | Request, init?: RequestInit) => app.fetch(new Request(input, init), env)) as typeof fetch,
    });
    assert.equal(await reporter.reportNow(), true, `report accepted (${reporter.stats.lastError})`);
    const res = await list(`Bearer ${OPERATOR}`);
    const body = (await res.json()) as { gateways: { gatewayId: string; report: Record<string, unknown> & { thread: Record<string, unknown> } }[] };
    const got = body.gateways.find((g) => g.gatewayId === GATEWAY_ID);
    assert.ok(got, "the gateway is listed");
    assert.equal(got.report.version, AGENT_VERSION);
    assert.match(AGENT_VERSION, /^\d+\.\d+\.\d+/);
    assert.ok((got.report.uptimeSeconds as number) >= 42);
    assert.equal(got.report.sessions, 0);
    assert.deepEqual(got.report.handshakes, { ok: 0, failed: 0 });
    assert.equal(typeof (got.report.errors as Record<string, number>).handlerErrors, "number");
    assert.deepEqual(got.report.thread, { available: true, role: "leader", networkName: "OpenThread-e445", partitionId: 1230046604, neighbourCount: 3, routerCount: 3 });
    await reporter.stop();
  });

  it("an unreachable Worker or OTBR is counted, not thrown: the Thread part says why", async () => {
    const refusing = (async () => {
      throw new TypeError("fetch failed");
    }) as typeof fetch;
    const reporter = new HealthReporter({
      url: "http://127.0.0.1:9",
      gatewayId: GATEWAY_ID,
      gatewayKey: (await import("./helpers.js")).gatewayKeys.privateKey,
      intervalMs: 60_000,
      collect: async () => collectHealth(agent!, Date.now(), Date.now(), await readThreadStatus({ baseUrl: "http://otbr.test:8081", fetch: refusing })),
      fetch: refusing,
    });
    assert.equal(await reporter.reportNow(), false);
    assert.equal(reporter.stats.failed, 1);
    assert.match(reporter.stats.lastError ?? "", /fetch failed/);
    const r = collectHealth(agent!, 0, 1000, await readThreadStatus({ baseUrl: "http://otbr.test:8081", fetch: refusing }));
    assert.deepEqual(r.thread, { available: false, reason: "unreachable" });
  });
});
