/**
 * e2e, remote mode, against the REAL Workers runtime: `coaps-edge keys` makes the gateway key,
 * its printed public key goes into the Worker's GATEWAY_KEYS, wrangler's unstable_startWorker
 * runs the Worker (as test/e2e/cloud-worker.test.ts), and `coaps-edge agent --cloud URL
 * --gateway-id ID --gateway-key FILE` forwards libcoap's requests to it (plain coap, and
 * DTLS-PSK with coap-client-openssl). Then the cloud goes
 * away: a device gets 5.03 with Max-Age, at once.
 */
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { mkdtemp, readFile, rm, stat } from "node:fs/promises";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { GatewayKeyFileSchema } from "@coaps-edge/shared";
import { run } from "../helpers/libcoap.js";
import { CLI, DTLS_PSK, PLAIN_COAP, coapClient, libcoapCases, startAgent, type RunningAgent } from "./agent-cases.js";

process.env.WRANGLER_SEND_METRICS = "false";
process.env.CLOUDFLARE_CF_FETCH_ENABLED = "false";

const ROOT = new URL("../../", import.meta.url).pathname;
const skip = !existsSync(join(ROOT, "node_modules/wrangler")) && process.env.CI !== "true" ? "wrangler not installed" : false;
const GATEWAY = "gw-e2e-agent";

type Worker = { ready: Promise<void>; url: Promise<URL>; dispose(): Promise<void> };

/** A TCP port nothing listens on (bound, then closed). */
async function closedTcpPort(): Promise<number> {
  const srv = createServer();
  await new Promise<void>((resolve) => srv.listen(0, "127.0.0.1", resolve));
  const { port } = srv.address() as { port: number };
  await new Promise<void>((resolve) => srv.close(() => resolve()));
  return port;
}

describe("agent → the Worker on the real runtime (remote mode)", { skip }, () => {
  let dir = "";
  let keyFile = "";
  let publicKey = "";
  let worker: Worker | undefined;
  let agent: RunningAgent | undefined;
  let secure: RunningAgent | undefined;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), "coaps-edge-remote-"));
    keyFile = join(dir, "gateway-key.json");
    const keys = await run(process.execPath, [CLI, "keys", "--out", keyFile, "--gateway-id", GATEWAY], { timeoutMs: 30_000 });
    assert.equal(keys.code, 0, keys.stderr.toString());
    publicKey = keys.stdout.toString().trim();

    // Wrangler resolves the custom build's cwd against the process cwd: run from the repo root.
    process.chdir(ROOT);
    const { unstable_startWorker } = await import("wrangler");
    worker = (await unstable_startWorker({
      config: join(ROOT, "infra/wrangler/wrangler.jsonc"),
      bindings: { GATEWAY_KEYS: { type: "plain_text", value: JSON.stringify({ [GATEWAY]: publicKey }) } },
      sendMetrics: false,
      dev: { server: { hostname: "127.0.0.1", port: 0 }, inspector: false, persist: false, watch: false, remote: false, logLevel: "warn" },
    })) as unknown as Worker;
    await worker.ready;
    const url = (await worker.url).href;
    const remote = ["--cloud", url, "--gateway-id", GATEWAY, "--gateway-key", keyFile];
    [agent, secure] = await Promise.all([startAgent(remote, PLAIN_COAP), startAgent(remote, DTLS_PSK)]);
  });

  after(async () => {
    await agent?.process.stop();
    await secure?.process.stop();
    await worker?.dispose();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it("coaps-edge keys wrote a 0600 key file whose public key it printed (and the Worker accepts it: the cases below)", async () => {
    assert.equal((await stat(keyFile)).mode & 0o777, 0o600);
    const file = GatewayKeyFileSchema.parse(JSON.parse(await readFile(keyFile, "utf8")));
    assert.equal(file.gatewayId, GATEWAY);
    assert.equal(file.publicKey, publicKey);
    assert.match(publicKey, /^[A-Za-z0-9_-]{43}$/);
    assert.match(agent!.process.stderr(), /"msg":"cloud registry loaded"/, "GET /v1/registry was authorized");
  });

  describe("coap-client-notls, plain coap", () => libcoapCases(PLAIN_COAP, () => agent!));
  describe("coap-client-openssl, DTLS-PSK", () => libcoapCases(DTLS_PSK, () => secure!));

  it("cloud stopped (nothing listens at the URL): the device gets 5.03 with Max-Age at once, not a hang", async (t) => {
    const down = await startAgent(["--cloud", `http://127.0.0.1:${await closedTcpPort()}`, "--gateway-id", GATEWAY, "--gateway-key", keyFile], PLAIN_COAP);
    try {
      const started = Date.now();
      const r = await coapClient(t, PLAIN_COAP, ["-v", "6", `${down.base}/hello`]);
      if (!r) return;
      assert.ok(Date.now() - started < 5000, "answered at once");
      assert.match(r.err.trim(), /^5\.03 cloud unreachable: ECONNREFUSED$/);
      assert.match(r.out, /t:ACK c:5\.03 i:[0-9a-f]+ \{[0-9a-f]*\} \[ Max-Age:10 \]/, r.out);
      assert.match(down.process.stderr(), /cloud registry not fetched/);
    } finally {
      await down.process.stop();
    }
  });
});
