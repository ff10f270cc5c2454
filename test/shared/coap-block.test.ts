// Block1/Block2 option values and block math (RFC 7959 §2.2, §2.4).
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  CoapDecodeError,
  MessageType,
  Method,
  OptionNumber,
  blockOffset,
  blockOption,
  blockSize,
  decodeBlock,
  decodeMessage,
  encodeBlock,
  encodeMessage,
  getBlock,
  sliceBlock,
  szxFromSize,
  type BlockValue,
  type CoapMessage,
} from "@coaps-edge/shared";
import { hex, loadVectors, toHex } from "./coap-vectors.js";

const vectors = loadVectors<{ vectors: (BlockValue & { name: string; hex: string })[] }>("rfc7959-block-values.json").vectors;

describe("block option values (RFC 7959 §2.2)", () => {
  it("has the vectors", () => assert.equal(vectors.length, 17));
  for (const v of vectors) {
    it(`${v.name}: num=${v.num} m=${v.more ? 1 : 0} szx=${v.szx} ↔ "${v.hex}"`, () => {
      assert.equal(toHex(encodeBlock(v)), v.hex);
      assert.deepEqual(decodeBlock(hex(v.hex)), { num: v.num, more: v.more, szx: v.szx });
    });
  }
  it("decodes a non-minimal (leading zero) value", () => {
    assert.deepEqual(decodeBlock(hex("0022")), { num: 2, more: false, szx: 2 });
  });
  it("rejects SZX 7 with reserved-szx and more than 3 bytes with bad-option-length", () => {
    assert.throws(() => decodeBlock(hex("07")), (e: unknown) => e instanceof CoapDecodeError && e.code === "reserved-szx");
    assert.throws(() => decodeBlock(hex("0000000a")), (e: unknown) => e instanceof CoapDecodeError && e.code === "bad-option-length");
  });
  it("refuses to encode NUM past 2^20-1 or SZX outside 0..6", () => {
    assert.throws(() => encodeBlock({ num: 0x100000, more: false, szx: 0 }), RangeError);
    assert.throws(() => encodeBlock({ num: -1, more: false, szx: 0 }), RangeError);
    assert.throws(() => encodeBlock({ num: 0, more: false, szx: 7 }), RangeError);
  });
});

describe("block math", () => {
  it("blockSize = 2^(SZX+4)", () => {
    assert.deepEqual([0, 1, 2, 3, 4, 5, 6].map(blockSize), [16, 32, 64, 128, 256, 512, 1024]);
  });
  it("szxFromSize picks the largest block that fits, clamped to 16..1024", () => {
    const cases: [number, number][] = [
      [0, 0],
      [15, 0],
      [16, 0],
      [31, 0],
      [32, 1],
      [64, 2],
      [100, 2],
      [1024, 6],
      [1152, 6],
      [4096, 6],
    ];
    for (const [size, szx] of cases) assert.equal(szxFromSize(size), szx, `size ${size}`);
  });
  it("blockOffset: RFC 7959 Figure 4 late negotiation asks 2:2/0/64 after 2:0/1/128 — both at byte 128", () => {
    assert.equal(blockOffset({ num: 1, more: false, szx: 3 }), 128);
    assert.equal(blockOffset({ num: 2, more: false, szx: 2 }), 128);
    assert.equal(blockOffset({ num: 0, more: true, szx: 6 }), 0);
    assert.equal(blockOffset({ num: 0xfffff, more: false, szx: 6 }), 0xfffff * 1024);
  });
  it("sliceBlock walks a 300-byte body in 128-byte blocks", () => {
    const body = Uint8Array.from({ length: 300 }, (_, i) => i & 0xff);
    const b0 = sliceBlock(body, 0, 3)!;
    const b1 = sliceBlock(body, 1, 3)!;
    const b2 = sliceBlock(body, 2, 3)!;
    assert.deepEqual([b0.data.length, b0.more, b1.data.length, b1.more, b2.data.length, b2.more], [128, true, 128, true, 44, false]);
    assert.equal(b1.data[0], 128);
    assert.equal(b2.data[43], 299 & 0xff);
    assert.equal(sliceBlock(body, 3, 3), undefined);
  });
  it("sliceBlock on an exact multiple ends with more=false and nothing after", () => {
    const body = new Uint8Array(256);
    assert.equal(sliceBlock(body, 1, 3)!.more, false);
    assert.equal(sliceBlock(body, 2, 3), undefined);
  });
  it("sliceBlock: block 0 of an empty body is empty and final", () => {
    assert.deepEqual(sliceBlock(new Uint8Array(0), 0, 6), { data: new Uint8Array(0), more: false });
    assert.equal(sliceBlock(new Uint8Array(0), 1, 6), undefined);
  });
});

describe("block options in messages", () => {
  const base: CoapMessage = { type: MessageType.CON, code: Method.GET, messageId: 1234, token: new Uint8Array(0), options: [], payload: new Uint8Array(0) };
  it("blockOption + getBlock through the codec: GET /status with Block2 2:1/0/128 (RFC 7959 Figure 2)", () => {
    const m: CoapMessage = { ...base, options: [{ number: OptionNumber.UriPath, value: new TextEncoder().encode("status") }, blockOption(OptionNumber.Block2, { num: 1, more: false, szx: 3 })] };
    const bytes = encodeMessage(m);
    // Uri-Path (11, len 6) then Block2: delta 12, len 1, value 0x13
    assert.equal(toHex(bytes), "400104d2b6737461747573c113");
    const d = decodeMessage(bytes);
    assert.deepEqual(getBlock(d, OptionNumber.Block2), { num: 1, more: false, szx: 3 });
    assert.equal(getBlock(d, OptionNumber.Block1), undefined);
  });
  it("Block2 0/0/16 is the empty value: option present with length 0", () => {
    const m: CoapMessage = { ...base, options: [blockOption(OptionNumber.Block2, { num: 0, more: false, szx: 0 })] };
    // Block2 (23): delta nibble 13 + extension 10, length 0
    assert.equal(toHex(encodeMessage(m)), "400104d2" + "d00a");
    assert.deepEqual(getBlock(decodeMessage(encodeMessage(m)), OptionNumber.Block2), { num: 0, more: false, szx: 0 });
  });
  it("getBlock throws CoapDecodeError on SZX 7 (answer 4.00)", () => {
    const m: CoapMessage = { ...base, options: [{ number: OptionNumber.Block1, value: hex("0f") }] };
    assert.throws(() => getBlock(m, OptionNumber.Block1), CoapDecodeError);
  });
});
