/**
 * Parity rows "Start(port) / Stop" and "StartWithMaxConnAttempts(port, max, cb)"
 * (otCoapSecureStart, otCoapSecureStop, otCoapSecureStartWithMaxConnAttempts), against our own
 * agents over real UDP on loopback.
 */
import assert from "node:assert/strict";
import dgram from "node:dgram";
import { after, describe, it } from "node:test";
import { CoapSecure, OT_DEFAULT_COAP_SECURE_PORT, OtError, OtErrorValue } from "../../edge-agent/src/api/index.js";
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

function isOtError(code: OtError["code"]) {
  return (e: unknown) => e instanceof OtError && e.code === code && e.value === OtErrorValue[code];
}

async function canBind(port: number): Promise<boolean> {
  const s = dgram.createSocket("udp4");
  const ok = await new Promise<boolean>((resolve) => {
    s.once("error", () => resolve(false));
    s.bind(port, "127.0.0.1", () => resolve(true));
  });
  await new Promise<void>((resolve) => (ok ? s.close(() => resolve()) : resolve()));
  return ok;
}

describe("otCoapSecureStart / otCoapSecureStop", () => {
  it("start binds the port and opens the agent; a second start is Already; stop closes the socket", async () => {
    const a = new CoapSecure(FAST);
    assert.equal(a.isClosed(), true);
    assert.equal(a.state, "Closed");
    await a.start(0);
    const port = a.local?.port ?? 0;
    assert.ok(port > 0);
    assert.equal(a.state, "Open");
    assert.equal(a.isClosed(), false);
    assert.equal(a.isConnected(), false);
    assert.equal(a.isConnectionActive(), false);
    assert.equal(await canBind(port), false, "the port is held while started");
    await assert.rejects(a.start(0), isOtError("Already"));
    await assert.rejects(a.startWithMaxConnAttempts(0, 3, undefined), isOtError("Already"));
    await a.stop();
    assert.equal(a.isClosed(), true);
    assert.equal(a.local === undefined, true);
    assert.equal(await canBind(port), true, "stop released the port");
    await a.stop(); // a no-op, as OpenThread's void Stop
    await a.start(port); // and it starts again, on the same port
    assert.equal(a.local?.port, port);
    await a.stop();
  });

  it("start() defaults to port 5684 (OT_DEFAULT_COAP_SECURE_PORT)", async () => {
    assert.equal(OT_DEFAULT_COAP_SECURE_PORT, 5684);
    const a = new CoapSecure(FAST);
    try {
      await a.start();
      assert.equal(a.local?.port, 5684);
    } catch (e) {
      // Another process may hold 5684 on this machine: then the failure names that port.
      assert.ok(isOtError("Failed")(e), String(e));
      assert.match((e as Error).message, /5684/);
    } finally {
      await a.stop();
    }
  });

  it("a port in use fails with Failed and leaves the agent Closed", async () => {
    const holder = await agent();
    const a = new CoapSecure(FAST);
    await assert.rejects(a.start(holder.local?.port), isOtError("Failed"));
    assert.equal(a.isClosed(), true);
    await assert.rejects(a.start(70000), isOtError("InvalidArgs"));
  });

  it("stop ends every session with close_notify and fails requests in flight with Abort", async () => {
    const server = await agent();
    // A resource that never answers keeps a request in flight.
    server.addResource({ uriPath: "hang", handler: () => {} });
    const client = await agent();
    const log = new EventLog();
    assert.equal((await connectTo(client, server, log)).event, "Connected");
    const outcome = new Promise<string>((resolve) => client.sendRequest({ path: "hang" }, (_r, _i, result) => resolve(result)));
    await sleep(50);
    await client.stop();
    assert.equal(await outcome, "Abort");
    // The server saw our close_notify (reported after its guard time).
    const serverLog = new EventLog();
    server.setClientConnectedCallback(serverLog.handler);
    assert.equal((await serverLog.next()).event, "DisconnectedPeerClosed");
    // OpenThread reports nothing for sessions ended by Stop.
    await sleep(100);
    assert.deepEqual(log.names(), ["Connected"]);
  });
});

