import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  Code,
  ContentFormat,
  MessageType,
  OptionNumber,
  getLocationPath,
  getOption,
  getUintOption,
  opaqueOption,
  parseLinkFormat,
  stringOption,
  uintOption,
  uriQueryOptions,
  type CoapMessage,
} from "@coaps-edge/shared";
import { CoapError, CoapServer, type CoapRequest, type CoapServerOptions } from "../../../edge-agent/src/server/index.js";
import { bytes, flush, request, serverRig, text } from "../coap-kit.js";

function setup(options: CoapServerOptions = {}) {
  const { clock, net, server, ep, peer } = serverRig(options);
  const exchange = async (m: CoapMessage, ms = 10): Promise<CoapMessage[]> => {
    const before = peer.received.length;
    peer.send(ep.local, m);
    clock.advance(1);
    await flush();
    clock.advance(ms);
    return peer.messages().slice(before);
  };
  return { clock, net, server, ep, peer, exchange };
}

/** A promise resolved by the fake clock after `ms`. */
function later<T>(clock: { setTimer(ms: number, fn: () => void): unknown }, ms: number, value: T): Promise<T> {
  return new Promise((resolve) => clock.setTimer(ms, () => resolve(value)));
}

describe("CoapServer routing and responses", () => {
  it("piggybacks a synchronous response in the ACK with the request's token", async () => {
    const { server, exchange } = setup();
    server.addResource("/hello", { get: () => ({ code: "2.05", payload: "hi" }) });
    const m = request({ path: "/hello" });
    const [res] = await exchange(m);
    assert.equal(res?.type, MessageType.ACK);
    assert.equal(res?.messageId, m.messageId);
    assert.deepEqual(res?.token, m.token);
    assert.equal(res?.code, Code.Content);
    assert.equal(text(res!.payload), "hi");
    assert.equal(getUintOption(res!, OptionNumber.ContentFormat), ContentFormat.text);
  });

  it("answers 4.04 for unknown paths, 4.05 for a method without handler and for unknown method codes", async () => {
    const { server, exchange } = setup();
    server.addResource("/hello", { get: () => ({ code: Code.Content }) });
    assert.equal((await exchange(request({ path: "/nope" })))[0]?.code, Code.NotFound);
    assert.equal((await exchange(request({ path: "/hello", code: 2 })))[0]?.code, Code.MethodNotAllowed);
    assert.equal((await exchange(request({ path: "/hello", code: 0x08 })))[0]?.code, Code.MethodNotAllowed);
    assert.equal(server.stats.notFound, 1);
    assert.equal(server.stats.methodNotAllowed, 2);
  });

  it("uses the default handler for unknown paths", async () => {
    const { server, exchange } = setup();
    server.setDefaultHandler((req) => ({ code: Code.Content, payload: `default ${req.path.join("/")}` }));
    const [res] = await exchange(request({ path: "/x/y" }));
    assert.equal(text(res!.payload), "default x/y");
  });

  it("matches {param} segments, preferring exact segments", async () => {
    const { server, exchange } = setup();
    server.addResource("/sensors/{id}/temperature", { get: (r) => ({ code: Code.Content, payload: `t ${r.params.id}` }) });
    server.addResource("/sensors/all/temperature", { get: () => ({ code: Code.Content, payload: "all" }) });
    assert.equal(text((await exchange(request({ path: "/sensors/7/temperature" })))[0]!.payload), "t 7");
    assert.equal(text((await exchange(request({ path: "/sensors/all/temperature" })))[0]!.payload), "all");
    assert.equal((await exchange(request({ path: "/sensors/7" })))[0]?.code, Code.NotFound);
  });

  it("gives handlers the request's fields", async () => {
    const { server, exchange } = setup();
    let seen: CoapRequest | undefined;
    server.addResource("/r", {
      post: (r) => {
        seen = r;
        return { code: Code.Changed };
      },
    });
    await exchange(
      request({
        path: "/r",
        code: 2,
        type: MessageType.NON,
        payload: bytes("{}"),
        extra: [uintOption(OptionNumber.ContentFormat, 50), uintOption(OptionNumber.Accept, 60), ...uriQueryOptions("a=1&b&a=2")],
      }),
    );
    assert.ok(seen);
    assert.equal(seen.method, "POST");
    assert.deepEqual(seen.path, ["r"]);
    assert.deepEqual(seen.query, ["a=1", "b", "a=2"]);
    assert.equal(seen.queryParam("a"), "2");
    assert.equal(seen.queryParam("b"), "");
    assert.equal(seen.queryParam("c"), undefined);
    assert.equal(seen.contentFormat, 50);
    assert.equal(seen.accept, 60);
    assert.equal(seen.text(), "{}");
    assert.equal(seen.confirmable, false);
    assert.equal(seen.scheme, "coap");
    assert.equal(seen.identity.kind, "none");
    assert.equal(seen.peer.port, 40000);
  });

  it("renders Max-Age, ETag, Location-Path and extra options", async () => {
    const { server, exchange } = setup();
    server.addResource("/items", {
      post: () => ({
        code: "2.01",
        maxAge: 30,
        etag: Uint8Array.of(1, 2),
        locationPath: "/items/9",
        options: [stringOption(OptionNumber.LocationQuery, "v=1")],
      }),
    });
    const [res] = await exchange(request({ path: "/items", code: 2 }));
    assert.equal(res?.code, Code.Created);
    assert.equal(getUintOption(res!, OptionNumber.MaxAge), 30);
    assert.deepEqual(getOption(res!, OptionNumber.ETag)?.value, Uint8Array.of(1, 2));
    assert.deepEqual(getLocationPath(res!), ["items", "9"]);
    assert.equal(getOption(res!, OptionNumber.ContentFormat), undefined);
  });

  it("renders CoapError as its code with a diagnostic payload, other throws and rejections as 5.00", async () => {
    const { server, exchange } = setup();
    server.addResource("/e", {
      get: () => {
        throw new CoapError("4.03", "not yours");
      },
      put: () => {
        throw new Error("bug with secret details");
      },
      post: async () => {
        throw new CoapError(Code.Conflict);
      },
      delete: () => Promise.reject(new Error("async bug")),
      fetch: () => ({ code: "9.99" }),
      patch: () => ({ code: Code.Changed, options: [{ number: 70_000, value: new Uint8Array(0) }] }),
    });
    const [forbidden] = await exchange(request({ path: "/e" }));
    assert.equal(forbidden?.code, Code.Forbidden);
    assert.equal(text(forbidden!.payload), "not yours");
    const [bug] = await exchange(request({ path: "/e", code: 3 }));
    assert.equal(bug?.code, Code.InternalServerError);
    assert.equal(bug?.payload.length, 0, "no internals leak");
    assert.equal((await exchange(request({ path: "/e", code: 2 })))[0]?.code, Code.Conflict);
    assert.equal((await exchange(request({ path: "/e", code: 4 })))[0]?.code, Code.InternalServerError);
    assert.equal((await exchange(request({ path: "/e", code: 5 })))[0]?.code, Code.InternalServerError);
    assert.equal((await exchange(request({ path: "/e", code: 6 })))[0]?.code, Code.InternalServerError, "unencodable response");
    assert.equal(server.stats.handlerErrors, 4);
    assert.equal(server.layers[0]?.stats.internalErrors, 0);
  });

  it("answers 4.02 to a CON with an unknown critical option and resets such a NON", async () => {
    const { server, exchange } = setup();
    let calls = 0;
    server.addResource("/hello", { get: () => (calls++, { code: Code.Content }) });
    const [con] = await exchange(request({ extra: [opaqueOption(9999, Uint8Array.of(1))] }));
    assert.equal(con?.type, MessageType.ACK);
    assert.equal(con?.code, Code.BadOption);
    const non = request({ type: MessageType.NON, extra: [opaqueOption(9999, Uint8Array.of(1))] });
    const [rst] = await exchange(non);
    assert.equal(rst?.type, MessageType.RST);
    assert.equal(rst?.messageId, non.messageId);
    // An unknown ELECTIVE option is ignored (§5.4.1).
    assert.equal((await exchange(request({ extra: [opaqueOption(9998, Uint8Array.of(1))] })))[0]?.code, Code.Content);
    assert.equal(calls, 1);
  });

  it("answers 5.05 to a proxy request (it is not a proxy)", async () => {
    const { server, exchange } = setup();
    server.addResource("/hello", { get: () => ({ code: Code.Content }) });
    const [res] = await exchange(request({ extra: [stringOption(OptionNumber.ProxyUri, "coap://elsewhere/x")] }));
    assert.equal(res?.code, Code.ProxyingNotSupported);
  });

  it("answers a NON request with a NON response", async () => {
    const { server, exchange } = setup();
    server.addResource("/hello", { get: () => ({ code: Code.Content, payload: "n" }) });
    const m = request({ type: MessageType.NON });
    const [res] = await exchange(m);
    assert.equal(res?.type, MessageType.NON);
    assert.notEqual(res?.messageId, m.messageId);
    assert.deepEqual(res?.token, m.token);
  });
});

