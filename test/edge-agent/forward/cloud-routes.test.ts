// CloudRoutes: local 4.04/4.05 from the registry, forwarding, and the refresh policy (fake clock).
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { Code, Method, utf8Decode } from "@coaps-edge/shared";
import { CloudRoutes, type ForwardRequest } from "../../../edge-agent/src/forward/index.js";
import { FakeClock } from "../../../edge-agent/src/util/clock.js";
import { FakeForwarder } from "./fake-forwarder.js";

const req = (uriPath: string[], method: number = Method.GET): ForwardRequest => ({
  method,
  uriPath,
  uriQuery: [],
  options: [],
  payload: new Uint8Array(0),
  peer: { address: "127.0.0.1", port: 40000 },
  identity: { kind: "none" },
});

const REGISTRY = [
  { path: "/hello", methods: ["GET" as const], title: "Hello", rt: "greeting", ct: 0 },
  { path: "/sensors/[id]/temperature", methods: ["GET" as const, "PUT" as const] },
];

describe("CloudRoutes", () => {
  it("answers unknown paths 4.04 and missing methods 4.05 without a round trip, with the Worker's diagnostics", async () => {
    const fwd = new FakeForwarder(REGISTRY);
    const routes = new CloudRoutes({ forwarder: fwd, clock: new FakeClock() });
    await routes.start();
    const nf = await routes.route(req(["nope", "x"]));
    assert.deepEqual([nf.code, utf8Decode(nf.payload)], [Code.NotFound, "no resource at /nope/x"]);
    const mna = await routes.route(req(["sensors", "7", "temperature"], Method.DELETE));
    assert.deepEqual([mna.code, utf8Decode(mna.payload)], [Code.MethodNotAllowed, "DELETE not allowed on /sensors/[id]/temperature"]);
    assert.equal(fwd.requests.length, 0);
    const ok = await routes.route(req(["sensors", "7", "temperature"], Method.PUT));
    assert.equal(utf8Decode(ok.payload), "cloud /sensors/7/temperature");
    assert.deepEqual(routes.stats, { forwarded: 1, failures: 0, notFound: 1, methodNotAllowed: 1, registryFetches: 1, registryFailures: 0 });
    assert.deepEqual((await routes.links()).map((l) => l.href), ["/hello"], "templates are not links");
  });

  it("without refresh (embedded), a miss never fetches the registry again", async () => {
    const clock = new FakeClock();
    const fwd = new FakeForwarder(REGISTRY);
    const routes = new CloudRoutes({ forwarder: fwd, clock, missRefreshMs: 0 });
    await routes.start();
    clock.advance(3_600_000);
    assert.equal((await routes.route(req(["new"]))).code, Code.NotFound);
    assert.equal(fwd.registryFetches, 1);
    assert.equal(clock.pending, 0, "no periodic timer");
  });

  it("a miss re-fetches the registry (at most once per missRefreshMs) and finds a newly deployed route", async () => {
    const clock = new FakeClock();
    const fwd = new FakeForwarder(REGISTRY);
    const routes = new CloudRoutes({ forwarder: fwd, clock, missRefreshMs: 10_000 });
    await routes.start();
    fwd.resources = [...REGISTRY, { path: "/new", methods: ["GET"] }];
    // Within 10 s of the start fetch: answered from the registry as it is.
    assert.equal((await routes.route(req(["new"]))).code, Code.NotFound);
    assert.equal(fwd.registryFetches, 1);
    clock.advance(10_000);
    const r = await routes.route(req(["new"]));
    assert.equal(utf8Decode(r.payload), "cloud /new");
    assert.equal(fwd.registryFetches, 2);
    // Probing random paths costs one fetch per interval, not one per request.
    for (let i = 0; i < 50; i++) assert.equal((await routes.route(req([`probe${i}`]))).code, Code.NotFound);
    assert.equal(fwd.registryFetches, 2);
  });

  it("concurrent misses share one registry fetch", async () => {
    const clock = new FakeClock();
    const fwd = new FakeForwarder(REGISTRY);
    const routes = new CloudRoutes({ forwarder: fwd, clock, missRefreshMs: 1000 });
    await routes.start();
    clock.advance(1000);
    let open!: () => void;
    fwd.registryGate = new Promise((resolve) => (open = resolve));
    const answers = Promise.all([routes.route(req(["a"])), routes.route(req(["b"])), routes.route(req(["c"]))]);
    open();
    assert.deepEqual((await answers).map((r) => r.code), [Code.NotFound, Code.NotFound, Code.NotFound]);
    assert.equal(fwd.registryFetches, 2);
  });

  it("with no registry (cloud down at start), forwards everything and fetches again (rate-limited)", async () => {
    const clock = new FakeClock();
    const fwd = new FakeForwarder(undefined);
    const routes = new CloudRoutes({ forwarder: fwd, clock, missRefreshMs: 5000 });
    await routes.start();
    assert.equal(routes.view, undefined);
    assert.equal(routes.stats.registryFailures, 1);
    assert.equal(utf8Decode((await routes.route(req(["anything"]))).payload), "cloud /anything");
    assert.equal(fwd.registryFetches, 1, "within the interval: no new fetch");
    assert.deepEqual(await routes.links(), []);
    fwd.resources = REGISTRY;
    clock.advance(5000);
    await routes.route(req(["anything"])); // forwarded; starts a fetch in the background
    await routes.refresh(); // joins it
    assert.ok(routes.view);
    assert.equal((await routes.route(req(["anything"]))).code, Code.NotFound);
  });

  it("refreshes periodically, and in the background when the cloud 4.04s a listed path", async () => {
    const clock = new FakeClock();
    const fwd = new FakeForwarder(REGISTRY);
    const routes = new CloudRoutes({ forwarder: fwd, clock, refreshIntervalMs: 60_000, missRefreshMs: 10_000 });
    await routes.start();
    clock.advance(60_000);
    await routes.refresh(); // the timer's fetch is in flight: join it
    assert.equal(fwd.registryFetches, 2);
    // The route was removed from the Worker: it answers 4.04; the registry is fetched again.
    fwd.resources = REGISTRY.slice(1);
    fwd.answer = () => ({ code: Code.NotFound, options: [], payload: new Uint8Array(0) });
    clock.advance(10_000);
    assert.equal((await routes.route(req(["hello"]))).code, Code.NotFound);
    await routes.refresh();
    assert.equal(fwd.registryFetches, 3);
    assert.equal(routes.view?.lookup(["hello"], Method.GET).kind, "not-found");
    await routes.close();
    assert.equal(clock.pending, 0, "close stops the timer");
    assert.ok(fwd.closed);
  });

  it("counts failed exchanges and passes the mapped answer through", async () => {
    const fwd = new FakeForwarder(REGISTRY);
    fwd.answer = () => ({ code: Code.ServiceUnavailable, options: [], payload: new Uint8Array(0), maxAge: 10, failure: { kind: "unreachable", message: "down" } });
    const routes = new CloudRoutes({ forwarder: fwd, clock: new FakeClock() });
    await routes.start();
    const r = await routes.route(req(["hello"]));
    assert.deepEqual([r.code, r.maxAge], [Code.ServiceUnavailable, 10]);
    assert.equal(routes.stats.failures, 1);
  });
});
