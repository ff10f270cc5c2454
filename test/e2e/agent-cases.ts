/**
 * The libcoap cases every agent ↔ cloud e2e runs (issue 5 acceptance), whatever serves the cloud
 * (embedded app, or the Worker on the real runtime) and whatever the device speaks. The
 * transport is a parameter: plain coap:// with coap-client-notls now; a DTLS variant adds e.g.
 *
 *     { scheme: "coaps", client: "coap-client-openssl", clientArgs: ["-u", "demo", "-k", "secret"],
 *       agentArgs: [...PSK flags of `coaps-edge agent`...], whoami: "psk demo" }
 *
 * The agent runs as users run it: `node edge-agent/bin/coaps-edge.mjs agent …`.
 * coap-client exits 0 even on failure: every check is on its output (or its -o file).
 */
import assert from "node:assert/strict";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { after, before, it, type TestContext } from "node:test";
import { parseLinkFormat } from "@coaps-edge/shared";
import { largeText } from "../../cloud/resources/large.js";
import { freeUdpPortPair, requireBinary, run, start, type LibcoapBinary, type RunningProcess } from "../helpers/libcoap.js";
import { CLI_BIN } from "../helpers/cli.js";

export const CLI = CLI_BIN;
export const DEMO_CONFIG = fileURLToPath(new URL("../../infra/demo/agent.json", import.meta.url));

/** How the device reaches the agent. */
export interface DeviceTransport {
  readonly scheme: "coap" | "coaps";
  readonly client: LibcoapBinary;
  /** Credentials etc. for coap-client (before the URI). */
  readonly clientArgs: readonly string[];
  /** More `coaps-edge agent` flags (listener credentials). */
  readonly agentArgs: readonly string[];
  /** What /whoami answers for this device: "<auth kind> <identity>". */
  readonly whoami: string;
}

/** Plain CoAP: the auth kind without an identity. */
export const PLAIN_COAP: DeviceTransport = { scheme: "coap", client: "coap-client-notls", clientArgs: [], agentArgs: [], whoami: "none" };

/** DTLS-PSK (TLS_PSK_WITH_AES_128_CCM_8): the agent's `-k` accepts any identity with the key. */
export const DTLS_PSK: DeviceTransport = {
  scheme: "coaps",
  client: "coap-client-openssl",
  clientArgs: ["-u", "demo", "-k", "demo-secret-psk"],
  agentArgs: ["-k", "demo-secret-psk"],
  whoami: "psk demo",
};

export interface RunningAgent {
  readonly process: RunningProcess;
  /** "coap://127.0.0.1:PORT" of the transport's scheme. */
  readonly base: string;
}

/** Starts `coaps-edge agent ARGS -p PORT` and waits for its listening line. */
export async function startAgent(args: readonly string[], transport: DeviceTransport): Promise<RunningAgent> {
  const port = await freeUdpPortPair(); // coaps:// (when on) listens on port + 1
  const proc = start(process.execPath, [CLI, "agent", ...args, ...transport.agentArgs, "-p", String(port), "-v", "5"]);
  try {
    await proc.waitForOutput(new RegExp(`listening on .*${transport.scheme}://127\\.0\\.0\\.1:\\d+`), 30_000);
  } catch (e) {
    await proc.stop();
    throw e;
  }
  const m = new RegExp(`${transport.scheme}://127\\.0\\.0\\.1:(\\d+)`).exec(proc.stderr());
  assert.ok(m, proc.stderr());
  return { process: proc, base: `${transport.scheme}://127.0.0.1:${m[1]}` };
}

/** coap-client with -B and the transport's flags; stdout and stderr as text. */
export async function coapClient(t: TestContext, transport: DeviceTransport, args: readonly string[], waitSeconds = 10): Promise<{ out: string; err: string } | undefined> {
  const bin = requireBinary(t, transport.client);
  if (!bin) return undefined;
  const r = await run(bin, ["-B", String(waitSeconds), ...transport.clientArgs, ...args], { timeoutMs: (waitSeconds + 10) * 1000 });
  assert.equal(r.timedOut, false, `coap-client hung: ${args.join(" ")}`);
  return { out: r.stdout.toString("utf8"), err: r.stderr.toString("utf8") };
}

