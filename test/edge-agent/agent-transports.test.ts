/**
 * The agent's RFC 8323 and Unix listeners (stream-listeners.ts), in process: the config's
 * defaults (TCP on listen.port, TLS on coaps.port when coaps has credentials, WS/WSS and Unix
 * only when configured), one set of handlers (a local resource and the embedded cloud's) behind
 * every transport, the TLS peer identity as DTLS gives it (psk identity; x509 CN, with client
 * certificates validated against coaps.pki.ca), close() releasing every listener and removing
 * the Unix socket file, and the CLI's listener flags.
 */
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import net from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PassThrough } from "node:stream";
import { after, before, describe, it } from "node:test";
import { AgentConfigSchema, Code, parseAgentConfig } from "@coaps-edge/shared";
import { createAgent, type Agent } from "../../edge-agent/src/agent.js";
import { runAgent } from "../../edge-agent/src/cli/agent-command.js";
import { CoapClient } from "../../edge-agent/src/client/index.js";
import { transportLayerFactory, type TransportClientOptions } from "../../edge-agent/src/coap/stream/client-factory.js";
import { dtlsListener } from "../../edge-agent/src/dtls-listener.js";
import { generateTestPki, loadCredentials, loadTrustStore, writeTestPki } from "../../edge-agent/src/pki/index.js";
import { unixDgramIsSupported } from "../../edge-agent/src/transport/support.js";

const IDENTITY = "gw-test";
const KEY = "transport-psk";

async function get(uri: string, tls?: TransportClientOptions["tls"]): Promise<string> {
  const client = new CoapClient({ layerFactory: transportLayerFactory({ connectTimeoutMs: 5000, ...(tls ? { tls } : {}) }) });
  try {
    const res = await client.request({ method: "get", uri, timeoutMs: 5000 });
    return `${res.codeText} ${Buffer.from(res.payload).toString("utf8")}`;
  } finally {
    await client.close();
  }
}

function refused(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect(port, "127.0.0.1", () => {
      s.destroy();
      resolve(false);
    });
    s.once("error", () => resolve(true));
  });
}

const urlOf = (agent: Agent, prefix: string): string => {
  const u = agent.urls.find((x) => x.startsWith(prefix));
  assert.ok(u, `${prefix} in ${agent.urls.join(" ")}`);
  return u;
};

describe("agent config: tcp, tls, ws, wss, unix", () => {
  it("defaults to TCP on listen.port and TLS on listen.port + 1, no WS and no Unix socket", () => {
    const c = AgentConfigSchema.parse({ listen: { address: "::1", port: 6000 } });
    assert.deepEqual([c.tcp.enabled, c.tcp.address, c.tcp.port], [true, "::1", 6000]);
    assert.deepEqual([c.tls.enabled, c.tls.address, c.tls.port], [true, "::1", 6001]);
    assert.equal(c.ws, undefined);
    assert.equal(c.wss, undefined);
    assert.equal(c.unix, undefined);
  });

  it("follows coaps.port/address for TLS and takes explicit ports and addresses", () => {
    const c = AgentConfigSchema.parse({ coaps: { port: 7000, address: "0.0.0.0" }, tcp: { port: 7100 }, tls: { port: 7200 }, ws: { port: 8080 } });
    assert.equal(c.tcp.port, 7100);
    assert.deepEqual([c.tls.address, c.tls.port], ["0.0.0.0", 7200]);
    assert.deepEqual([c.ws?.enabled, c.ws?.address, c.ws?.port], [true, "127.0.0.1", 8080]);
    assert.equal(AgentConfigSchema.parse({ coaps: { port: 7000 } }).tls.port, 7000);
  });

  it("refuses wss without coaps credentials, a ws section without a port, and misspelt keys", () => {
    const wss = parseAgentConfig({ wss: { port: 8443 } });
    assert.equal(wss.ok, false);
    assert.ok(!wss.ok && wss.issues.some((i) => i.path === "wss.enabled"));
    const ws = parseAgentConfig({ ws: {} });
    assert.ok(!ws.ok && ws.issues.some((i) => i.path === "ws.port"));
    const typo = parseAgentConfig({ tcp: { enable: false } });
    assert.ok(!typo.ok && typo.issues.some((i) => i.path === "tcp.enable"));
  });

  it("counts stream listeners as something to listen on", () => {
    assert.equal(parseAgentConfig({ listen: { enabled: false } }).ok, true, "TCP is on by default");
    const none = parseAgentConfig({ listen: { enabled: false }, tcp: { enabled: false } });
    assert.ok(!none.ok && none.issues.some((i) => i.path === "listen.enabled"));
  });
});

