/**
 * coap-client's flags on `coaps-edge get|post|…` that cli.test.ts does not cover, each checked
 * by what the server saw: -N (NON), -A (Accept), -t (Content-Format), -a/-p (the local address
 * and port, coap:// and coaps://), -s (observe, plain and --json), -R (trusted roots, against
 * our agent with a certificate from `coaps-edge certs`), -h over
 * coaps+tcp (the hint file chooses the PSK over TLS too, against coap-server-openssl), and the
 * exit codes 0 / 4 / 5 / 3 / 6 / 2 all distinct.
 */
import assert from "node:assert/strict";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { AgentConfigSchema, Code, OptionNumber } from "@coaps-edge/shared";
import { createAgent, type Agent } from "../../edge-agent/src/agent.js";
import { dtlsListener } from "../../edge-agent/src/dtls-listener.js";
import type { CoapRequest } from "../../edge-agent/src/server/index.js";
import { findBinary, freeUdpPort, requireBinary, type RunningProcess, startLibcoapServer } from "../helpers/libcoap.js";
import { cliInProcessText } from "../helpers/cli.js";

const IDENTITY = "flags";
const KEY = "flags-secret";

const cli = cliInProcessText;

describe("coaps-edge client flags (against our agent in process)", () => {
  let agent: Agent;
  let plain = "";
  let secure = "";
  const seen: CoapRequest[] = [];
  let state = 0;

  before(async () => {
    const config = AgentConfigSchema.parse({
      listen: { address: "127.0.0.1", port: 0 },
      coaps: { enabled: true, address: "127.0.0.1", port: 0, psk: [{ identity: IDENTITY, key: KEY }] },
      tcp: { enabled: false },
      logging: { level: "silent" },
    });
    agent = await createAgent(config, { coapsListener: dtlsListener() });
    plain = agent.urls.find((u) => u.startsWith("coap://"))!;
    secure = agent.urls.find((u) => u.startsWith("coaps://"))!;
    agent.server.addResource("/seen", {
      get: (req) => {
        seen.push(req);
        return { code: Code.Content, payload: `${req.peer.address}:${req.peer.port}` };
      },
      post: (req) => {
        seen.push(req);
        return { code: Code.Changed };
      },
    });
    agent.server.addResource("/busy", { get: () => ({ code: Code.ServiceUnavailable, payload: "later", maxAge: 5 }) });
    agent.server.addResource("/count", { obs: true, get: () => ({ code: Code.Content, payload: `count ${state}` }) });
  });

  after(async () => {
    await agent?.close();
  });

  it("-N sends NON, -A sets Accept, -t sets Content-Format", async () => {
    const before = seen.length;
    const r = await cli("post", `${plain}/seen`, "-N", "-A", "application/json", "-t", "text/plain", "-e", "x");
    assert.equal(r.code, 0, r.stderr);
    const req = seen[before]!;
    assert.equal(req.confirmable, false, "-N: NON");
    assert.equal(req.accept, 50, "-A: Accept application/json");
    assert.equal(req.contentFormat, 0, "-t: Content-Format text/plain");
    assert.ok(req.options.some((o) => o.number === OptionNumber.Accept), "Accept option on the wire");
  });

  it("-a ADDR -p PORT bind the local address and port (coap:// and coaps://)", async () => {
    const [p1, p2] = await Promise.all([freeUdpPort(), freeUdpPort()]);
    const a = await cli("get", `${plain}/seen`, "-a", "127.0.0.1", "-p", String(p1));
    assert.equal(a.code, 0, a.stderr);
    assert.equal(a.stdout, `127.0.0.1:${p1}`);
    const b = await cli("get", `${secure}/seen`, "-a", "127.0.0.1", "-p", String(p2), "-u", IDENTITY, "-k", KEY);
    assert.equal(b.code, 0, b.stderr);
    assert.equal(b.stdout, `127.0.0.1:${p2}`);
    assert.equal((await cli("get", `${plain}/seen`, "-a", "not-an-address")).code, 2);
  });

  it("-s SECONDS prints the registration response and each notification, then deregisters", async () => {
    const ticker = setInterval(() => {
      state++;
      agent.server.notifyObservers("/count");
    }, 300);
    try {
      const [text, json] = await Promise.all([cli("get", "-s", "1.5", `${plain}/count`), cli("get", "-s", "1.5", "--json", `${secure}/count`, "-u", IDENTITY, "-k", KEY)]);
      assert.equal(text.code, 0, text.stderr);
      const lines = text.stdout.split("\n").filter((l) => l !== "");
      assert.ok(lines.length >= 3, text.stdout);
      assert.ok(lines.every((l) => /^count \d+$/.test(l)));
      assert.equal(json.code, 0, json.stderr);
      const objs = json.stdout.split("\n").filter((l) => l !== "").map((l) => JSON.parse(l) as { observe: number; payload: string });
      assert.ok(objs.length >= 3, json.stdout);
      assert.ok(objs.every((o, i) => i === 0 || o.observe > objs[i - 1]!.observe), "rising Observe numbers");
      assert.equal(agent.server.observe.size, 0, "both deregistered at the end");
      assert.equal((await cli("get", "-s", "0", `${plain}/count`)).code, 2, "-s needs seconds > 0");
    } finally {
      clearInterval(ticker);
    }
  });

  it("exit codes: 0 (2.xx), 4 (4.xx), 5 (5.xx), 3 (timeout), 6 (handshake failed), 2 (usage): all distinct", async () => {
    const silent = await freeUdpPort();
    const codes = await Promise.all([
      cli("get", `${plain}/seen`),
      cli("get", `${plain}/missing`),
      cli("get", `${plain}/busy`),
      cli("get", `coap://127.0.0.1:${silent}/x`, "-B", "1"),
      cli("get", `${secure}/seen`, "-u", IDENTITY, "-k", "wrong-key", "-B", "5"),
      cli("get", `${plain}/seen`, "-T", "0x0102030405060708090a"),
    ]);
    assert.deepEqual(
      codes.map((c) => c.code),
      [0, 4, 5, 3, 6, 2],
    );
    assert.match(codes[2]!.stderr, /^5\.03 ServiceUnavailable later/m);
  });
});

