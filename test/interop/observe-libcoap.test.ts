/**
 * Interop, Observe (RFC 7641), both ways with libcoap 4.3:
 *   - our agent's observable demo /time (a notification per second) ← `coap-client-openssl -s 3`,
 *     plain coap://, coaps:// with a PSK and coap+tcp://: several notifications arrive, and the agent's
 *     observer list is empty afterwards (coap-client deregisters, or its session went);
 *   - our CLI `coaps-edge get -s 3` → `coap-server-openssl`'s observable /time, plain and
 *     DTLS-PSK (port + 1): several notifications, one per line (and one JSON object per line
 *     with --json, with rising Observe numbers).
 * coap-client exits 0 whatever happened: the checks are on its output.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { AgentConfigSchema } from "@coaps-edge/shared";
import { createAgent, type Agent } from "../../edge-agent/src/agent.js";
import { CoapClient, type CoapNotification } from "../../edge-agent/src/client/index.js";
import { dtlsListener } from "../../edge-agent/src/dtls-listener.js";
import { dtlsEndpointFactory } from "../../edge-agent/src/dtls-connector.js";
import { findBinary, requireBinary, run, type RunningProcess, startLibcoapServer } from "../helpers/libcoap.js";
import { cliInProcessText } from "../helpers/cli.js";

const IDENTITY = "obs";
const KEY = "observe-secret";
/** Our /time: ISO 8601. */
const ISO = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;
/** libcoap's /time: "Nov 22 03:45:34". */
const LIBCOAP_TIME = /^[A-Z][a-z]{2} [ \d]\d \d{2}:\d{2}:\d{2}$/;

const cli = cliInProcessText;

/** Polls `cond` for up to `ms` (the agent drops an observer when coap-client's deregistration or RST arrives). */
async function eventually(cond: () => boolean, ms = 3000): Promise<boolean> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (cond()) return true;
    await new Promise((r) => setTimeout(r, 50));
  }
  return cond();
}

// Sequential: each case checks that the agent's observer list is empty after its client.
describe("Observe: libcoap coap-client -s → our agent's /time", () => {
  let agent: Agent;
  let plain = "";
  let secure = "";
  let tcp = "";

  before(async () => {
    const config = AgentConfigSchema.parse({
      listen: { address: "127.0.0.1", port: 0 },
      coaps: { enabled: true, address: "127.0.0.1", port: 0, psk: [{ identity: IDENTITY, key: KEY }] },
      demoResources: true,
      logging: { level: "silent" },
    });
    agent = await createAgent(config, { coapsListener: dtlsListener() });
    plain = agent.urls.find((u) => u.startsWith("coap://"))!;
    secure = agent.urls.find((u) => u.startsWith("coaps://"))!;
    tcp = agent.urls.find((u) => u.startsWith("coap+tcp://"))!;
  });

  after(async () => {
    await agent?.close();
  });

  for (const scheme of ["coap", "coaps", "coap+tcp"] as const) {
    it(`${scheme}://: several notifications in 3 s`, async (t) => {
      const bin = requireBinary(t, "coap-client-openssl");
      if (!bin) return;
      const creds = scheme === "coaps" ? ["-u", IDENTITY, "-k", KEY] : [];
      const r = await run(bin, ["-B", "10", "-s", "3", ...creds, `${scheme === "coap" ? plain : scheme === "coaps" ? secure : tcp}/time`], { timeoutMs: 30_000 });
      assert.equal(r.timedOut, false);
      // coap-client prints the bodies back to back: split on our ISO timestamps.
      const stamps = r.stdout.toString("utf8").match(/\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z/g) ?? [];
      assert.ok(stamps.length >= 3, `expected ≥ 3 representations, got ${JSON.stringify(r.stdout.toString())} / ${r.stderr.toString().slice(-300)}`);
      assert.ok(stamps.every((s) => ISO.test(s)));
      assert.deepEqual([...stamps].sort(), stamps, "in order");
      assert.equal(new Set(stamps).size, stamps.length, "each notification is a new state");
      assert.ok(agent.server.observe.stats.registrations >= 1);
      assert.ok(await eventually(() => agent.server.observe.size === 0), "coap-client deregistered (or its session ended)");
    });
  }
});

describe("Observe: our client and CLI -s → coap-server-openssl /time", { concurrency: true }, () => {
  let server: RunningProcess | undefined;
  let port = 0;

  before(async () => {
    if (!findBinary("coap-server-openssl")) return;
    ({ proc: server, port } = await startLibcoapServer("coap-server-openssl", ["-k", KEY, "-v", "4"]));
  });

  after(async () => {
    await server?.stop();
  });

  it("CLI -s 3, coap://: one notification per line", async (t) => {
    if (!requireBinary(t, "coap-server-openssl")) return;
    const r = await cli("get", "-s", "3", "-B", "5", `coap://127.0.0.1:${port}/time`);
    assert.equal(r.code, 0, r.stderr);
    const lines = r.stdout.split("\n").filter((l) => l !== "");
    assert.ok(lines.length >= 3, `got ${JSON.stringify(r.stdout)}`);
    assert.ok(lines.every((l) => LIBCOAP_TIME.test(l)), r.stdout);
  });

  it("CLI -s 3 --json, coaps:// with PSK: one JSON object per line, rising Observe numbers", async (t) => {
    if (!requireBinary(t, "coap-server-openssl")) return;
    const r = await cli("get", "--json", "-s", "3", "-B", "5", "-u", "me", "-k", KEY, `coaps://127.0.0.1:${port + 1}/time`);
    assert.equal(r.code, 0, r.stderr);
    const objs = r.stdout
      .split("\n")
      .filter((l) => l !== "")
      .map((l) => JSON.parse(l) as { code: string; payload: string; observe: number | null });
    assert.ok(objs.length >= 3, r.stdout);
    assert.ok(objs.every((o) => o.code === "2.05" && LIBCOAP_TIME.test(o.payload)));
    const seqs = objs.map((o) => o.observe ?? -1);
    assert.ok(seqs.every((s, i) => i === 0 || s > seqs[i - 1]!), `rising: ${seqs.join(",")}`);
  });

  it("CoapClient.observe over DTLS-PSK, then cancel(): notifications stop", async (t) => {
    if (!requireBinary(t, "coap-server-openssl")) return;
    const client = new CoapClient({ endpointFactory: dtlsEndpointFactory({ psk: { identity: "me", key: new TextEncoder().encode(KEY) } }) });
    try {
      const got: CoapNotification[] = [];
      const obs = await client.observe({ uri: `coaps://127.0.0.1:${port + 1}/time`, timeoutMs: 5000 }, (n) => got.push(n));
      assert.equal(obs.active, true);
      await new Promise((r) => setTimeout(r, 2500));
      await obs.cancel();
      const n = got.length;
      assert.ok(n >= 2, `notifications: ${n}`);
      await new Promise((r) => setTimeout(r, 1500));
      assert.equal(got.length, n, "none after cancel");
      assert.equal(await obs.ended, "cancelled");
    } finally {
      await client.close();
    }
  });
});
