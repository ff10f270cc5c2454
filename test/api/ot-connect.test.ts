/**
 * Parity rows "Connect(addr, cb) / Disconnect", "IsConnected / IsConnectionActive / IsClosed"
 * and "SetClientConnectedCallback": OpenThread's session states and connect events, the guard
 * time between connections, and the gateway's many server sessions next to the single
 * client-role session. CoapSecure ↔ CoapSecure over real UDP on loopback.
 */
import assert from "node:assert/strict";
import { after, describe, it } from "node:test";
import { CoapSecure, OtError } from "../../edge-agent/src/api/index.js";
import { EventLog, FAST, IDENTITY, PSK, connectTo, sleep, startAgent } from "./helpers.js";

const agents: CoapSecure[] = [];
after(async () => {
  await Promise.all(agents.map((a) => a.stop()));
});
async function agent(...args: Parameters<typeof startAgent>): Promise<CoapSecure> {
  const a = await startAgent(...args);
  agents.push(a);
  return a;
}
const invalidState = (e: unknown) => e instanceof OtError && e.code === "InvalidState";

describe("otCoapSecureConnect / otCoapSecureDisconnect and the session states", () => {
  it("connect before start, or without credentials, is InvalidState", async () => {
    const a = new CoapSecure(FAST);
    a.setPsk(PSK, IDENTITY);
    assert.throws(() => a.connect({ address: "127.0.0.1", port: 5684 }), invalidState);
    const bare = await agent({}, false);
    assert.throws(() => bare.connect({ address: "127.0.0.1", port: 5684 }), invalidState);
    assert.equal(bare.state, "Open");
  });

  it("walks Open → Connecting → Connected → CloseNotify → Open, reporting the disconnect after the guard time", async () => {
    const server = await agent();
    const client = await agent({ guardTimeMs: 300 });
    const log = new EventLog();
    client.connect({ address: "127.0.0.1", port: server.local?.port ?? 0 }, log.handler);
    // Synchronously after connect(): the handshake runs.
    assert.equal(client.state, "Connecting");
    assert.equal(client.isConnectionActive(), true);
    assert.equal(client.isConnected(), false);
    assert.equal(client.isClosed(), false);
    const up = await log.next();
    assert.equal(up.event, "Connected");
    assert.equal(up.session.role, "client");
    assert.equal(up.session.peer.port, server.local?.port);
    assert.equal(client.isConnected(), true);
    assert.equal(client.isConnectionActive(), true);
    assert.throws(() => client.connect({ address: "127.0.0.1", port: server.local?.port ?? 0 }), invalidState, "one client session at a time");

    client.disconnect();
    assert.equal(client.state, "CloseNotify");
    assert.equal(client.isConnected(), false);
    assert.equal(client.isConnectionActive(), true, "OpenThread: state >= Connecting");
    assert.throws(() => client.connect({ address: "127.0.0.1", port: server.local?.port ?? 0 }), invalidState, "guard time");
    await sleep(100);
    assert.deepEqual(log.names(), ["Connected"], "not reported before the guard time ends");
    const down = await log.next();
    assert.equal(down.event, "DisconnectedLocalClosed");
    assert.equal(client.state, "Open");
    assert.equal(client.isConnectionActive(), false);
    client.disconnect(); // no session: a no-op
    assert.equal(client.state, "Open");
  });

  it("reports DisconnectedPeerClosed when the server ends the session", async () => {
    const server = await agent();
    const client = await agent();
    const log = new EventLog();
    assert.equal((await connectTo(client, server, log)).event, "Connected");
    await server.stop();
    assert.equal((await log.next()).event, "DisconnectedPeerClosed");
    assert.equal(client.state, "Open");
  });

  it("reports DisconnectedError with the DTLS error when the handshake fails (wrong PSK)", async () => {
    const server = await agent();
    const serverLog = new EventLog();
    server.setClientConnectedCallback(serverLog.handler);
    const client = await agent({}, false);
    client.setPsk("not-the-key", IDENTITY);
    const e = await connectTo(client, server);
    assert.equal(e.event, "DisconnectedError");
    assert.ok(e.session.error, "the DTLS error is attached");
    assert.equal(client.isConnected(), false);
    const s = await serverLog.next();
    assert.equal(s.event, "DisconnectedError");
    assert.equal(s.session.role, "server");
  });

  it("the server's guard time keeps a peer from reconnecting at once (configurable)", async () => {
    const server = await agent({ guardTimeMs: 1200 });
    const client = await agent({ guardTimeMs: 10, dtls: { handshakeTimeoutMs: 5000, retransmit: { initialMs: 150 } } });
    const log = new EventLog();
    assert.equal((await connectTo(client, server, log)).event, "Connected");
    client.disconnect();
    assert.equal((await log.next()).event, "DisconnectedLocalClosed");
    const t0 = Date.now();
    assert.equal((await connectTo(client, server, log)).event, "Connected");
    const waited = Date.now() - t0;
    assert.ok(server.stats.refusedHellos > 0, "hellos during the guard time were refused");
    assert.ok(waited >= 800, `reconnected after ${waited} ms, inside the server's 1200 ms guard`);
  });
});