describe("coaps-edge client -R (trusted roots)", () => {
  let dir = "";
  let agent: Agent | undefined;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), "cli-roots-"));
  });

  after(async () => {
    await agent?.close();
    await rm(dir, { recursive: true, force: true });
  });

  it("-R ROOTS verifies the server's certificate against them: our CA passes, another CA fails (exit 6)", async () => {
    const [ours, other] = [join(dir, "ours"), join(dir, "other")];
    assert.equal((await cli("certs", "--out", ours)).code, 0);
    assert.equal((await cli("certs", "--out", other)).code, 0);
    const config = AgentConfigSchema.parse({
      listen: { address: "127.0.0.1", port: 0 },
      coaps: { enabled: true, address: "127.0.0.1", port: 0, pki: { cert: join(ours, "server.crt"), key: join(ours, "server.key") } },
      tcp: { enabled: false },
      demoResources: true,
      logging: { level: "silent" },
    });
    agent = await createAgent(config, { coapsListener: dtlsListener() });
    const secure = agent.urls.find((u) => u.startsWith("coaps://"))!;
    const ok = await cli("get", `${secure}/hello`, "-R", join(ours, "ca.crt"), "-B", "5");
    assert.equal(ok.code, 0, ok.stderr);
    assert.doesNotMatch(ok.stderr, /not verified/, "-R authenticates the server: no warning");
    const wrong = await cli("get", `${secure}/hello`, "-R", join(other, "ca.crt"), "-B", "5");
    assert.equal(wrong.code, 6, wrong.stderr);
  });
});

describe("coaps-edge client flags against coap-server-openssl", () => {
  let server: RunningProcess | undefined;
  let port = 0;
  let dir = "";

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), "cli-flags-"));
    if (!findBinary("coap-server-openssl")) return;
    ({ proc: server, port } = await startLibcoapServer("coap-server-openssl", ["-k", KEY, "-h", "tls-hint"]));
  });

  after(async () => {
    await server?.stop();
    await rm(dir, { recursive: true, force: true });
  });

  it("-h FILE over coaps+tcp: the server's hint picks the line (TLS-PSK)", async (t) => {
    if (!requireBinary(t, "coap-server-openssl")) return;
    const file = join(dir, "hints");
    await writeFile(file, `other,nobody,wrong\ntls-hint,dev,${KEY}\n`);
    const ok = await cli("get", `coaps+tcp://127.0.0.1:${port + 1}/`, "-h", file, "-B", "5");
    assert.equal(ok.code, 0, ok.stderr);
    assert.match(ok.stdout, /libcoap/);
    const none = join(dir, "none");
    await writeFile(none, `other,nobody,${KEY}\n`);
    const failed = await cli("get", `coaps+tcp://127.0.0.1:${port + 1}/`, "-h", none, "-B", "5");
    assert.equal(failed.code, 6, `no line for the hint and no -u/-k: the TLS handshake fails: ${failed.stderr}`);
  });
});
