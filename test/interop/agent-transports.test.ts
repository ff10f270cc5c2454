/**
 * Issue 9 through the real CLI: the agent as `npm start` runs it (`coaps-edge agent --config
 * infra/demo/agent.json`, embedded cloud, demo PSK) spawned with `-p P`, serving coap+tcp on
 * TCP P and coaps+tcp on TCP P+1 next to UDP/DTLS, plus `--ws-port` / `--wss-port`:
 *   libcoap's coap-client-openssl → coap+tcp /hello, /large block-wise (-b 64, exact bytes,
 *   one Block2 response per 64 bytes), coaps+tcp -u/-k /whoami = "psk demo" (a cloud resource);
 *   our CLI → coap+ws / coaps+ws through the agent, and → coap-server-openssl over coap+tcp
 *   (TCP P) and coaps+tcp (TLS on P+1, PSK) GET /time;
 *   `--no-tcp` / `--no-tls`: nothing listens there.
 * coap-client exits 0 even on failure: every check is on its output.
 */
import assert from "node:assert/strict";
import dgram from "node:dgram";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import net from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { after, before, describe, it, type TestContext } from "node:test";
import { largeText } from "../../cloud/resources/large.js";
import { DEMO_HELLO_TEXT } from "../../edge-agent/src/server/index.js";
import { requireBinary, run, start, type RunningProcess } from "../helpers/libcoap.js";
import { CLI_BIN, cliProcess } from "../helpers/cli.js";

const CLI = CLI_BIN;
const DEMO_CONFIG = fileURLToPath(new URL("../../infra/demo/agent.json", import.meta.url));
const IDENTITY = "demo";
const KEY = "demo-secret-psk";
const cli = cliProcess;

function tcpFree(port: number): Promise<boolean> {
  const s = net.createServer();
  return new Promise((resolve) => {
    s.once("error", () => resolve(false));
    s.listen(port, "127.0.0.1", () => s.close(() => resolve(true)));
  });
}

function udpFree(port: number): Promise<boolean> {
  const s = dgram.createSocket("udp4");
  return new Promise((resolve) => {
    s.once("error", () => resolve(false));
    s.bind(port, "127.0.0.1", () => s.close(() => resolve(true)));
  });
}

/** P with P and P+1 free on both UDP and TCP (the agent and coap-server take all four). */
async function freePortPair(): Promise<number> {
  for (let i = 0; i < 50; i++) {
    const probe = net.createServer();
    await new Promise<void>((r) => probe.listen(0, "127.0.0.1", () => r()));
    const p = (probe.address() as net.AddressInfo).port;
    await new Promise<void>((r) => probe.close(() => r()));
    if (p >= 65535) continue;
    if ((await tcpFree(p)) && (await tcpFree(p + 1)) && (await udpFree(p)) && (await udpFree(p + 1))) return p;
  }
  throw new Error("no free port pair");
}

async function freeTcpPort(): Promise<number> {
  const s = net.createServer();
  await new Promise<void>((r) => s.listen(0, "127.0.0.1", () => r()));
  const p = (s.address() as net.AddressInfo).port;
  await new Promise<void>((r) => s.close(() => r()));
  return p;
}

/** True when a TCP connection to 127.0.0.1:port is accepted. */
function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect(port, "127.0.0.1", () => {
      s.destroy();
      resolve(true);
    });
    s.once("error", () => resolve(false));
  });
}

async function waitForTcp(port: number, timeoutMs = 5000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (Date.now() < end) {
    if (await accepts(port)) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`nothing listening on TCP ${port}`);
}

async function coapClient(t: TestContext, args: string[]): Promise<string | undefined> {
  const bin = requireBinary(t, "coap-client-openssl");
  if (!bin) return undefined;
  const r = await run(bin, ["-B", "5", ...args], { timeoutMs: 20_000 });
  assert.equal(r.timedOut, false, `coap-client hung: ${args.join(" ")}`);
  return r.stdout.toString("utf8");
}