describe("otCoapSecureStartWithMaxConnAttempts", () => {
  it("rejects a bad count with InvalidArgs", async () => {
    const a = new CoapSecure(FAST);
    await assert.rejects(a.startWithMaxConnAttempts(0, -1, undefined), isOtError("InvalidArgs"));
    await assert.rejects(a.startWithMaxConnAttempts(0, 70000, undefined), isOtError("InvalidArgs"));
    assert.equal(a.isClosed(), true);
  });

  it("server side: after 2 sessions the agent stops itself, calls the callback once and reports DisconnectedMaxAttempts", async () => {
    const server = new CoapSecure(FAST);
    agents.push(server);
    server.setPsk(PSK, IDENTITY);
    let autoStops = 0;
    const log = new EventLog();
    server.setClientConnectedCallback(log.handler);
    await server.startWithMaxConnAttempts(0, 2, () => autoStops++);
    assert.equal(server.remainingConnectionAttempts, 2);

    const c1 = await agent();
    assert.equal((await connectTo(c1, server)).event, "Connected");
    assert.equal(server.remainingConnectionAttempts, 1);
    c1.disconnect();
    assert.equal((await log.next((e) => e.event !== "Connected")).event, "DisconnectedPeerClosed");
    assert.equal(server.isClosed(), false, "one attempt left: still running");

    const c2 = await agent();
    assert.equal((await connectTo(c2, server)).event, "Connected");
    assert.equal(server.remainingConnectionAttempts, 0);
    c2.disconnect();
    const last = await log.next((e) => e.event !== "Connected");
    assert.equal(last.event, "DisconnectedMaxAttempts");
    assert.equal(autoStops, 1);
    assert.equal(server.isClosed(), true);
    await sleep(100);
    assert.equal(autoStops, 1);
  });

  it("refuses new handshakes once the attempts are used up, until the agent stops", async () => {
    const server = new CoapSecure(FAST);
    agents.push(server);
    server.setPsk(PSK, IDENTITY);
    let stopped = false;
    await server.startWithMaxConnAttempts(0, 1, () => (stopped = true));
    const c1 = await agent();
    assert.equal((await connectTo(c1, server)).event, "Connected");
    const c2 = await agent({ dtls: { handshakeTimeoutMs: 800, retransmit: { initialMs: 100 } } });
    const refused = await connectTo(c2, server);
    assert.equal(refused.event, "DisconnectedError");
    assert.ok(server.stats.refusedHellos > 0);
    assert.equal(stopped, false, "the first session is still up");
    c1.disconnect();
    for (let i = 0; i < 50 && !stopped; i++) await sleep(20);
    assert.equal(stopped, true);
  });

  it("client side: a connect() uses an attempt; when that session ends the agent stops itself", async () => {
    const server = await agent();
    const client = new CoapSecure(FAST);
    agents.push(client);
    client.setPsk(PSK, IDENTITY);
    let autoStops = 0;
    await client.startWithMaxConnAttempts(0, 1, () => autoStops++);
    const log = new EventLog();
    assert.equal((await connectTo(client, server, log)).event, "Connected");
    assert.equal(client.remainingConnectionAttempts, 0);
    client.disconnect();
    assert.equal((await log.next()).event, "DisconnectedMaxAttempts");
    assert.equal(autoStops, 1);
    assert.equal(client.isClosed(), true);
  });

  it("0 attempts means no limit", async () => {
    const server = new CoapSecure(FAST);
    agents.push(server);
    server.setPsk(PSK, IDENTITY);
    await server.startWithMaxConnAttempts(0, 0, () => assert.fail("must not auto-stop"));
    const client = await agent();
    for (let i = 0; i < 3; i++) {
      const log = new EventLog();
      assert.equal((await connectTo(client, server, log)).event, "Connected");
      client.disconnect();
      assert.equal((await log.next()).event, "DisconnectedLocalClosed");
    }
    assert.equal(server.isClosed(), false);
    assert.equal(server.stats.attempts, 3);
  });
});