describe("CoapServer reliability behaviour", () => {
  it("runs the handler once for a duplicated CON and replays the identical response", async () => {
    const { server, exchange } = setup();
    let calls = 0;
    server.addResource("/count", { post: () => ({ code: Code.Changed, payload: String(++calls) }) });
    const m = request({ path: "/count", code: 2 });
    const [a] = await exchange(m);
    const [b] = await exchange(m);
    const [c] = await exchange(m);
    assert.equal(calls, 1);
    assert.deepEqual(a, b);
    assert.deepEqual(b, c);
    assert.equal(server.layers[0]?.stats.duplicates, 2);
  });

  it("sends an empty ACK after the separate-response delay, then the response as a CON until ACKed", async () => {
    const { clock, server, peer, ep } = setup({ separateResponseDelayMs: 1000 });
    server.addResource("/slow", { get: () => later(clock, 1500, { code: Code.Content, payload: "late" }) });
    const m = request({ path: "/slow" });
    const t0 = clock.now();
    peer.send(ep.local, m);
    clock.advance(999);
    assert.equal(peer.received.length, 0, "nothing before the delay");
    clock.advance(2);
    const ack = peer.messages()[0]!;
    assert.equal(ack.type, MessageType.ACK);
    assert.equal(ack.code, 0);
    assert.equal(ack.messageId, m.messageId);
    assert.equal(peer.received[0]!.at - t0, 1000);
    clock.advance(600);
    await flush();
    clock.advance(1);
    const sep = peer.messages()[1]!;
    assert.equal(sep.type, MessageType.CON);
    assert.equal(sep.code, Code.Content);
    assert.deepEqual(sep.token, m.token);
    assert.equal(text(sep.payload), "late");
    // Not ACKed yet: retransmitted.
    clock.advance(3100);
    assert.equal(peer.messages()[2]?.messageId, sep.messageId);
    peer.send(ep.local, { type: MessageType.ACK, code: 0, messageId: sep.messageId, token: new Uint8Array(0), options: [], payload: new Uint8Array(0) });
    clock.advance(100_000);
    assert.equal(peer.messages().length, 3, "no retransmission after the ACK");
    // A late duplicate of the request gets the empty ACK again, not a second response.
    peer.send(ep.local, m);
    clock.advance(10);
    assert.deepEqual(peer.messages()[3], ack);
    assert.equal(server.stats.separateResponses, 1);
  });

  it("piggybacks an async response that arrives before the delay", async () => {
    const { clock, server, peer, ep } = setup();
    server.addResource("/quick", { get: () => later(clock, 300, { code: Code.Content, payload: "q" }) });
    peer.send(ep.local, request({ path: "/quick" }));
    clock.advance(301);
    await flush();
    clock.advance(1);
    const [res] = peer.messages();
    assert.equal(res?.type, MessageType.ACK);
    assert.equal(text(res!.payload), "q");
    clock.advance(5000);
    assert.equal(peer.messages().length, 1);
  });

  it("answers a CoAP ping with RST", async () => {
    const { peer, ep, clock } = setup();
    peer.send(ep.local, Uint8Array.of(0x40, 0, 0xbe, 0xef));
    clock.advance(1);
    assert.deepEqual([...peer.received[0]!.bytes], [0x70, 0, 0xbe, 0xef]);
  });
});