describe("the agent from the CLI over coap+tcp, coaps+tcp, coap+ws, coaps+ws", () => {
  let agent: RunningProcess;
  let port: number;
  let wsPort: number;
  let wssPort: number;
  let dir: string;

  before(async () => {
    port = await freePortPair();
    wsPort = await freeTcpPort();
    wssPort = await freeTcpPort();
    agent = start(process.execPath, [CLI, "agent", "--config", DEMO_CONFIG, "-p", String(port), "--ws-port", String(wsPort), "--wss-port", String(wssPort)]);
    await agent.waitForOutput(/listening on .*coaps\+ws:\/\//, 20_000);
    dir = await mkdtemp(join(tmpdir(), "agent-transports-"));
  });

  after(async () => {
    await agent?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it("lists every listener: UDP and TCP on P, DTLS and TLS on P+1, WS and WSS on theirs", () => {
    const line = /listening on (.*)/.exec(agent.stderr())?.[1]?.trim().split(" ") ?? [];
    assert.deepEqual(line, [
      `coap://127.0.0.1:${port}`,
      `coaps://127.0.0.1:${port + 1}`,
      `coap+tcp://127.0.0.1:${port}`,
      `coaps+tcp://127.0.0.1:${port + 1}`,
      `coap+ws://127.0.0.1:${wsPort}`,
      `coaps+ws://127.0.0.1:${wssPort}`,
    ]);
  });

  it("coap-client-openssl GETs /hello over coap+tcp", async (t) => {
    const out = await coapClient(t, [`coap+tcp://127.0.0.1:${port}/hello`]);
    if (out === undefined) return;
    assert.equal(out, `${DEMO_HELLO_TEXT}\n`);
  });

  it("coap-client-openssl GETs /large block-wise over coap+tcp: exact bytes, one Block2 response per 64 bytes", async (t) => {
    const file = join(dir, "large-tcp");
    const out = await coapClient(t, ["-b", "64", "-v", "7", "-o", file, `coap+tcp://127.0.0.1:${port}/large`]);
    if (out === undefined) return;
    const body = largeText();
    assert.equal(await readFile(file, "utf8"), body);
    // libcoap -v 7 logs each PDU (the last one again when it hands the body over).
    const nums = new Set(out.split("\n").flatMap((l) => /c:2\.05 .*Block2:(\d+)\/[_M]\/64/.exec(l)?.[1] ?? []));
    assert.equal(nums.size, body.length / 64, "every 64-byte block came as its own response");
    assert.ok(nums.has("0") && nums.has(String(body.length / 64 - 1)));
  });

  it("coap-client-openssl -u/-k over coaps+tcp: the cloud's /whoami names the PSK identity", async (t) => {
    const out = await coapClient(t, ["-u", IDENTITY, "-k", KEY, `coaps+tcp://127.0.0.1:${port + 1}/whoami`]);
    if (out === undefined) return;
    assert.equal(out, `psk ${IDENTITY}\n`);
    const hello = await coapClient(t, ["-u", IDENTITY, "-k", KEY, "-b", "256", `coaps+tcp://127.0.0.1:${port + 1}/large`]);
    assert.equal(hello, `${largeText()}\n`);
  });

  it("coap-client-openssl with a wrong key gets nothing over coaps+tcp", async (t) => {
    const out = await coapClient(t, ["-u", IDENTITY, "-k", "not-the-key", `coaps+tcp://127.0.0.1:${port + 1}/whoami`]);
    if (out === undefined) return;
    assert.doesNotMatch(out, /psk/);
  });

  it("our CLI over coap+tcp and coaps+tcp to the agent", async () => {
    const file = join(dir, "large-cli");
    const [hello, who, large] = await Promise.all([
      cli("get", `coap+tcp://127.0.0.1:${port}/hello`),
      cli("get", "-u", IDENTITY, "-k", KEY, `coaps+tcp://127.0.0.1:${port + 1}/whoami`),
      cli("get", "-b", "64", "-o", file, `coap+tcp://127.0.0.1:${port}/large`),
    ]);
    assert.equal(hello.code, 0, hello.stderr.toString());
    assert.equal(hello.stdout.toString(), DEMO_HELLO_TEXT);
    assert.equal(who.code, 0, who.stderr.toString());
    assert.equal(who.stdout.toString(), `psk ${IDENTITY}`);
    assert.equal(large.code, 0, large.stderr.toString());
    assert.equal(await readFile(file, "utf8"), largeText());
  });

  it("our CLI round-trips through the agent over coap+ws and coaps+ws", async () => {
    const [echo, who, hello] = await Promise.all([
      cli("put", "-e", "over a websocket", `coap+ws://127.0.0.1:${wsPort}/echo`),
      cli("get", "-u", IDENTITY, "-k", KEY, `coaps+ws://127.0.0.1:${wssPort}/whoami`),
      cli("get", `coap+ws://127.0.0.1:${wsPort}/hello`),
    ]);
    assert.equal(echo.code, 0, echo.stderr.toString());
    assert.equal(echo.stdout.toString(), "over a websocket");
    assert.equal(who.code, 0, who.stderr.toString());
    assert.equal(who.stdout.toString(), `psk ${IDENTITY}`);
    assert.equal(hello.stdout.toString(), DEMO_HELLO_TEXT);
  });
});

describe("the agent's --no-tcp and --no-tls", () => {
  it("listens on neither TCP port, while UDP and DTLS stay", async (t) => {
    const port = await freePortPair();
    const agent = start(process.execPath, [CLI, "agent", "--config", DEMO_CONFIG, "-p", String(port), "--no-tcp", "--no-tls"]);
    t.after(() => agent.stop());
    await agent.waitForOutput(/listening on .*/, 20_000);
    const line = /listening on (.*)/.exec(agent.stderr())?.[1]?.trim().split(" ") ?? [];
    assert.deepEqual(line, [`coap://127.0.0.1:${port}`, `coaps://127.0.0.1:${port + 1}`]);
    assert.equal(await accepts(port), false, "no coap+tcp");
    assert.equal(await accepts(port + 1), false, "no coaps+tcp");
    const r = await cli("get", "-B", "3", `coap+tcp://127.0.0.1:${port}/hello`);
    assert.notEqual(r.code, 0);
    assert.match(r.stderr.toString(), /cannot connect/);
    const udp = await cli("get", `coap://127.0.0.1:${port}/hello`);
    assert.equal(udp.stdout.toString(), DEMO_HELLO_TEXT);
  });
});

describe("our CLI → coap-server-openssl over coap+tcp and coaps+tcp", () => {
  it("GETs /time over TCP on P and TLS-PSK on P+1", async (t) => {
    const bin = requireBinary(t, "coap-server-openssl");
    if (!bin) return;
    const port = await freePortPair();
    const server = start(bin, ["-A", "127.0.0.1", "-p", String(port), "-k", "secretPSK"]);
    t.after(() => server.stop());
    await waitForTcp(port);
    await waitForTcp(port + 1);
    const time = /^[A-Z][a-z]{2} [ \d]\d \d\d:\d\d:\d\d$/;
    const [plain, secure, wrong] = await Promise.all([
      cli("get", "-B", "5", `coap+tcp://127.0.0.1:${port}/time`),
      cli("get", "-B", "5", "-u", "client", "-k", "secretPSK", `coaps+tcp://127.0.0.1:${port + 1}/time`),
      cli("get", "-B", "5", "-u", "client", "-k", "wrong-key", `coaps+tcp://127.0.0.1:${port + 1}/time`),
    ]);
    assert.equal(plain.code, 0, plain.stderr.toString());
    assert.match(plain.stdout.toString(), time);
    assert.equal(secure.code, 0, secure.stderr.toString());
    assert.match(secure.stdout.toString(), time);
    assert.notEqual(wrong.code, 0);
    assert.equal(wrong.stdout.toString(), "");
  });
});
