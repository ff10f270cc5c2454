import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  Code,
  OptionNumber,
  blockOption,
  getBlock,
  getOption,
  getUintOption,
  uintOption,
  type BlockValue,
  type CoapMessage,
} from "@coaps-edge/shared";
import { type CoapServerOptions } from "../../../edge-agent/src/server/index.js";
import { flush, request, serverRig } from "../coap-kit.js";

function setup(options: CoapServerOptions = {}, mtu?: number) {
  const { clock, net, server, ep, peer } = serverRig(options, mtu === undefined ? {} : { mtu });
  const exchange = async (m: CoapMessage): Promise<CoapMessage> => {
    const before = peer.received.length;
    peer.send(ep.local, m);
    clock.advance(1);
    await flush();
    clock.advance(1);
    const got = peer.messages().slice(before);
    assert.equal(got.length, 1, "one response");
    return got[0]!;
  };
  return { clock, server, ep, peer, exchange };
}

const body = (n: number) => Uint8Array.from({ length: n }, (_, i) => (i * 7 + 3) & 0xff);
const b1 = (v: BlockValue) => blockOption(OptionNumber.Block1, v);
const b2 = (v: BlockValue) => blockOption(OptionNumber.Block2, v);

describe("Block1 reassembly (RFC 7959 §2.3)", () => {
  function upload(options: CoapServerOptions = {}) {
    const s = setup(options);
    const received: Uint8Array[] = [];
    s.server.addResource("/up", {
      put: (r) => {
        received.push(r.payload);
        return { code: Code.Changed, payload: `got ${r.payload.length}` };
      },
    });
    return { ...s, received };
  }

  it("answers 2.31 per block and hands the handler the whole body, echoing Block1 in the final response", async () => {
    const { exchange, received } = upload();
    const data = body(150);
    for (let num = 0; num < 2; num++) {
      const res = await exchange(request({ path: "/up", code: 3, payload: data.subarray(num * 64, num * 64 + 64), extra: [b1({ num, more: true, szx: 2 })] }));
      assert.equal(res.code, Code.Continue);
      assert.deepEqual(getBlock(res, OptionNumber.Block1), { num, more: true, szx: 2 });
    }
    assert.equal(received.length, 0, "the handler waits for the last block");
    const last = await exchange(request({ path: "/up", code: 3, payload: data.subarray(128), extra: [b1({ num: 2, more: false, szx: 2 })] }));
    assert.equal(last.code, Code.Changed);
    assert.deepEqual(getBlock(last, OptionNumber.Block1), { num: 2, more: false, szx: 2 });
    assert.deepEqual(received, [data]);
  });

  it("answers 4.08 to a gap and to a later block without a transfer", async () => {
    const { exchange, received } = upload();
    const data = body(64);
    assert.equal((await exchange(request({ path: "/up", code: 3, payload: data, extra: [b1({ num: 3, more: true, szx: 2 })] }))).code, Code.RequestEntityIncomplete);
    assert.equal((await exchange(request({ path: "/up", code: 3, payload: data, extra: [b1({ num: 0, more: true, szx: 2 })] }))).code, Code.Continue);
    assert.equal((await exchange(request({ path: "/up", code: 3, payload: data, extra: [b1({ num: 2, more: true, szx: 2 })] }))).code, Code.RequestEntityIncomplete);
    // The gap dropped the transfer: block 1 is now unknown too.
    assert.equal((await exchange(request({ path: "/up", code: 3, payload: data, extra: [b1({ num: 1, more: false, szx: 2 })] }))).code, Code.RequestEntityIncomplete);
    assert.equal(received.length, 0);
  });

  it("acknowledges a repeated block again without appending it", async () => {
    const { exchange, received } = upload();
    const data = body(128);
    const first = request({ path: "/up", code: 3, payload: data.subarray(0, 64), extra: [b1({ num: 0, more: true, szx: 2 })] });
    await exchange(first);
    await exchange({ ...first, messageId: first.messageId + 1000 }); // same block, new message ID
    await exchange(request({ path: "/up", code: 3, payload: data.subarray(64), extra: [b1({ num: 1, more: false, szx: 2 })] }));
    assert.deepEqual(received, [data]);
  });

  it("answers 4.13 with Size1 past maxBodyBytes, early when Size1 announces it", async () => {
    const { exchange, received } = upload({ blockwise: { maxBodyBytes: 100 } });
    const early = await exchange(request({ path: "/up", code: 3, payload: body(64), extra: [b1({ num: 0, more: true, szx: 2 }), uintOption(OptionNumber.Size1, 500)] }));
    assert.equal(early.code, Code.RequestEntityTooLarge);
    assert.equal(getUintOption(early, OptionNumber.Size1), 100);
    assert.equal((await exchange(request({ path: "/up", code: 3, payload: body(64), extra: [b1({ num: 0, more: true, szx: 2 })] }))).code, Code.Continue);
    const late = await exchange(request({ path: "/up", code: 3, payload: body(64), extra: [b1({ num: 1, more: true, szx: 2 })] }));
    assert.equal(late.code, Code.RequestEntityTooLarge);
    assert.equal(getUintOption(late, OptionNumber.Size1), 100);
    const whole = await exchange(request({ path: "/up", code: 3, payload: body(101) }));
    assert.equal(whole.code, Code.RequestEntityTooLarge);
    assert.equal(received.length, 0);
  });

  it("asks for its smaller block size in 2.31 and accepts the client's switch", async () => {
    const { exchange, received } = upload({ blockwise: { preferredSzx: 2 } });
    const data = body(256 + 64);
    const r0 = await exchange(request({ path: "/up", code: 3, payload: data.subarray(0, 256), extra: [b1({ num: 0, more: true, szx: 4 })] }));
    assert.deepEqual(getBlock(r0, OptionNumber.Block1), { num: 0, more: true, szx: 2 });
    // 256 bytes done = block 4 at 64 bytes.
    const r1 = await exchange(request({ path: "/up", code: 3, payload: data.subarray(256), extra: [b1({ num: 4, more: false, szx: 2 })] }));
    assert.equal(r1.code, Code.Changed);
    assert.deepEqual(received, [data]);
  });

  it("answers 4.00 to a malformed block option and to a short non-final block", async () => {
    const { exchange } = upload();
    const bad = await exchange(request({ path: "/up", code: 3, payload: body(16), extra: [{ number: OptionNumber.Block1, value: Uint8Array.of(0x0f) }] }));
    assert.equal(bad.code, Code.BadRequest);
    const short = await exchange(request({ path: "/up", code: 3, payload: body(10), extra: [b1({ num: 0, more: true, szx: 2 })] }));
    assert.equal(short.code, Code.BadRequest);
  });
});