describe("agent over coap+tcp, coaps+tcp (PSK), coap+ws and a Unix socket", () => {
  let agent: Agent;
  let dir: string;
  let sock: string;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), "agent-transports-"));
    sock = join(dir, "agent.sock");
    const config = AgentConfigSchema.parse({
      listen: { port: 0 },
      coaps: { enabled: true, port: 0, psk: [{ identity: IDENTITY, key: KEY }] },
      ws: { port: 0 },
      unix: { path: sock },
      logging: { level: "silent" },
    });
    agent = await createAgent(config, { coapsListener: dtlsListener() });
    // A local resource, added after start: every transport serves it, and shows the identity.
    agent.server.addResource("/peer", { get: (req) => ({ code: Code.Content, payload: `${req.identity.kind} ${req.identity.identity ?? ""}` }) });
  });

  after(async () => {
    await agent?.close();
    await rm(dir, { recursive: true, force: true });
  });

  it("lists each listener once, datagram ones first", () => {
    assert.deepEqual(
      agent.urls.map((u) => u.split(":")[0]),
      ["coap", "coaps", "coap+tcp", "coaps+tcp", "coap+ws", "coap+tcp"],
    );
    assert.equal(agent.urls.at(-1), `coap+tcp://${encodeURIComponent(sock)}`);
    assert.equal(agent.streams.length, 4);
  });

  it("serves the same local and cloud handlers on every transport", async () => {
    const bases = [urlOf(agent, "coap+tcp://127"), urlOf(agent, "coap+ws://"), `coap+tcp://${encodeURIComponent(sock)}`];
    for (const base of bases) {
      assert.equal(await get(`${base}/peer`), "2.05 none ", base);
      assert.equal(await get(`${base}/hello`), "2.05 Hello from coaps-edge", base);
      assert.match(await get(`${base}/nope`), /^4\.04 /, base);
    }
  });

  it("names TLS-PSK peers by their identity, in local and cloud handlers", async () => {
    const tls = { psk: { identity: IDENTITY, key: new TextEncoder().encode(KEY) } };
    const base = urlOf(agent, "coaps+tcp://");
    assert.equal(await get(`${base}/peer`, tls), `2.05 psk ${IDENTITY}`);
    assert.equal(await get(`${base}/whoami`, tls), `2.05 psk ${IDENTITY}`);
    await assert.rejects(get(`${base}/peer`, { psk: { identity: IDENTITY, key: new TextEncoder().encode("wrong") } }));
  });
});

