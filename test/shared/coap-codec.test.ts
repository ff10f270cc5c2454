// RFC 7252 §3 message codec: published examples byte for byte, option extension boundaries,
// round trips, and every message format error with the header fields it must keep.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  CoapDecodeError,
  Code,
  MessageType,
  Method,
  decodeHeader,
  decodeMessage,
  emptyMessage,
  encodeMessage,
  tryDecodeMessage,
  type CoapMessage,
} from "@coaps-edge/shared";
import { hex, loadVectors, messageFromJson, toHex, utf8, type JsonMessage } from "./coap-vectors.js";

const messages = loadVectors<{ vectors: { name: string; hex: string; message: JsonMessage }[] }>("rfc7252-messages.json");
const malformed = loadVectors<{
  vectors: { name: string; hex: string; code: string; messageId: number | null; type: number | null; shouldReset: boolean }[];
}>("rfc7252-malformed.json");

function msg(partial: Partial<CoapMessage>): CoapMessage {
  return {
    type: MessageType.CON,
    code: Method.GET,
    messageId: 0x1234,
    token: new Uint8Array(0),
    options: [],
    payload: new Uint8Array(0),
    ...partial,
  };
}

describe("RFC 7252 / RFC 7641 example messages", () => {
  it("has the vectors", () => assert.equal(messages.vectors.length, 9));
  for (const v of messages.vectors) {
    it(`encodes ${v.name}`, () => {
      assert.equal(toHex(encodeMessage(messageFromJson(v.message))), v.hex);
    });
    it(`decodes ${v.name}`, () => {
      assert.deepEqual(decodeMessage(hex(v.hex)), messageFromJson(v.message));
    });
  }

  it("Figure 16 sizes: request 16 bytes, response 11 bytes", () => {
    assert.equal(hex(messages.vectors[0]!.hex).length, 16);
    assert.equal(hex(messages.vectors[1]!.hex).length, 11);
  });

  it("the Figure 17 request reads back as GET /temperature with token 0x20", () => {
    const m = decodeMessage(hex("41017d3520bb74656d7065726174757265"));
    assert.equal(m.type, MessageType.CON);
    assert.equal(m.code, Method.GET);
    assert.equal(m.messageId, 0x7d35);
    assert.deepEqual(m.token, Uint8Array.of(0x20));
    assert.equal(new TextDecoder().decode(m.options[0]!.value), "temperature");
  });
});

describe("option delta and length extensions (RFC 7252 §3.1)", () => {
  // [option number, first byte, extension bytes] for a zero-length value
  const deltas: [number, string][] = [
    [0, "00"],
    [12, "c0"],
    [13, "d000"],
    [14, "d001"],
    [268, "d0ff"],
    [269, "e00000"],
    [270, "e00001"],
    [65535, "e0fef2"],
  ];
  for (const [number, wire] of deltas) {
    it(`option number ${number} (delta from 0) → ${wire}`, () => {
      const m = msg({ options: [{ number, value: new Uint8Array(0) }] });
      const bytes = encodeMessage(m);
      assert.equal(toHex(bytes), `40011234${wire}`);
      assert.deepEqual(decodeMessage(bytes), m);
    });
  }

  // [value length, first byte + extension bytes] for option 1 (delta 1)
  const lengths: [number, string][] = [
    [12, "1c"],
    [13, "1d00"],
    [268, "1dff"],
    [269, "1e0000"],
    [65804, "1effff"],
  ];
  for (const [length, wire] of lengths) {
    it(`value length ${length} → ${wire}`, () => {
      const value = new Uint8Array(length).map((_, i) => i & 0xff);
      const m = msg({ options: [{ number: 1, value }] });
      const bytes = encodeMessage(m);
      assert.equal(bytes.length, 4 + wire.length / 2 + length);
      assert.equal(toHex(bytes.subarray(0, 4 + wire.length / 2)), `40011234${wire}`);
      assert.deepEqual(decodeMessage(bytes), m);
    });
  }

  it("deltas are relative: options 11, 11, 60 (1 byte), 300 → b0, 00, d1 24 + value, d0 e3", () => {
    // 11-0 = 11; 11-11 = 0; 60-11 = 49 = 13+36; 300-60 = 240 = 13+227
    const empty = new Uint8Array(0);
    const m = msg({
      options: [
        { number: 11, value: empty },
        { number: 11, value: empty },
        { number: 60, value: Uint8Array.of(0x24) },
        { number: 300, value: empty },
      ],
    });
    assert.equal(toHex(encodeMessage(m)), "40011234" + "b0" + "00" + "d124" + "24" + "d0e3");
    assert.deepEqual(decodeMessage(encodeMessage(m)), m);
  });

  it("delta and length both extended in one option header: number 300, length 300 → ee 00 1f 00 1f", () => {
    const value = new Uint8Array(300);
    const bytes = encodeMessage(msg({ options: [{ number: 300, value }] }));
    assert.equal(toHex(bytes.subarray(0, 9)), "40011234ee001f001f");
  });

  it("rejects an option number past 65535 and a value longer than 65804 bytes", () => {
    assert.throws(() => encodeMessage(msg({ options: [{ number: 65536, value: new Uint8Array(0) }] })), RangeError);
    assert.throws(() => encodeMessage(msg({ options: [{ number: -1, value: new Uint8Array(0) }] })), RangeError);
    assert.throws(() => encodeMessage(msg({ options: [{ number: 1, value: new Uint8Array(65805) }] })), RangeError);
  });
});