/** The transport-independent cases, against the agent `agent()` returns (started in a `before`). */
export function libcoapCases(transport: DeviceTransport, agent: () => RunningAgent): void {
  let dir = "";
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), "coaps-edge-e2e-"));
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });
  const url = (path: string) => agent().base + path;

  it("GET /hello", async (t) => {
    const r = await coapClient(t, transport, [url("/hello")]);
    if (!r) return;
    assert.equal(r.out, "Hello from coaps-edge\n");
  });

  it("PUT a valid temperature → 2.04 (and GET reads it back); an invalid one → 4.00 with the diagnostic", async (t) => {
    const sensor = `/sensors/e2e-${transport.scheme}-${process.pid}/temperature`;
    const ok = await coapClient(t, transport, ["-v", "6", "-m", "put", "-t", "json", "-e", '{"celsius":24.5}', url(sensor)]);
    if (!ok) return;
    assert.match(ok.out, /t:ACK c:2\.04 /, ok.out);
    const bad = await coapClient(t, transport, ["-m", "put", "-t", "json", "-e", '{"celsius":"hot"}', url(sensor)]);
    assert.equal(bad?.err.trim(), "4.00 invalid payload: payload.celsius: Invalid input: expected number, received string");
    const got = await coapClient(t, transport, [url(sensor)]);
    assert.deepEqual(JSON.parse(got!.out) as unknown, { celsius: 24.5, sensor: sensor.split("/")[2] });
  });

  it("GET /large block-wise with -b 64: the exact 16 KiB", async (t) => {
    const out = join(dir, "large.out");
    const r = await coapClient(t, transport, ["-v", "6", "-b", "64", "-o", out, url("/large")]);
    if (!r) return;
    assert.equal(await readFile(out, "utf8"), largeText());
    // 16384 / 64 = 256 Block2 responses (RFC 7959 §2.4), all of them 2.05.
    assert.equal(r.out.match(/t:ACK c:2\.05 /g)?.length, 256, "one 2.05 per 64-byte block");
  });

  it("PUT 10 KiB to /echo with -b 64 (Block1): echoed whole", async (t) => {
    const body = Buffer.from(Array.from({ length: 10 * 1024 }, (_, i) => (i * 7 + (i >> 8)) & 0xff));
    const file = join(dir, "ten.bin");
    const out = join(dir, "ten.out");
    await writeFile(file, body);
    // -v 7 logs every message; -v 6 leaves out the 2.31s.
    const r = await coapClient(t, transport, ["-v", "7", "-m", "put", "-b", "64", "-f", file, "-o", out, url("/echo")]);
    if (!r) return;
    assert.deepEqual(await readFile(out), body);
    // RFC 7959 §2.5: 160 blocks up, 159 of them answered 2.31 Continue.
    assert.equal(r.out.match(/t:ACK c:2\.31 /g)?.length, 159);
  });

  it(`/whoami answers the device's auth kind and identity`, async (t) => {
    const r = await coapClient(t, transport, [url("/whoami")]);
    if (!r) return;
    assert.equal(r.out, `${transport.whoami}\n`);
  });

  it("/.well-known/core lists the registry's resources", async (t) => {
    const r = await coapClient(t, transport, [url("/.well-known/core")]);
    if (!r) return;
    const links = parseLinkFormat(r.out.trim());
    const hrefs = links.map((l) => l.href).sort();
    assert.deepEqual(hrefs, ["/echo", "/hello", "/large", "/slow", "/whoami"]);
    assert.equal(links.find((l) => l.href === "/large")?.attributes?.sz, 16384);
  });

  it("unknown path → 4.04, wrong method → 4.05 (the Worker's diagnostics)", async (t) => {
    const nf = await coapClient(t, transport, [url("/no/such/thing")]);
    if (!nf) return;
    assert.equal(nf.err.trim(), "4.04 no resource at /no/such/thing");
    const mna = await coapClient(t, transport, ["-m", "delete", url("/hello")]);
    assert.equal(mna?.err.trim(), "4.05 DELETE not allowed on /hello");
  });

  it("a slow cloud answer (/slow, 3 s): empty ACK first, then the separate CON response", async (t) => {
    const started = Date.now();
    const r = await coapClient(t, transport, ["-v", "7", url("/slow")]);
    if (!r) return;
    // -v 7 logs every message on stdout, the empty ACKs included, between debug lines.
    const log = r.out.split("\n").filter((l) => l.startsWith("v:1 ")).join("\n") + "\n";
    assert.ok(Date.now() - started >= 2900, "the handler slept 3 s");
    // RFC 7252 §5.2.2: request, empty ACK with its message ID, CON 2.05 with the token, the client's ACK.
    const m = /t:CON c:GET i:([0-9a-f]+) \{([0-9a-f]*)\}[^\n]*\n(?:.*\n)*?.*t:ACK c:0\.00 i:\1 \{\} \[ \]\n(?:.*\n)*?.*t:CON c:2\.05 i:([0-9a-f]+) \{\2\}[^\n]*'slept 3000 ms'/.exec(log);
    assert.ok(m, log);
    assert.match(log, new RegExp(`t:ACK c:0\\.00 i:${m[3]} \\{\\} \\[ \\]`), "coap-client acknowledged the separate response");
  });
}
