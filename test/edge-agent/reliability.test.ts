/**
 * The message layer over a lossy link (STYLE.md §11, after pion's e2e_lossy_test): 200 CON
 * requests through an in-memory network that drops 30 % of the datagrams in each direction
 * (seeded, on a fake clock). Every request must get its response exactly once, and the
 * handler must run once per request: lost ACKs make the client retransmit, and the server
 * answers those duplicates from its dedup cache.
 *
 * MAX_RETRANSMIT is raised to 12 here: with 30 % loss each way one attempt succeeds with
 * p = 0.49, so the RFC default of 5 attempts loses ~3.5 % of exchanges (0.51^5) — that is
 * CoAP working as specified, not what this test is about.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { Code } from "@coaps-edge/shared";
import { CoapClient, type CoapClientResponse } from "../../edge-agent/src/client/index.js";
import { CoapServer } from "../../edge-agent/src/server/index.js";
import type { LinkConditions } from "../../edge-agent/src/transport/memory.js";
import { fakeNet, flush, text } from "./coap-kit.js";

async function lossyRun(conditions: LinkConditions, seed: number) {
  const { clock, net } = fakeNet(conditions, seed);
  const transmission = { maxRetransmit: 12 };
  let rnd = seed;
  const random = () => ((rnd = (rnd * 1103515245 + 12345) & 0x7fffffff) / 0x80000000);
  const server = new CoapServer({ clock, transmission, random });
  server.attach(net.endpoint(5683));
  const calls = new Map<string, number>();
  server.addResource("/req/{n}", {
    post: (r) => {
      calls.set(r.params.n!, (calls.get(r.params.n!) ?? 0) + 1);
      return { code: Code.Changed, payload: `done ${r.params.n}` };
    },
  });
  const client = new CoapClient({ clock, endpoint: net.endpoint(), transmission, random, timeoutMs: 24 * 3600_000 });

  const results: (CoapClientResponse | Error)[] = [];
  let settled = 0;
  for (let i = 0; i < 200; i++) {
    client.request({ method: "POST", uri: `coap://127.0.0.1:5683/req/${i}`, payload: String(i) }).then(
      (r) => ((results[i] = r), settled++),
      (e: Error) => ((results[i] = e), settled++),
    );
  }
  for (let guard = 0; settled < 200 && guard < 100_000; guard++) {
    await flush(1);
    clock.advance(1000);
  }
  await flush();
  return { results, calls, server, net, client };
}

describe("reliability over a lossy link", () => {
  it("200 CON requests with 30 % loss each way: each answered exactly once, each handler run once", async () => {
    const { results, calls, server, net, client } = await lossyRun({ loss: 0.3 }, 42);
    assert.ok(net.stats.lost > 100, `the link lost ${net.stats.lost} datagrams`);
    for (let i = 0; i < 200; i++) {
      const r = results[i];
      assert.ok(r && !(r instanceof Error), `request ${i}: ${r instanceof Error ? r.message : "no result"}`);
      assert.equal(r.code, Code.Changed);
      assert.equal(text(r.payload), `done ${i}`);
    }
    assert.equal(calls.size, 200);
    assert.ok([...calls.values()].every((n) => n === 1), "no handler ran twice");
    const layer = server.layers[0]!;
    assert.ok(layer.stats.duplicates > 0, "retransmitted requests were answered from the dedup cache");
    assert.equal(server.stats.requests, 200);
    assert.ok(client.layers[0]!.stats.retransmissions > 0);
  });

  it("the same with duplication and reordering on top", async () => {
    const { results, calls, server } = await lossyRun({ loss: 0.3, duplicate: 0.2, delayMs: 5, jitterMs: 40 }, 7);
    assert.equal(results.filter((r) => r && !(r instanceof Error) && r.code === Code.Changed).length, 200);
    assert.ok([...calls.values()].every((n) => n === 1));
    assert.equal(calls.size, 200);
    assert.ok(server.layers[0]!.stats.duplicates > 0);
  });
});