describe("encodeMessage", () => {
  it("sorts options stably by number, keeping repeated options in order", () => {
    const a = utf8("a");
    const b = utf8("b");
    const c = utf8("c");
    const m = msg({
      options: [
        { number: 15, value: c },
        { number: 11, value: a },
        { number: 11, value: b },
      ],
    });
    // Uri-Path "a", Uri-Path "b", Uri-Query "c": b1 61, 01 62, 41 63
    assert.equal(toHex(encodeMessage(m)), "40011234" + "b161" + "0162" + "4163");
    assert.deepEqual(
      decodeMessage(encodeMessage(m)).options.map((o) => [o.number, toHex(o.value)]),
      [
        [11, "61"],
        [11, "62"],
        [15, "63"],
      ],
    );
    // the input is not reordered in place
    assert.equal(m.options[0]!.number, 15);
  });

  it("writes no payload marker for an empty payload", () => {
    assert.equal(toHex(encodeMessage(msg({ code: Code.Content, type: MessageType.ACK }))), "60451234");
  });

  it("writes every header field: NON, TKL 8, code 5.03, MID 0xffff", () => {
    const m = msg({ type: MessageType.NON, code: Code.ServiceUnavailable, messageId: 0xffff, token: hex("0102030405060708") });
    assert.equal(toHex(encodeMessage(m)), "58a3ffff0102030405060708");
  });

  it("throws RangeError on bad header fields", () => {
    assert.throws(() => encodeMessage(msg({ token: new Uint8Array(9) })), RangeError);
    assert.throws(() => encodeMessage(msg({ type: 4 as MessageType })), RangeError);
    assert.throws(() => encodeMessage(msg({ code: 256 })), RangeError);
    assert.throws(() => encodeMessage(msg({ code: 1.5 })), RangeError);
    assert.throws(() => encodeMessage(msg({ messageId: 65536 })), RangeError);
    assert.throws(() => encodeMessage(msg({ messageId: -1 })), RangeError);
  });

  it("refuses an Empty message with a token, options or payload (RFC 7252 §4.1)", () => {
    assert.throws(() => encodeMessage(msg({ code: 0, token: Uint8Array.of(1) })), RangeError);
    assert.throws(() => encodeMessage(msg({ code: 0, payload: Uint8Array.of(1) })), RangeError);
    assert.throws(() => encodeMessage(msg({ code: 0, options: [{ number: 11, value: new Uint8Array(0) }] })), RangeError);
  });

  it("encodes emptyMessage() as the 4-byte ACK / RST", () => {
    assert.equal(toHex(encodeMessage(emptyMessage(MessageType.ACK, 0x7d34))), "60007d34");
    assert.equal(toHex(encodeMessage(emptyMessage(MessageType.RST, 0x7d34))), "70007d34");
  });
});