describe("/.well-known/core (RFC 6690)", () => {
  function withResources() {
    const s = setup();
    s.server.addResource("/hello", { title: "Hello", rt: "greeting", ct: 0, get: () => ({ code: Code.Content }) });
    s.server.addResource("/temp", { rt: ["temperature-c", "sensor"], if: "core.s", ct: [50, 60], obs: true, sz: 12, get: () => ({ code: Code.Content }) });
    s.server.addResource("/secret", { hidden: true, get: () => ({ code: Code.Content }) });
    s.server.addResource("/sensors/{id}", { get: () => ({ code: Code.Content }) });
    return s;
  }

  it("lists the resources' metadata in link format", async () => {
    const { exchange } = withResources();
    const [res] = await exchange(request({ path: "/.well-known/core" }));
    assert.equal(res?.code, Code.Content);
    assert.equal(getUintOption(res!, OptionNumber.ContentFormat), ContentFormat.linkFormat);
    const links = parseLinkFormat(text(res!.payload));
    assert.deepEqual(
      links.map((l) => l.href),
      ["/hello", "/temp"],
    );
    assert.deepEqual(links[0]?.attributes, { title: "Hello", rt: "greeting", ct: 0 });
    assert.equal(links[1]?.attributes?.obs, true);
    assert.equal(links[1]?.attributes?.sz, 12);
    assert.equal(links[1]?.attributes?.if, "core.s");
  });

  it("filters by ?rt= (exact, one of several, prefix*) and ?href=", async () => {
    const { exchange } = withResources();
    const hrefs = async (q: string) =>
      parseLinkFormat(text((await exchange(request({ path: "/.well-known/core", extra: uriQueryOptions(q) })))[0]!.payload)).map((l) => l.href);
    assert.deepEqual(await hrefs("rt=greeting"), ["/hello"]);
    assert.deepEqual(await hrefs("rt=sensor"), ["/temp"]);
    assert.deepEqual(await hrefs("rt=temp*"), ["/temp"]);
    assert.deepEqual(await hrefs("ct=60"), ["/temp"]);
    assert.deepEqual(await hrefs("href=/he*"), ["/hello"]);
    assert.deepEqual(await hrefs("rt=none"), []);
  });

  it("refuses other methods on /.well-known/core", async () => {
    const { exchange } = withResources();
    assert.equal((await exchange(request({ path: "/.well-known/core", code: 2 })))[0]?.code, Code.MethodNotAllowed);
  });
});