describe("agent close()", () => {
  it("stops every stream listener and removes the Unix socket file", async () => {
    const dir = await mkdtemp(join(tmpdir(), "agent-transports-close-"));
    const sock = join(dir, "a.sock");
    try {
      const agent = await createAgent(AgentConfigSchema.parse({ listen: { port: 0 }, ws: { port: 0 }, unix: { path: sock }, logging: { level: "silent" } }));
      assert.ok(existsSync(sock));
      assert.equal(agent.urls.some((u) => u.startsWith("coaps+tcp")), false, "no TLS without credentials");
      const ports = agent.streams.filter((s) => s.local.family !== "Unix").map((s) => s.local.port);
      assert.equal(ports.length, 2);
      await agent.close();
      assert.equal(existsSync(sock), false);
      for (const p of ports) assert.equal(await refused(p), true, `port ${p} closed`);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it("serves a Unix datagram socket (unix.datagram) with the UDP message layer, removed on close", async (t) => {
    if (!unixDgramIsSupported()) {
      if (process.env.CI === "true") throw new Error("the unix-dgram module is not available");
      t.skip("the optional unix-dgram module is not available");
      return;
    }
    const dir = await mkdtemp(join(tmpdir(), "agent-transports-dgram-"));
    const sock = join(dir, "d.sock");
    try {
      const agent = await createAgent(AgentConfigSchema.parse({ listen: { port: 0 }, tcp: { enabled: false }, unix: { path: sock, datagram: true }, logging: { level: "silent" } }));
      assert.deepEqual(agent.urls.slice(1), [`coap://${encodeURIComponent(sock)}`]);
      assert.equal(await get(`coap://${encodeURIComponent(sock)}/hello`), "2.05 Hello from coaps-edge");
      await agent.close();
      assert.equal(existsSync(sock), false);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it("fails with bind-failed when the TCP port is taken, closing what it opened", async () => {
    const blocker = net.createServer();
    await new Promise<void>((r) => blocker.listen(0, "127.0.0.1", () => r()));
    const port = (blocker.address() as net.AddressInfo).port;
    try {
      await assert.rejects(
        createAgent(AgentConfigSchema.parse({ listen: { port: 0 }, tcp: { port }, logging: { level: "silent" } })),
        (e: Error & { code?: string }) => e.code === "bind-failed" && /coap\+tcp/.test(e.message),
      );
    } finally {
      await new Promise<void>((r) => blocker.close(() => r()));
    }
  });
});

describe("agent over coaps+tcp with certificates (coaps.pki)", () => {
  let agent: Agent;
  let dir: string;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), "agent-transports-pki-"));
    writeTestPki(generateTestPki({ devices: ["device-007"] }), dir);
    const config = AgentConfigSchema.parse({
      listen: { port: 0 },
      coaps: { enabled: true, port: 0, pki: { cert: join(dir, "server.crt"), key: join(dir, "server.key"), ca: join(dir, "ca.crt") } },
      logging: { level: "silent" },
    });
    agent = await createAgent(config, { coapsListener: dtlsListener() });
  });

  after(async () => {
    await agent?.close();
    await rm(dir, { recursive: true, force: true });
  });

  it("names a validated client by its certificate CN (x509), as DTLS does", async () => {
    const tls = {
      certificate: loadCredentials({ path: join(dir, "device-007.crt") }, { path: join(dir, "device-007.key") }),
      trust: loadTrustStore({ path: join(dir, "ca.crt") }),
    };
    assert.equal(await get(`${urlOf(agent, "coaps+tcp://")}/whoami`, tls), "2.05 x509 device-007");
  });

  it("refuses a client without a certificate", async () => {
    await assert.rejects(get(`${urlOf(agent, "coaps+tcp://")}/whoami`, { trust: loadTrustStore({ path: join(dir, "ca.crt") }) }));
  });
});

describe("coaps-edge agent listener flags", () => {
  const io = () => {
    const err: Buffer[] = [];
    const stderr = new PassThrough().on("data", (c: Buffer) => err.push(c));
    return { io: { stdout: new PassThrough(), stderr, stdin: new PassThrough().end() }, err: () => Buffer.concat(err).toString() };
  };

  it("--no-tcp, --ws-port and --unix shape the listeners", async () => {
    const dir = await mkdtemp(join(tmpdir(), "agent-transports-cli-"));
    const sock = join(dir, "cli.sock");
    const { io: cliIo, err } = io();
    let stop!: () => void;
    const stopped = new Promise<void>((r) => (stop = r));
    const running = runAgent({ port: "0", verbose: "0", tcp: false, wsPort: "0", unix: sock }, cliIo, stopped);
    try {
      for (let i = 0; i < 100 && !/listening on/.test(err()); i++) await new Promise((r) => setTimeout(r, 20));
      const urls = /listening on (.*)/.exec(err())?.[1]?.trim().split(" ") ?? [];
      assert.deepEqual(
        urls.map((u) => u.split(":")[0]),
        ["coap", "coap+ws", "coap+tcp"],
        err(),
      );
      assert.equal(urls.at(-1), `coap+tcp://${encodeURIComponent(sock)}`);
      assert.equal(await get(`${urls[1]}/hello`), "2.05 Hello from coaps-edge");
    } finally {
      stop();
      assert.equal(await running, 0);
      await rm(dir, { recursive: true, force: true });
    }
  });

  it("rejects --unix-dgram without --unix and a bad --ws-port", async () => {
    const a = io();
    assert.equal(await runAgent({ unixDgram: true }, a.io, Promise.resolve()), 2);
    assert.match(a.err(), /--unix-dgram needs --unix/);
    const b = io();
    assert.equal(await runAgent({ wsPort: "99999" }, b.io, Promise.resolve()), 2);
    assert.match(b.err(), /--ws-port expects a port/);
  });
});
