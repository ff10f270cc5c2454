/**
 * Parity row "SendRequest / SendRequestBlockWise": message IDs (assigned when 0), the handler
 * called exactly once with the response or an error (ResponseTimeout, Abort, a hook's error),
 * InvalidState without a session, downlink requests to a device's server session, and the
 * Block1/Block2 hooks against plain resources. CoapSecure ↔ CoapSecure over real UDP.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { Code, MessageType } from "@coaps-edge/shared";
import { CoapSecure, OtError } from "../../edge-agent/src/api/index.js";
import { EventLog, connectTo, request, sleep, startAgent, text } from "./helpers.js";

const agents: CoapSecure[] = [];
let server: CoapSecure;
let client: CoapSecure;
let uploaded: Uint8Array = new Uint8Array(0);
before(async () => {
  server = await startAgent();
  client = await startAgent();
  agents.push(server, client);
  server.addResource({ uriPath: "ping", handler: (req, info) => server.sendResponse({ code: "2.05", payload: `pong:${req.text()}` }, info) });
  server.addResource({ uriPath: "hang", handler: () => {} });
  server.addResource({
    uriPath: "store",
    handler: (req, info) => {
      uploaded = Uint8Array.from(req.payload);
      server.sendResponse({ code: "2.04", payload: String(req.payload.length) }, info);
    },
  });
  assert.equal((await connectTo(client, server)).event, "Connected");
});
after(async () => {
  await Promise.all(agents.map((a) => a.stop()));
});
const otError = (code: OtError["code"]) => (e: unknown) => e instanceof OtError && e.code === code;

describe("otCoapSecureSendRequest", () => {
  it("assigns a message ID when 0 (returned), keeps a given one, and calls the handler once", async () => {
    const a = await request(client, { method: "POST", path: "ping", payload: "1" });
    const b = await request(client, { method: "POST", path: "ping", payload: "2", messageId: 0 });
    assert.equal(a.result, "None");
    assert.equal(text(a.response?.payload), "pong:1");
    // A piggybacked response carries the request's message ID: the one that went out.
    assert.equal(a.response?.type, MessageType.ACK);
    assert.equal(a.response?.messageId, a.messageId);
    assert.equal(b.response?.messageId, b.messageId);
    assert.notEqual(a.messageId, b.messageId);
    const c = await request(client, { path: "ping", messageId: 4321 });
    assert.equal(c.messageId, 4321);
    assert.equal(c.response?.messageId, 4321);
    await sleep(50);
    assert.equal(a.calls(), 1);
    assert.equal(c.calls(), 1);
  });

  it("a NON request gets a NON response", async () => {
    const r = await request(client, { path: "ping", confirmable: false, payload: "non" });
    assert.equal(r.result, "None");
    assert.equal(r.response?.type, MessageType.NON);
    assert.equal(text(r.response?.payload), "pong:non");
  });

  it("no answer: the handler gets ResponseTimeout once, without a response", async () => {
    const r = await request(client, { path: "hang" }, { timeoutMs: 400 });
    assert.equal(r.result, "ResponseTimeout");
    assert.equal(r.response, undefined);
    await sleep(300);
    assert.equal(r.calls(), 1);
  });

  it("without a session (or before start) it is InvalidState; a bad message is InvalidArgs", async () => {
    const idle = await startAgent();
    agents.push(idle);
    assert.throws(() => idle.sendRequest({ path: "ping" }), otError("InvalidState"));
    assert.throws(() => idle.sendRequest({ path: "ping" }, undefined, { peer: { address: "127.0.0.1", port: 9 } }), otError("InvalidState"));
    const stopped = new CoapSecure();
    assert.throws(() => stopped.sendRequest({ path: "ping" }), otError("InvalidState"));
    assert.throws(() => client.sendRequest({ method: "BREW" as "GET", path: "ping" }), otError("InvalidArgs"));
    assert.throws(() => client.sendRequest({ path: "ping", token: new Uint8Array(9) }), otError("InvalidArgs"));
    assert.throws(() => client.sendRequest({ path: "ping", messageId: 70000 }), otError("InvalidArgs"));
  });

  it("requests in flight end with Abort when the session goes", async () => {
    const c2 = await startAgent();
    agents.push(c2);
    const log = new EventLog();
    assert.equal((await connectTo(c2, server, log)).event, "Connected");
    const pending = request(c2, { path: "hang" });
    await sleep(50);
    c2.disconnect();
    const r = await pending;
    assert.equal(r.result, "Abort");
    assert.equal(r.response, undefined);
  });

  it("the server sends requests to a connected device (downlink) by its peer", async () => {
    const device = await startAgent();
    agents.push(device);
    device.addResource({ uriPath: "led", handler: (req, info) => device.sendResponse({ code: "2.04", payload: `led=${req.text()}` }, info) });
    const serverLog = new EventLog();
    server.setClientConnectedCallback(serverLog.handler);
    assert.equal((await connectTo(device, server)).event, "Connected");
    const up = await serverLog.next((e) => e.event === "Connected" && e.session.peer.port === device.local?.port);
    const r = await request(server, { method: "PUT", path: "led", payload: "on" }, { peer: up.session.peer });
    assert.equal(r.result, "None");
    assert.equal(r.response?.code, Code.Changed);
    assert.equal(text(r.response?.payload), "led=on");
    assert.equal(r.info?.identity.kind, "psk");
    server.setClientConnectedCallback(undefined);
  });
});

describe("otCoapSecureSendRequestBlockWise", () => {
  it("the transmit hook produces the Block1 blocks; the server's plain resource gets the whole body", async () => {
    const data = Uint8Array.from({ length: 2000 }, (_, i) => (i * 31) & 0xff);
    const calls: Array<[number, number]> = [];
    const r = await new Promise<{ code?: number; result: string }>((resolve) => {
      client.sendRequestBlockWise(
        { method: "PUT", path: "store" },
        (res, _i, result) => resolve({ ...(res ? { code: res.code } : {}), result }),
        (position, size) => {
          calls.push([position, size]);
          return { block: data.subarray(position, position + size), more: position + size < data.length };
        },
        undefined,
        { blockSize: 256 },
      );
    });
    assert.deepEqual(r, { code: Code.Changed, result: "None" });
    assert.equal(calls.length, 8);
    assert.deepEqual(calls[1], [256, 256]);
    assert.deepEqual(uploaded, data);
  });

  it("a throwing transmit hook ends the request with its error", async () => {
    const r = await new Promise<{ result: string; response: boolean }>((resolve) => {
      client.sendRequestBlockWise(
        { method: "PUT", path: "store" },
        (res, _i, result) => resolve({ result, response: res !== undefined }),
        (position) => {
          if (position > 0) throw new OtError("Parse", "test");
          return { block: new Uint8Array(64), more: true };
        },
        undefined,
        { blockSize: 64 },
      );
    });
    assert.deepEqual(r, { result: "Parse", response: true });
  });

  it("a throwing receive hook ends the transfer with its error and the response at hand", async () => {
    server.addResource({ uriPath: "large", handler: (_r, info) => server.sendResponse({ code: "2.05", payload: new Uint8Array(4000) }, info) });
    let hookCalls = 0;
    const r = await new Promise<{ result: string; code?: number }>((resolve) => {
      client.sendRequestBlockWise({ path: "large" }, (res, _i, result) => resolve({ result, ...(res ? { code: res.code } : {}) }), undefined, () => {
        hookCalls++;
        throw new OtError("NoBufs", "test");
      });
    });
    assert.deepEqual(r, { result: "NoBufs", code: Code.Content });
    assert.equal(hookCalls, 1);
  });

  it("without hooks it is a single request; a bad block size is InvalidArgs", async () => {
    const r = await new Promise<string>((resolve) =>
      client.sendRequestBlockWise({ path: "ping", payload: "x", method: "POST" }, (res) => resolve(text(res?.payload)), undefined, undefined),
    );
    assert.equal(r, "pong:x");
    assert.throws(() => client.sendRequestBlockWise({ path: "ping" }, undefined, () => ({ block: new Uint8Array(0), more: false }), undefined, { blockSize: 100 }), otError("InvalidArgs"));
  });
});

describe("the server's session teardown", () => {
  it("a message ID the device reuses in its next session is a new request (RFC 7252 §9.1.1: dedup is per session)", async () => {
    const first = await request(client, { method: "POST", path: "ping", payload: "first", messageId: 9001 });
    assert.equal(text(first.response?.payload), "pong:first");
    const log = new EventLog();
    client.setClientConnectedCallback(log.handler);
    client.disconnect();
    assert.equal((await log.next()).event, "DisconnectedLocalClosed");
    // The server's session ends by the close_notify, or at the latest when the new handshake
    // from the same address and port replaces it: either way its teardown runs.
    assert.equal((await connectTo(client, server, log)).event, "Connected");
    // Same address, port and message ID, new session: the handler runs again rather than the
    // closed session's cached reply ("pong:first") being replayed.
    const second = await request(client, { method: "POST", path: "ping", payload: "second", messageId: 9001 });
    assert.equal(text(second.response?.payload), "pong:second");
  });
});