describe("Block2 slicing (RFC 7959 §2.4)", () => {
  function large(options: CoapServerOptions = {}, mtu?: number, size = 1000) {
    const s = setup(options, mtu);
    const data = body(size);
    let calls = 0;
    s.server.addResource("/large", { get: () => (calls++, { code: Code.Content, payload: data, contentFormat: 42 }) });
    return { ...s, data, calls: () => calls };
  }

  async function fetchAll(exchange: (m: CoapMessage) => Promise<CoapMessage>, szx: number) {
    const parts: Uint8Array[] = [];
    const blocks: BlockValue[] = [];
    let num = 0;
    let etag: Uint8Array | undefined;
    for (;;) {
      const res = await exchange(request({ path: "/large", extra: [b2({ num, more: false, szx })] }));
      assert.equal(res.code, Code.Content);
      const blk = getBlock(res, OptionNumber.Block2)!;
      blocks.push(blk);
      const tag = getOption(res, OptionNumber.ETag)?.value;
      if (etag) assert.deepEqual(tag, etag, "same ETag on every block");
      etag = tag;
      parts.push(res.payload);
      if (!blk.more) break;
      num = blk.num + 1;
      szx = blk.szx;
    }
    return { body: Buffer.concat(parts), blocks, etag };
  }

  it("slices with the client's SZX, serves later blocks from the cache and runs the handler once", async () => {
    const { exchange, data, calls } = large();
    const first = await exchange(request({ path: "/large", extra: [b2({ num: 0, more: false, szx: 2 }), uintOption(OptionNumber.Size2, 0)] }));
    assert.equal(getUintOption(first, OptionNumber.Size2), 1000);
    assert.equal(getUintOption(first, OptionNumber.ContentFormat), 42);
    const { body: got, blocks, etag } = await fetchAll(exchange, 2);
    assert.deepEqual(new Uint8Array(got), data);
    assert.equal(blocks.length, 16);
    assert.ok(blocks.every((b) => b.szx === 2));
    assert.ok(etag && etag.length >= 1 && etag.length <= 8, "an ETag is generated for sliced bodies");
    assert.equal(calls(), 2, "once for the Size2 probe, once for the transfer");
  });

  it("uses its own smaller block size when the client asks for a larger one", async () => {
    const { exchange, data } = large({ blockwise: { preferredSzx: 1 } });
    const { body: got, blocks } = await fetchAll(exchange, 6);
    assert.deepEqual(new Uint8Array(got), data);
    assert.ok(blocks.every((b) => b.szx === 1));
    assert.equal(blocks.length, Math.ceil(1000 / 32));
  });

  it("maps a larger-SZX block number to the same byte offset", async () => {
    const { exchange, data } = large({ blockwise: { preferredSzx: 2 } });
    const res = await exchange(request({ path: "/large", extra: [b2({ num: 1, more: false, szx: 4 })] })); // offset 256
    assert.deepEqual(getBlock(res, OptionNumber.Block2), { num: 4, more: true, szx: 2 });
    assert.deepEqual(res.payload, data.subarray(256, 320));
  });

  it("slices a body that exceeds the endpoint's maxMessageSize even unasked", async () => {
    const { exchange, peer, data } = large({}, 300);
    const res = await exchange(request({ path: "/large" }));
    const blk = getBlock(res, OptionNumber.Block2)!;
    assert.equal(blk.num, 0);
    assert.ok(blk.more);
    assert.equal(blk.szx, 4, "256-byte blocks: the largest that fit 300 bytes with header, token and options");
    assert.ok(peer.received.every((r) => r.bytes.length <= 300));
    assert.deepEqual(res.payload, data.subarray(0, 16 << blk.szx));
  });

  it("does not slice a body that fits, but adds Size2 when asked", async () => {
    const { exchange } = large({}, undefined, 100);
    const res = await exchange(request({ path: "/large", extra: [uintOption(OptionNumber.Size2, 0)] }));
    assert.equal(getOption(res, OptionNumber.Block2), undefined);
    assert.equal(getUintOption(res, OptionNumber.Size2), 100);
    assert.equal(res.payload.length, 100);
  });

  it("answers 4.02 for a block past the end and 4.08 for a later block of an uncached POST", async () => {
    const { exchange, server } = large();
    server.addResource("/post", { post: () => ({ code: Code.Content, payload: body(2000) }) });
    assert.equal((await exchange(request({ path: "/large", extra: [b2({ num: 99, more: false, szx: 2 })] }))).code, Code.BadOption);
    assert.equal((await exchange(request({ path: "/post", code: 2, extra: [b2({ num: 1, more: false, szx: 2 })] }))).code, Code.RequestEntityIncomplete);
  });

  it("slices the response to a Block1 upload and serves its later blocks to the follow-up requests", async () => {
    const { exchange, server } = setup();
    let calls = 0;
    server.addResource("/echo", { put: (r) => (calls++, { code: Code.Changed, payload: r.payload }) });
    const data = body(200);
    for (let num = 0; num < 3; num++) {
      await exchange(request({ path: "/echo", code: 3, payload: data.subarray(num * 64, num * 64 + 64), extra: [b1({ num, more: true, szx: 2 })] }));
    }
    const last = await exchange(request({ path: "/echo", code: 3, payload: data.subarray(192), extra: [b1({ num: 3, more: false, szx: 2 }), b2({ num: 0, more: false, szx: 2 })] }));
    assert.equal(last.code, Code.Changed);
    assert.deepEqual(getBlock(last, OptionNumber.Block1), { num: 3, more: false, szx: 2 });
    assert.deepEqual(getBlock(last, OptionNumber.Block2), { num: 0, more: true, szx: 2 });
    const parts = [last.payload];
    for (let num = 1; num < 4; num++) {
      const r = await exchange(request({ path: "/echo", code: 3, extra: [b2({ num, more: false, szx: 2 })] }));
      assert.equal(r.code, Code.Changed);
      parts.push(r.payload);
    }
    assert.deepEqual(new Uint8Array(Buffer.concat(parts)), data);
    assert.equal(calls, 1);
  });
});