describe("otCoapSecureSetClientConnectedCallback: a gateway's many server sessions", () => {
  it("reports each device's session with its peer while the client-role state stays Open", async () => {
    const server = await agent();
    const log = new EventLog();
    server.setClientConnectedCallback(log.handler);
    const devices = await Promise.all([agent(), agent(), agent()]);
    const ups = await Promise.all(devices.map((d) => connectTo(d, server)));
    assert.deepEqual(
      ups.map((u) => u.event),
      ["Connected", "Connected", "Connected"],
    );
    for (let i = 0; i < 3; i++) await log.next((e) => e.event === "Connected");
    const peers = log.events.filter((e) => e.event === "Connected").map((e) => e.session.peer.port);
    assert.deepEqual(new Set(peers), new Set(devices.map((d) => d.local?.port)));
    assert.ok(log.events.every((e) => e.session.role === "server"));
    assert.equal(server.sessionCount, 3);
    assert.equal(server.sessions().length, 3);
    // OpenThread's single-peer calls are about the client role, which has no session here.
    assert.equal(server.isConnected(), false);
    assert.equal(server.state, "Open");
    devices[1]?.disconnect();
    const down = await log.next((e) => e.event !== "Connected");
    assert.equal(down.event, "DisconnectedPeerClosed");
    assert.equal(down.session.peer.port, devices[1]?.local?.port);
    assert.equal(server.sessionCount, 2);
    // Unset: no more reports.
    server.setClientConnectedCallback(undefined);
    devices[0]?.disconnect();
    await sleep(150);
    assert.equal(log.events.filter((e) => e.event !== "Connected").length, 1);
  });

  it("one agent is server and client at once over its single port", async () => {
    const a = await agent();
    const b = await agent();
    const aLog = new EventLog();
    a.setClientConnectedCallback(aLog.handler);
    // b connects to a, and a connects to a third agent c, from the same port.
    const c = await agent();
    assert.equal((await connectTo(b, a)).event, "Connected");
    // connect()'s handler becomes THE connect callback (OpenThread has one): pass the same one.
    assert.equal((await connectTo(a, c, aLog)).event, "Connected");
    assert.equal(a.isConnected(), true);
    assert.equal(a.sessionCount, 1, "b's session, on the server side");
    assert.equal(a.sessions().length, 2);
    assert.deepEqual(
      aLog.events.map((e) => e.session.role),
      ["server", "client"],
    );
    // And a handler given to connect() replaces the callback for server sessions too.
    const other = new EventLog();
    a.disconnect();
    await aLog.next((e) => e.event === "DisconnectedLocalClosed");
    a.connect({ address: "127.0.0.1", port: c.local?.port ?? 0 }, other.handler);
    await other.next((e) => e.event === "Connected");
    b.disconnect();
    assert.equal((await other.next((e) => e.session.role === "server")).event, "DisconnectedPeerClosed");
  });
});
