/**
 * Soak test (`npm run soak`, not in CI; issue 8): `coaps-edge agent` (spawned through the CLI,
 * DTLS-PSK) behind the lossy UDP proxy (test/helpers/lossy-proxy.ts), N DTLS sessions (each its
 * own client port) and a mixed CoAP load for a while: GET /hello, POST /echo, GET
 * /sensors/{id}/temperature, now and then GET /large (Block2) and a 4 KiB PUT /echo (Block1 +
 * Block2). Every request must come back with the right answer: CoAP and DTLS retransmission
 * recover the link's losses. Prints requests sent / answered / lost (lost must be 0) and the
 * agent's RSS at start and end; exits 1 if anything was lost.
 *
 *   npm run soak -- [--minutes 10] [--sessions 1000] [--loss 0.02] [--concurrency 64] [--seed 1]
 */
import { spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { CoapClient } from "../edge-agent/src/client/client.js";
import { DtlsClient } from "../edge-agent/src/dtls/client.js";
import { UdpEndpoint } from "../edge-agent/src/transport/udp.js";
import type { PeerAddress } from "../edge-agent/src/transport/types.js";
import { largeText } from "../cloud/resources/large.js";
import { freeUdpPortPair } from "../test/helpers/libcoap.js";
import { LossyProxy, seededRandom } from "../test/helpers/lossy-proxy.js";

const { values } = parseArgs({
  options: {
    minutes: { type: "string", default: process.env.SOAK_MINUTES ?? "10" },
    sessions: { type: "string", default: process.env.SOAK_SESSIONS ?? "1000" },
    loss: { type: "string", default: process.env.SOAK_LOSS ?? "0.02" },
    concurrency: { type: "string", default: "64" },
    seed: { type: "string", default: "1" },
  },
});
const MINUTES = Number(values.minutes);
const SESSIONS = Number(values.sessions);
const LOSS = Number(values.loss);
const CONCURRENCY = Number(values.concurrency);
const SEED = Number(values.seed);
const CLI = fileURLToPath(new URL("../edge-agent/bin/coaps-edge.mjs", import.meta.url));
const PSK = { identity: "demo", key: new TextEncoder().encode("demo-secret-psk") };
const LARGE = largeText();

function rssMiB(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
  return m ? Number(m[1]) / 1024 : NaN;
}

const log = (msg: string): void => console.log(`[soak ${new Date().toISOString().slice(11, 19)}] ${msg}`);

interface Session {
  readonly client: CoapClient;
  readonly dtls: DtlsClient;
  readonly lower: UdpEndpoint;
  busy: boolean;
}

async function main(): Promise<number> {
  const dir = await mkdtemp(join(tmpdir(), "coaps-soak-"));
  const port = await freeUdpPortPair();
  const config = join(dir, "agent.json");
  await writeFile(
    config,
    JSON.stringify({
      listen: { address: "127.0.0.1", port },
      coaps: { enabled: true, psk: [{ identity: "demo", key: "demo-secret-psk" }], maxSessions: SESSIONS * 2, maxHalfOpen: 200, idleTimeoutMs: 0 },
      // Every session arrives from the proxy's address: the per-address handshake limit is off here.
      limits: { handshakesPerSecond: 0 },
      logging: { level: "warn" },
      // Scraped at the end for the kernel's per-socket receive drops (udp_receive_drops_total).
      metrics: { enabled: true, address: "127.0.0.1", port: 0 },
    }),
  );
  const agent = spawn(process.execPath, [CLI, "agent", "--config", config, "--no-tcp", "--no-tls"], { stdio: ["ignore", "pipe", "pipe"] });
  let agentErr = "";
  agent.stderr.on("data", (c: Buffer) => (agentErr += c.toString()));
  agent.stdout.on("data", (c: Buffer) => (agentErr += c.toString()));
  const proxies: LossyProxy[] = [];
  const sessions: Session[] = [];
  try {
    const deadline = Date.now() + 30_000;
    while (!/listening on/.test(agentErr)) {
      if (Date.now() > deadline || agent.exitCode !== null) throw new Error(`agent did not start: ${agentErr.slice(-1000)}`);
      await new Promise((r) => setTimeout(r, 50));
    }
    const faults = { loss: LOSS, duplicate: 0.01, reorder: 0.02, reorderMs: 20, delayMs: [1, 10] as const, mtu: 1280 };
    const proxy = await LossyProxy.start({ target: { address: "127.0.0.1", port: port + 1 }, seed: SEED, up: faults, down: faults });
    proxies.push(proxy);
    const via: PeerAddress = { address: "127.0.0.1", port: proxy.port, family: "IPv4" };
    const rssStart = rssMiB(agent.pid!);
    log(`agent pid ${agent.pid} on coaps://127.0.0.1:${port + 1}, proxy :${proxy.port} (loss ${LOSS} both ways); agent RSS ${rssStart.toFixed(1)} MiB`);

    // Sessions: handshakes 32 at a time (each retransmits its flights through the losses).
    const t0 = Date.now();
    let next = 0;
    await Promise.all(
      Array.from({ length: 32 }, async () => {
        while (next < SESSIONS) {
          next++;
          const lower = await UdpEndpoint.bind({ address: "127.0.0.1", port: 0 });
          const dtls = await DtlsClient.connect(lower, via, { psk: PSK, handshakeTimeoutMs: 120_000 });
          sessions.push({ client: new CoapClient({ endpoint: dtls }), dtls, lower, busy: false });
        }
      }),
    );
    const rssSessions = rssMiB(agent.pid!);
    log(`${sessions.length} sessions in ${((Date.now() - t0) / 1000).toFixed(1)} s; agent RSS ${rssSessions.toFixed(1)} MiB`);

    // Mixed load until the time is up.
    const random = seededRandom(SEED ^ 0x50a4);
    const counts = { sent: 0, answered: 0, lost: 0 };
    const byKind = new Map<string, number>();
    const failures: string[] = [];
    const end = Date.now() + MINUTES * 60_000;
    let lastReport = Date.now();
    const base = `coaps://127.0.0.1:${proxy.port}`;

    async function one(): Promise<void> {
      let s: Session | undefined;
      for (let tries = 0; tries < 8 && (!s || s.busy); tries++) s = sessions[Math.floor(random() * sessions.length)];
      if (!s || s.busy) return new Promise((r) => setTimeout(r, 5));
      s.busy = true;
      const r = random();
      const n = counts.sent++;
      let kind: string;
      let check: (payload: string, code: string) => boolean;
      let req: Parameters<CoapClient["request"]>[0];
      if (r < 0.02) {
        kind = "GET /large";
        req = { uri: `${base}/large` };
        check = (p, c) => c === "2.05" && p === LARGE;
      } else if (r < 0.03) {
        kind = "PUT /echo 4 KiB";
        const body = `${n}:`.padEnd(4096, "x");
        req = { uri: `${base}/echo`, method: "PUT", payload: body, contentFormat: 0 };
        check = (p, c) => c.startsWith("2.") && p === body;
      } else if (r < 0.4) {
        kind = "POST /echo";
        const body = `echo ${n} ${"y".repeat(n % 200)}`;
        req = { uri: `${base}/echo`, method: "POST", payload: body, contentFormat: 0 };
        check = (p, c) => c.startsWith("2.") && p === body;
      } else if (r < 0.7) {
        kind = "GET /sensors/{id}/temperature";
        req = { uri: `${base}/sensors/${n % 50}/temperature` };
        check = (_p, c) => c === "2.05";
      } else {
        kind = "GET /hello";
        req = { uri: `${base}/hello` };
        check = (p, c) => c === "2.05" && p.length > 0;
      }
      byKind.set(kind, (byKind.get(kind) ?? 0) + 1);
      try {
        const res = await s.client.request(req);
        const text = new TextDecoder().decode(res.payload);
        if (check(text, res.codeText)) counts.answered++;
        else {
          counts.lost++;
          failures.push(`${kind}: ${res.codeText} ${text.slice(0, 80)}`);
        }
      } catch (e) {
        counts.lost++;
        failures.push(`${kind}: ${(e as Error).message}`);
      } finally {
        s.busy = false;
      }
    }

    await Promise.all(
      Array.from({ length: CONCURRENCY }, async () => {
        while (Date.now() < end) {
          await one();
          if (Date.now() - lastReport > 30_000) {
            lastReport = Date.now();
            log(`sent ${counts.sent} answered ${counts.answered} lost ${counts.lost}; agent RSS ${rssMiB(agent.pid!).toFixed(1)} MiB; proxy lost ${proxy.stats.up.lost}↑ ${proxy.stats.down.lost}↓`);
          }
        }
      }),
    );
    const rssEnd = rssMiB(agent.pid!);
    const alive = agent.exitCode === null;
    const metricsUrl = /metrics on (http:\/\/\S+)/.exec(agentErr)?.[1];
    const scraped = metricsUrl ? await fetch(metricsUrl).then((r) => r.text(), (e: Error) => `# scrape failed: ${e.message}`) : "";
    const metric = (name: string) => scraped.split("\n").filter((l) => l.startsWith(`coaps_edge_${name}`)).map((l) => l.replace("coaps_edge_", "")).join(", ");
    console.log("");
    console.log(`requests sent     ${counts.sent}`);
    console.log(`requests answered ${counts.answered}`);
    console.log(`requests lost     ${counts.lost}`);
    console.log(`mix               ${[...byKind].map(([k, v]) => `${k}: ${v}`).join(", ")}`);
    console.log(`sessions          ${sessions.length} (DTLS, each its own client port, through the proxy)`);
    console.log(`proxy             up ${JSON.stringify(proxy.stats.up)} down ${JSON.stringify(proxy.stats.down)}`);
    console.log(`agent RSS         start ${rssStart.toFixed(1)} MiB, after handshakes ${rssSessions.toFixed(1)} MiB, end ${rssEnd.toFixed(1)} MiB; ${alive ? "running" : "EXITED"}`);
    console.log(`agent metrics     ${metric("udp_receive_drops_total")}; ${metric("dtls_sessions ")}; ${metric("coap_dedup_hits_total")}`);
    for (const f of failures.slice(0, 20)) console.log(`  lost: ${f}`);
    return counts.lost === 0 && counts.sent > 0 && alive ? 0 : 1;
  } finally {
    await Promise.all(sessions.map(async (s) => {
      await s.client.close().catch(() => {});
      await s.dtls.close().catch(() => {});
      await s.lower.close().catch(() => {});
    }));
    for (const p of proxies) await p.close();
    agent.kill("SIGTERM");
    await rm(dir, { recursive: true, force: true });
  }
}

main().then(
  (code) => process.exit(code),
  (e: unknown) => {
    console.error(e);
    process.exit(2);
  },
);
