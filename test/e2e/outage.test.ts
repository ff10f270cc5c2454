/**
 * Cloud outage during load (issue 8): `coaps-edge agent --cloud URL` forwards to the real Hono
 * app (createDefaultCloudApp behind node:http) while a device keeps 8 CON requests in flight.
 * The cloud then goes away (connection refused), comes back hung (accepts, never answers), and
 * finally recovers. Every request must end with its real answer, 5.03 (cloud unreachable) or
 * 5.04 (cloud too slow) — none may hang past the exchange lifetime (we hold it to far less: the
 * agent's cloud timeout + retransmission slack) — and after recovery requests succeed again
 * without restarting the agent.
 */
import assert from "node:assert/strict";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import type { Socket } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import { createDefaultCloudApp } from "@coaps-edge/cloud/lib";
import { CoapClient } from "../../edge-agent/src/client/client.js";
import { run } from "../helpers/libcoap.js";
import { CLI, PLAIN_COAP, startAgent, type RunningAgent } from "./agent-cases.js";

const GATEWAY = "gw-outage";
const CLOUD_TIMEOUT_MS = 1500;
/** Longest a request may take: the cloud timeout, plus the separate response's CON (ACK_TIMEOUT 2-3 s) once. */
const MAX_REQUEST_MS = CLOUD_TIMEOUT_MS + 4000;

type CloudState = "up" | "hung";

/** The real cloud app on node:http, which the test stops, hangs and restarts on the same port. */
class LocalCloud {
  state: CloudState = "up";
  #server: Server | undefined;
  readonly #sockets = new Set<Socket>();
  readonly #app = createDefaultCloudApp();
  #env: Record<string, string> = {};
  port = 0;

  setKey(publicKey: string): void {
    this.#env = { GATEWAY_KEYS: JSON.stringify({ [GATEWAY]: publicKey }) };
  }

