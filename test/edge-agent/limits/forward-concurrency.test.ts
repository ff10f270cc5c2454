/**
 * Max concurrent forwarded requests per peer (issue 8): past `maxPerPeer` in flight the device
 * gets 5.03 with Max-Age at once (counted), other peers are served, and the slot frees when an
 * answer comes back. Outcomes are counted by the code the device got (metrics).
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { Code, Method } from "@coaps-edge/shared";
import { CloudRoutes, type ForwardRequest, type ForwardResult } from "../../../edge-agent/src/forward/index.js";
import { FakeClock } from "../../../edge-agent/src/util/clock.js";
import { FakeForwarder } from "../forward/fake-forwarder.js";

const req = (port: number): ForwardRequest => ({
  method: Method.GET,
  uriPath: ["hello"],
  uriQuery: [],
  options: [],
  payload: new Uint8Array(0),
  peer: { address: "10.0.0.1", port },
  identity: { kind: "none" },
});

test("a peer past maxPerPeer requests in flight gets 5.03 with Max-Age; others are served; slots free up", async () => {
  const fwd = new FakeForwarder([{ path: "/hello", methods: ["GET"] }]);
  const gates: Array<(r: ForwardResult) => void> = [];
  fwd.answer = () => new Promise<ForwardResult>((resolve) => gates.push(resolve));
  const routes = new CloudRoutes({ forwarder: fwd, clock: new FakeClock(), maxPerPeer: 2, busyMaxAge: 3 });
  await routes.start();

  const a1 = routes.route(req(1000));
  const a2 = routes.route(req(1000));
  await Promise.resolve();
  const a3 = await routes.route(req(1000));
  assert.equal(a3.code, Code.ServiceUnavailable);
  assert.equal(a3.maxAge, 3);
  assert.equal(routes.outcomes.peerLimited, 1);
  assert.equal(fwd.requests.length, 2, "the third never reached the cloud");
  assert.equal(routes.inFlightFor({ address: "10.0.0.1", port: 1000 }), 2);

  const b = routes.route(req(2000)); // another peer
  await Promise.resolve();
  assert.equal(fwd.requests.length, 3, "another peer is served");

  for (const g of gates.splice(0)) g({ code: Code.Content, options: [], payload: new Uint8Array(0) });
  await Promise.all([a1, a2, b]);
  assert.equal(routes.inFlightFor({ address: "10.0.0.1", port: 1000 }), 0);
  fwd.answer = () => ({ code: Code.GatewayTimeout, options: [], payload: new Uint8Array(0) });
  assert.equal((await routes.route(req(1000))).code, Code.GatewayTimeout, "slots freed");
  assert.deepEqual(routes.outcomes, { peerLimited: 1, ok: 3, serviceUnavailable: 1, gatewayTimeout: 1, badGateway: 0, other: 0 });
});
