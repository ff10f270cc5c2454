/**
 * Parity rows "AddResource / RemoveResource, Add/RemoveBlockWiseResource", "SetDefaultHandler"
 * and "SendResponse / SendResponseBlockWise": routing, handlers answering now or later, the
 * per-block hooks of block-wise resources, and the error values of sendResponse*.
 * CoapSecure ↔ CoapSecure over real UDP on loopback.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { Code, OptionNumber, getBlock } from "@coaps-edge/shared";
import { CoapSecure, OtError, type CoapSecureBlockwiseResource, type MessageInfo } from "../../edge-agent/src/api/index.js";
import { connectTo, request, sleep, startAgent, text } from "./helpers.js";

const agents: CoapSecure[] = [];
let server: CoapSecure;
let client: CoapSecure;
before(async () => {
  server = await startAgent();
  client = await startAgent();
  agents.push(server, client);
  assert.equal((await connectTo(client, server)).event, "Connected");
});
after(async () => {
  await Promise.all(agents.map((a) => a.stop()));
});
const otError = (code: OtError["code"]) => (e: unknown) => e instanceof OtError && e.code === code;
const body = (n: number, seed = 7) => Uint8Array.from({ length: n }, (_, i) => (i * seed + 13) & 0xff);

describe("otCoapSecureAddResource / RemoveResource / SetDefaultHandler", () => {
  it("routes by URI path, any method, and the handler answers with sendResponse", async () => {
    const seen: string[] = [];
    const echo = {
      uriPath: "a/echo",
      handler: (req: import("../../edge-agent/src/server/types.js").CoapRequest, info: MessageInfo) => {
        seen.push(`${req.method} /${req.path.join("/")} from ${req.identity.identity}`);
        server.sendResponse({ code: "2.05", payload: `echo:${req.text()}` }, info);
      },
    };
    server.addResource(echo);
    const r = await request(client, { method: "POST", path: "/a/echo", payload: "hi" });
    assert.equal(r.result, "None");
    assert.equal(r.response?.code, Code.Content);
    assert.equal(text(r.response?.payload), "echo:hi");
    assert.equal(r.info?.peer.port, server.local?.port);
    assert.equal((await request(client, { method: "PUT", path: "a/echo", payload: "x" })).response?.code, Code.Content);
    assert.deepEqual(seen, ["POST /a/echo from device-1", "PUT /a/echo from device-1"]);
    server.removeResource(echo);
    assert.equal((await request(client, { path: "a/echo" })).response?.code, Code.NotFound);
    server.removeResource(echo); // not added any more: a no-op
  });

  it("the first resource added for a path wins; removing it uncovers the next", async () => {
    const first = { uriPath: "dup", handler: (_r: unknown, i: MessageInfo) => server.sendResponse({ code: "2.05", payload: "first" }, i) };
    const second = { uriPath: "/dup/", handler: (_r: unknown, i: MessageInfo) => server.sendResponse({ code: "2.05", payload: "second" }, i) };
    server.addResource(first);
    server.addResource(second);
    assert.equal(text((await request(client, { path: "dup" })).response?.payload), "first");
    server.removeResource(first);
    assert.equal(text((await request(client, { path: "dup" })).response?.payload), "second");
    server.removeResource(second);
  });

  it("unhandled requests get 4.04, or the default handler", async () => {
    assert.equal((await request(client, { path: "nowhere" })).response?.code, Code.NotFound);
    server.setDefaultHandler((req, info) => server.sendResponse({ code: "2.05", payload: `default:/${req.path.join("/")}` }, info));
    assert.equal(text((await request(client, { path: "nowhere/else" })).response?.payload), "default:/nowhere/else");
    server.setDefaultHandler(undefined);
    assert.equal((await request(client, { path: "nowhere" })).response?.code, Code.NotFound);
  });
});

describe("otCoapSecureSendResponse", () => {
  it("a handler may answer later (separate response after an empty ACK)", async () => {
    server.addResource({
      uriPath: "slow",
      handler: (_req, info) => {
        setTimeout(() => server.sendResponse({ code: "2.05", payload: "late" }, info), 1300);
      },
    });
    const r = await request(client, { path: "slow" });
    assert.equal(r.result, "None");
    assert.equal(text(r.response?.payload), "late");
  });

  it("answering twice is InvalidState, a non-response code InvalidArgs", async () => {
    const errors: unknown[] = [];
    server.addResource({
      uriPath: "twice",
      handler: (_req, info) => {
        for (const code of ["0.01", "2.05", "2.04"]) {
          try {
            server.sendResponse({ code }, info);
          } catch (e) {
            errors.push(e);
          }
        }
      },
    });
    const r = await request(client, { path: "twice" });
    assert.equal(r.response?.code, Code.Content, "the first valid answer went out");
    assert.equal(errors.length, 2);
    assert.ok(otError("InvalidArgs")(errors[0]), String(errors[0]));
    assert.ok(otError("InvalidState")(errors[1]), String(errors[1]));
  });

  it("large plain-resource answers are sliced with Block2 and joined by a receive hook", async () => {
    const big = body(3000);
    server.addResource({ uriPath: "big", handler: (_r, info) => server.sendResponse({ code: "2.05", payload: big }, info) });
    const blocks: number[] = [];
    const got: Uint8Array[] = [];
    const done = await new Promise<string>((resolve) => {
      client.sendRequestBlockWise({ path: "big" }, (_res, _i, result) => resolve(result), undefined, (block, position, more) => {
        blocks.push(position);
        got.push(block);
        assert.equal(more, position + block.length < big.length);
      });
    });
    assert.equal(done, "None");
    assert.ok(blocks.length >= 3);
    assert.deepEqual(Buffer.concat(got), Buffer.from(big));
  });
});

describe("otCoapSecureAddBlockWiseResource / RemoveBlockWiseResource / SendResponseBlockWise", () => {
  it("Block1: the receive hook sees each block, 2.31 goes back between them, the handler runs once at the end", async () => {
    const upload = body(200, 3);
    const received: Array<[number, number, boolean, number]> = [];
    const chunks: Uint8Array[] = [];
    let handled = 0;
    const resource: CoapSecureBlockwiseResource = {
      uriPath: "upload",
      receiveHook: (block, position, more, total) => {
        received.push([position, block.length, more, total]);
        chunks.push(Uint8Array.from(block));
      },
      handler: (req, info) => {
        handled++;
        assert.equal(getBlock({ type: 0, code: 3, messageId: 0, token: new Uint8Array(0), options: req.options, payload: req.payload }, OptionNumber.Block1)?.more, false);
        server.sendResponse({ code: "2.04", payload: `got ${Buffer.concat(chunks).length}` }, info);
      },
    };
    server.addBlockWiseResource(resource);
    const sent: number[] = [];
    const r = await new Promise<{ code: number | undefined; result: string; payload: string }>((resolve) => {
      client.sendRequestBlockWise(
        { method: "PUT", path: "upload" },
        (res, _i, result) => resolve({ code: res?.code, result, payload: text(res?.payload) }),
        (position, size) => {
          sent.push(position);
          const block = upload.subarray(position, position + size);
          return { block, more: position + size < upload.length };
        },
        undefined,
        { blockSize: 64 },
      );
    });
    assert.deepEqual(r, { code: Code.Changed, result: "None", payload: "got 200" });
    assert.deepEqual(sent, [0, 64, 128, 192]);
    assert.deepEqual(
      received.map(([p, l, m]) => [p, l, m]),
      [
        [0, 64, true],
        [64, 64, true],
        [128, 64, true],
        [192, 8, false],
      ],
    );
    assert.equal(handled, 1);
    assert.deepEqual(Buffer.concat(chunks), Buffer.from(upload));
    server.removeBlockWiseResource(resource);
  });

  it("Block1 hook errors: NoBufs → 4.13, NoFrameReceived → 4.08, others → 5.00", async () => {
    const cases: Array<[OtError["code"], number]> = [
      ["NoBufs", Code.RequestEntityTooLarge],
      ["NoFrameReceived", Code.RequestEntityIncomplete],
      ["Parse", Code.InternalServerError],
    ];
    for (const [code, expected] of cases) {
      const resource: CoapSecureBlockwiseResource = {
        uriPath: "refuse",
        receiveHook: (_b, position) => {
          if (position > 0) throw new OtError(code, "test");
        },
        handler: () => assert.fail("the handler must not run"),
      };
      server.addBlockWiseResource(resource);
      const upload = body(100);
      const r = await new Promise<number | undefined>((resolve) => {
        client.sendRequestBlockWise(
          { method: "POST", path: "refuse" },
          (res) => resolve(res?.code),
          (p, s) => ({ block: upload.subarray(p, p + s), more: p + s < upload.length }),
          undefined,
          { blockSize: 32 },
        );
      });
      assert.equal(r, expected, code);
      server.removeBlockWiseResource(resource);
    }
  });

  it("Block2: block 0 from sendResponseBlockWise, the rest from the resource's transmit hook", async () => {
    const doc = body(300, 11);
    const served: number[] = [];
    const hook = (position: number, size: number) => {
      served.push(position);
      return { block: doc.subarray(position, position + size), more: position + size < doc.length };
    };
    const resource: CoapSecureBlockwiseResource = {
      uriPath: "doc",
      transmitHook: hook,
      handler: (_req, info) => server.sendResponseBlockWise({ code: "2.05", contentFormat: 42 }, info, hook, 64),
    };
    server.addBlockWiseResource(resource);
    const got: Uint8Array[] = [];
    const positions: number[] = [];
    const r = await new Promise<string>((resolve) => {
      client.sendRequestBlockWise({ path: "doc" }, (_res, _i, result) => resolve(result), undefined, (block, position) => {
        positions.push(position);
        got.push(Uint8Array.from(block));
      });
    });
    assert.equal(r, "None");
    assert.deepEqual(positions, [0, 64, 128, 192, 256]);
    assert.deepEqual(served, [0, 64, 128, 192, 256]);
    assert.deepEqual(Buffer.concat(got), Buffer.from(doc));
    assert.equal(server.stats.blockwise.block2Served, 4);
    server.removeBlockWiseResource(resource);
    assert.equal((await request(client, { path: "doc" })).response?.code, Code.NotFound);
  });

  it("sendResponseBlockWise rejects a hook block larger than the block size (InvalidArgs) and passes hook errors on", async () => {
    const errors: unknown[] = [];
    server.addResource({
      uriPath: "bad-hook",
      handler: (_req, info) => {
        try {
          server.sendResponseBlockWise({ code: "2.05" }, info, () => ({ block: new Uint8Array(100), more: false }), 64);
        } catch (e) {
          errors.push(e);
        }
        try {
          server.sendResponseBlockWise({ code: "2.05" }, info, () => {
            throw new OtError("NoBufs", "test");
          });
        } catch (e) {
          errors.push(e);
        }
        server.sendResponse({ code: "5.00" }, info);
      },
    });
    assert.equal((await request(client, { path: "bad-hook" })).response?.code, Code.InternalServerError);
    assert.ok(otError("InvalidArgs")(errors[0]));
    assert.ok(otError("NoBufs")(errors[1]));
  });

  it("a throwing handler is answered 5.00, on plain and block-wise resources alike", async () => {
    const plain = { uriPath: "throws", handler: () => { throw new Error("boom"); } };
    server.addResource(plain);
    assert.equal((await request(client, { path: "throws" })).response?.code, Code.InternalServerError);
    server.removeResource(plain);
    const bw: CoapSecureBlockwiseResource = { uriPath: "throws", handler: () => { throw new Error("boom"); } };
    server.addBlockWiseResource(bw);
    assert.equal((await request(client, { path: "throws" })).response?.code, Code.InternalServerError);
    assert.equal(server.stats.blockwise.handlerErrors, 1);
    server.removeBlockWiseResource(bw);
  });

  it("a block-wise resource without block options behaves as a plain one", async () => {
    const resource: CoapSecureBlockwiseResource = {
      uriPath: "bw-plain",
      receiveHook: () => assert.fail("no blocks"),
      handler: (req, info) => server.sendResponse({ code: "2.05", payload: `plain:${req.text()}` }, info),
    };
    server.addBlockWiseResource(resource);
    assert.equal(text((await request(client, { method: "POST", path: "bw-plain", payload: "x" })).response?.payload), "plain:x");
    server.removeBlockWiseResource(resource);
    await sleep(0);
  });
});