  async #handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    if (this.state === "hung") return; // accept, read nothing, answer nothing
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const headers = new Headers();
    for (const [k, v] of Object.entries(req.headers)) if (typeof v === "string") headers.set(k, v);
    const hasBody = req.method !== "GET" && req.method !== "HEAD";
    const response = await this.#app.fetch(new Request(`http://127.0.0.1:${this.port}${req.url ?? "/"}`, { method: req.method, headers, body: hasBody ? Buffer.concat(chunks) : undefined }), this.#env);
    res.writeHead(response.status, Object.fromEntries(response.headers));
    res.end(Buffer.from(await response.arrayBuffer()));
  }

  async start(): Promise<void> {
    const server = createServer((req, res) => {
      this.#handle(req, res).catch(() => res.destroy());
    });
    server.on("connection", (s) => {
      this.#sockets.add(s);
      s.once("close", () => this.#sockets.delete(s));
    });
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(this.port, "127.0.0.1", () => resolve());
    });
    this.port = (server.address() as { port: number }).port;
    this.#server = server;
  }

  /** Gone: the listener closes and every open connection is cut (refused from now on). */
  async stop(): Promise<void> {
    const server = this.#server;
    this.#server = undefined;
    if (!server) return;
    for (const s of this.#sockets) s.destroy();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}

interface Outcome {
  /** The phase the request started in, and the one it ended in. */
  readonly phase: string;
  readonly endPhase: string;
  readonly path: string;
  readonly code: string;
  readonly ok: boolean;
  readonly ms: number;
  readonly error?: string;
  /** The diagnostic payload of a 5.xx. */
  readonly text?: string;
}

describe("cloud outage during load: remote-mode agent ↔ the real Hono app on node:http", () => {
  const cloud = new LocalCloud();
  let dir = "";
  let agent: RunningAgent | undefined;
  /** Eight devices (eight client ports): NSTART = 1 (RFC 7252 §4.7) holds each to one CON at a time. */
  const devices: CoapClient[] = [];

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), "coaps-outage-"));
    const keyFile = join(dir, "gateway-key.json");
    const keys = await run(process.execPath, [CLI, "keys", "--out", keyFile, "--gateway-id", GATEWAY], { timeoutMs: 30_000 });
    assert.equal(keys.code, 0, keys.stderr.toString());
    cloud.setKey(keys.stdout.toString().trim());
    await cloud.start();
    const config = join(dir, "agent.json");
    await writeFile(
      config,
      JSON.stringify({
        listen: { address: "127.0.0.1", port: 5683 },
        cloud: { mode: "remote", url: `http://127.0.0.1:${cloud.port}`, gatewayId: GATEWAY, keyFile, timeoutMs: CLOUD_TIMEOUT_MS, unavailableMaxAge: 1 },
        logging: { level: "warn" },
      }),
    );
    agent = await startAgent(["--config", config, "--no-tcp"], PLAIN_COAP);
    for (let i = 0; i < 8; i++) devices.push(new CoapClient({ timeoutMs: 60_000 }));
  });

  after(async () => {
    for (const d of devices) await d.close();
    await agent?.process.stop();
    await cloud.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it("every CON request gets its answer, 5.03 or 5.04 in time; after recovery requests succeed again (no agent restart)", { timeout: 60_000 }, async (t) => {
    const base = agent!.base;
    let phase = "up";
    let stopping = false;
    const outcomes: Outcome[] = [];
    let n = 0;

    /** One request of the mix; its outcome: the right answer, or a 5.03/5.04, or a failure. */
    async function one(client: CoapClient): Promise<void> {
      const i = n++;
      const started = Date.now();
      const at = phase;
      const kind = i % 3;
      const path = kind === 0 ? "/hello" : kind === 1 ? "/echo" : `/sensors/${i % 7}/temperature`;
      const payload = kind === 1 ? `payload ${i}` : undefined;
      try {
        const r = await client.request({ uri: `${base}${path}`, method: kind === 1 ? "POST" : "GET", payload, contentFormat: kind === 1 ? 0 : undefined });
        const text = new TextDecoder().decode(r.payload);
        const right = r.codeText.startsWith("2.") && (kind !== 1 || text === payload) && (kind !== 0 || text.length > 0);
        outcomes.push({ phase: at, endPhase: phase, path, code: r.codeText, ok: right, ms: Date.now() - started, ...(r.codeText.startsWith("5.") && { text }) });
      } catch (e) {
        outcomes.push({ phase: at, endPhase: phase, path, code: "error", ok: false, ms: Date.now() - started, error: (e as Error).message });
      }
    }

    const workers = devices.map(async (d) => {
      while (!stopping) await one(d);
    });

    await sleep(1500); // up
    phase = "down";
    await cloud.stop();
    await sleep(2500);
    phase = "hung";
    cloud.state = "hung";
    await cloud.start(); // same port: accepts, never answers
    await sleep(4000);
    phase = "recovering";
    cloud.state = "up";
    await sleep(1000); // requests already stuck on a hung connection end in 5.04 by now
    phase = "recovered";
    await sleep(2000);
    stopping = true;
    await Promise.all(workers);

    const by = (p: string): Outcome[] => outcomes.filter((o) => o.phase === p);
    const summary = ["up", "down", "hung", "recovering", "recovered"]
      .map((p) => `${p}: ${by(p).length} (${[...new Set(by(p).map((o) => o.code))].join(" ")})`)
      .join("; ");

    // No request failed locally or hung: each ended with an answer, a 5.03 or a 5.04, in time.
    const bad = outcomes.filter((o) => !(o.ok || o.code === "5.03" || o.code === "5.04"));
    assert.deepEqual(bad.slice(0, 5), [], `unexpected outcomes; ${summary}`);
    const slowest = Math.max(...outcomes.map((o) => o.ms));
    assert.ok(slowest <= MAX_REQUEST_MS, `a request took ${slowest} ms (limit ${MAX_REQUEST_MS}); ${summary}`);

    // Each phase did what it should: answers while up, 5.03 while down, 5.04 while hung, answers after.
    if (process.env.OUTAGE_DEBUG) console.log(outcomes.filter((o) => !o.ok).map((o) => JSON.stringify(o)).join("\n"));
    // A request still in flight when the cloud went away may get 5.03: judge "up" by those that ended in it.
    const up = by("up").filter((o) => o.endPhase === "up");
    assert.ok(up.length > 0 && up.every((o) => o.ok), `up: ${summary}`);
    assert.ok(by("down").some((o) => o.code === "5.03"), `down: ${summary}`);
    assert.ok(by("hung").some((o) => o.code === "5.04"), `hung: ${summary}`);
    assert.ok(by("recovered").length >= 8, `recovered: ${summary}`);
    assert.ok(by("recovered").every((o) => o.ok), `recovered: ${summary}`);
    t.diagnostic(`${outcomes.length} requests, slowest ${slowest} ms; ${summary}`);
  });
});