describe("round-trip table", () => {
  const table: [string, CoapMessage][] = [
    ["GET with token, path and query", msg({ token: hex("cafe"), options: [{ number: 11, value: utf8("sensors") }, { number: 11, value: utf8("t1") }, { number: 15, value: utf8("unit=c") }] })],
    ["2.05 with Content-Format 50 and JSON body", msg({ type: MessageType.ACK, code: Code.Content, options: [{ number: 12, value: Uint8Array.of(50) }], payload: utf8('{"celsius":21.5}') })],
    ["POST with empty Uri-Path segment and zero-length option values", msg({ code: Method.POST, options: [{ number: 11, value: new Uint8Array(0) }, { number: 60, value: new Uint8Array(0) }] })],
    ["4.02 with binary payload containing 0xff bytes", msg({ type: MessageType.NON, code: Code.BadOption, payload: hex("ffff00ff") })],
    ["Echo (252) and Request-Tag (292): extended deltas after each other", msg({ options: [{ number: 252, value: hex("0102") }, { number: 292, value: hex("aa") }] })],
    ["signalling code 7.02 (decodes, class checks are not the codec's job)", msg({ code: Code.Ping })],
    ["empty RST", emptyMessage(MessageType.RST, 0)],
  ];
  for (const [name, m] of table) {
    it(name, () => {
      const bytes = encodeMessage(m);
      assert.deepEqual(decodeMessage(bytes), m);
      assert.equal(toHex(encodeMessage(decodeMessage(bytes))), toHex(bytes));
    });
  }
});

describe("decoded values are copies", () => {
  it("token, option values and payload survive reuse of the datagram buffer", () => {
    const bytes = hex("61457d3520b474657374ff32322e332043");
    const m = decodeMessage(bytes);
    bytes.fill(0);
    assert.deepEqual(m.token, Uint8Array.of(0x20));
    assert.equal(new TextDecoder().decode(m.options[0]!.value), "test");
    assert.equal(new TextDecoder().decode(m.payload), "22.3 C");
  });

  it("a Node Buffer input decodes to plain Uint8Arrays not sharing its memory", () => {
    const buf = Buffer.from("61457d3520ff41", "hex");
    const m = decodeMessage(buf);
    buf[5] = 0;
    assert.equal(m.payload[0], 0x41);
    assert.equal(Object.getPrototypeOf(m.payload), Uint8Array.prototype);
  });
});

describe("malformed messages (RFC 7252 §3, §3.1, §4.1)", () => {
  it("has the vectors", () => assert.equal(malformed.vectors.length, 26));
  for (const v of malformed.vectors) {
    it(`${v.name} → ${v.code}`, () => {
      let caught: unknown;
      try {
        decodeMessage(hex(v.hex));
      } catch (e) {
        caught = e;
      }
      assert.ok(caught instanceof CoapDecodeError, `expected CoapDecodeError, got ${String(caught)}`);
      assert.equal(caught.code, v.code);
      assert.equal(caught.messageId, v.messageId ?? undefined);
      assert.equal(caught.type, v.type ?? undefined);
      assert.equal(caught.shouldReset, v.shouldReset);
      assert.equal(caught.name, "CoapDecodeError");

      const r = tryDecodeMessage(hex(v.hex));
      assert.equal(r.ok, false);
      if (!r.ok) assert.equal(r.error.code, v.code);
    });
  }

  it("tryDecodeMessage returns the message on success", () => {
    const r = tryDecodeMessage(hex("60007d34"));
    assert.ok(r.ok);
    if (r.ok) assert.equal(r.message.messageId, 0x7d34);
  });
});

describe("decodeHeader", () => {
  it("reads the 4-byte header only", () => {
    assert.deepEqual(decodeHeader(hex("41017d35")), { type: MessageType.CON, code: 1, messageId: 0x7d35, tokenLength: 1 });
    // TKL 15 is reserved but the header is still readable (for a Reset)
    assert.deepEqual(decodeHeader(hex("6f45abcd")), { type: MessageType.ACK, code: 0x45, messageId: 0xabcd, tokenLength: 15 });
  });
  it("is undefined for fewer than 4 bytes or a version other than 1", () => {
    assert.equal(decodeHeader(hex("410170")), undefined);
    assert.equal(decodeHeader(hex("81017d35")), undefined);
  });
});
