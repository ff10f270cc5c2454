// RFC 8323 §3.2 / §4.2 framing and §5 signalling: captured libcoap frames, the length
// extension boundaries of Figures 5–7, WebSocket framing, and typed decode errors.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { describe, it } from "node:test";
import {
  BERT_SZX,
  CoapDecodeError,
  DEFAULT_MAX_MESSAGE_SIZE,
  SignalCode,
  abortMessage,
  bertBlockOption,
  csmMessage,
  decodeBlockAllowingBert,
  decodeStreamFrameHeader,
  decodeStreamMessage,
  encodeStreamMessage,
  parseSignal,
  pingMessage,
  pongMessage,
  releaseMessage,
  tryDecodeStreamMessage,
  type StreamMessage,
} from "@coaps-edge/shared";

const hex = (s: string): Uint8Array => Uint8Array.from(Buffer.from(s, "hex"));
const toHex = (b: Uint8Array): string => Buffer.from(b).toString("hex");

interface Vector {
  name: string;
  hex: string;
  code: number;
  token: string;
  options: { number: number; value: string }[];
  payload: string;
}
const file = JSON.parse(readFileSync(new URL("../vectors/coap-tcp/libcoap-4.3.1-frames.json", import.meta.url), "utf8")) as { vectors: Vector[] };

describe("RFC 8323 framing: libcoap 4.3.1 frames", () => {
  let ran = 0;
  for (const v of file.vectors) {
    it(`${v.name}: decodes, and encodes back to the same bytes`, () => {
      const m = decodeStreamMessage(hex(v.hex));
      assert.equal(m.code, v.code);
      assert.equal(toHex(m.token), v.token);
      assert.deepEqual(m.options.map((o) => ({ number: o.number, value: toHex(o.value) })), v.options);
      assert.equal(toHex(m.payload), v.payload);
      assert.equal(toHex(encodeStreamMessage(m)), v.hex);
      ran++;
    });
  }
  it("ran every vector", () => assert.equal(ran, file.vectors.length));
});

describe("RFC 8323 §3.2 length field", () => {
  // Figure 4–7: Len 0..12 literal; 13 → 8-bit ext − 13; 14 → 16-bit ext − 269; 15 → 32-bit ext − 65805.
  const cases: Array<[bodyLength: number, header: string]> = [
    [0, "01"], // Len 0, TKL 1
    [12, "c1"],
    [13, "d100"],
    [268, "d1ff"],
    [269, "e10000"],
    [65804, "e1ffff"],
    [65805, "f100000000"],
    [65805 + 0x01020304, "f101020304"],
  ];
  for (const [n, header] of cases) {
    it(`options + payload of ${n} bytes → header ${header}`, () => {
      // a payload of n-1 bytes plus the marker = n bytes after the token; n = 0 → nothing
      const payload = new Uint8Array(Math.max(0, n - 1)).fill(0x61);
      const msg: StreamMessage = { code: 0x45, token: Uint8Array.of(0x7a), options: [], payload };
      const h = decodeStreamFrameHeader(hex(header + "45"));
      assert.ok(h);
      assert.equal(h.bodyLength, n);
      assert.equal(h.frameLength, header.length / 2 + 1 + 1 + n);
      if (n > 70_000) return; // the 16 MiB case checks the header arithmetic only
      const bytes = encodeStreamMessage(msg);
      assert.equal(toHex(bytes.subarray(0, header.length / 2)), header);
      assert.equal(bytes[header.length / 2], 0x45);
      assert.equal(bytes.length, h.frameLength);
      assert.deepEqual(decodeStreamMessage(bytes).payload.length, payload.length);
    });
  }

  it("frame header: undefined until the whole header is in; TKL 9..15 is a typed error", () => {
    assert.equal(decodeStreamFrameHeader(new Uint8Array(0)), undefined);
    assert.equal(decodeStreamFrameHeader(hex("e1")), undefined);
    assert.equal(decodeStreamFrameHeader(hex("e100")), undefined);
    assert.ok(decodeStreamFrameHeader(hex("e1000045")));
    assert.throws(() => decodeStreamFrameHeader(hex("09")), (e: unknown) => e instanceof CoapDecodeError && e.code === "bad-token-length");
  });
});

describe("RFC 8323 §4.2 WebSocket framing", () => {
  it("Len is 0 and the message length comes from the WebSocket frame", () => {
    const msg: StreamMessage = { code: 0x01, token: hex("0102"), options: [{ number: 11, value: hex("6869") }], payload: hex("aa".repeat(40)) };
    const ws = encodeStreamMessage(msg, "ws");
    assert.equal(ws[0], 0x02); // Len 0, TKL 2
    assert.equal(ws[1], 0x01);
    const back = decodeStreamMessage(ws, "ws");
    assert.deepEqual(toHex(back.payload), "aa".repeat(40));
    assert.equal(back.options[0]?.number, 11);
  });
  it("a WebSocket message with Len ≠ 0 is bad-length", () => {
    const tcp = encodeStreamMessage({ code: 1, token: new Uint8Array(0), options: [], payload: hex("ff") });
    assert.throws(() => decodeStreamMessage(tcp, "ws"), (e: unknown) => e instanceof CoapDecodeError && e.code === "bad-length");
  });
});

describe("decode errors are typed", () => {
  const bad: Array<[string, string, string]> = [
    ["empty input", "", "truncated"],
    ["truncated token", "0245aa", "truncated"],
    ["truncated body", "3045ff", "truncated"],
    ["trailing bytes after Len", "1045ffaa", "bad-length"],
    ["payload marker without payload", "1045ff", "empty-payload-after-marker"],
    ["reserved option nibble", "1045f1", "reserved-nibble"],
    ["TKL 9", "0945", "bad-token-length"],
  ];
  for (const [what, bytes, code] of bad) {
    it(`${what} → ${code}`, () => {
      const r = tryDecodeStreamMessage(hex(bytes));
      assert.equal(r.ok, false);
      if (!r.ok) {
        assert.equal(r.error.code, code);
        assert.equal(r.error.messageId, undefined); // no Message ID over TCP
      }
    });
  }
});

describe("RFC 8323 §5 signalling", () => {
  it("CSM: libcoap's bytes, and ours parse back", () => {
    const libcoap = parseSignal(decodeStreamMessage(hex("50e12380010020")));
    assert.deepEqual(libcoap, { kind: "csm", maxMessageSize: 8388864, blockWiseTransfer: true });
    const ours = csmMessage({ maxMessageSize: 1152, blockWiseTransfer: true });
    assert.deepEqual(parseSignal(decodeStreamMessage(encodeStreamMessage(ours))), { kind: "csm", maxMessageSize: 1152, blockWiseTransfer: true });
    assert.deepEqual(parseSignal(csmMessage({})), { kind: "csm", maxMessageSize: undefined, blockWiseTransfer: false });
    assert.equal(DEFAULT_MAX_MESSAGE_SIZE, 1152);
  });
  it("CSM: exact bytes for Max-Message-Size 1152 + Block-Wise-Transfer", () => {
    // Len 4 (0x22 0x04 0x80, 0x20), TKL 0; code 7.01; option 2 uint 0x0480; option 4 empty
    assert.equal(toHex(encodeStreamMessage(csmMessage({ maxMessageSize: 1152, blockWiseTransfer: true }))), "40e122048020");
  });
  it("an unknown critical CSM option is invalid (→ Abort with Bad-CSM-Option); an elective one is ignored", () => {
    const crit = { code: SignalCode.CSM, token: new Uint8Array(0), options: [{ number: 9, value: new Uint8Array(0) }], payload: new Uint8Array(0) };
    const r = parseSignal(crit);
    assert.equal(r.kind, "invalid");
    assert.equal(r.kind === "invalid" && r.option, 9);
    const elective = { ...crit, options: [{ number: 10, value: new Uint8Array(0) }] };
    assert.equal(parseSignal(elective).kind, "csm");
    const longMms = { ...crit, options: [{ number: 2, value: new Uint8Array(5) }] };
    assert.equal(parseSignal(longMms).kind, "invalid");
  });
  it("Ping/Pong keep the token and Custody", () => {
    const ping = pingMessage(hex("0a0b"), true);
    assert.equal(ping.code, 0xe2);
    assert.deepEqual(parseSignal(ping), { kind: "ping", custody: true });
    const pong = pongMessage(ping.token);
    assert.equal(toHex(decodeStreamMessage(encodeStreamMessage(pong)).token), "0a0b");
    assert.deepEqual(parseSignal(pong), { kind: "pong", custody: false });
  });
  it("Release with Alternative-Address and Hold-Off; Abort with Bad-CSM-Option and diagnostic", () => {
    const rel = decodeStreamMessage(encodeStreamMessage(releaseMessage({ alternativeAddresses: ["coap+tcp://[::1]:5683"], holdOffSeconds: 30, diagnostic: "bye" })));
    assert.deepEqual(parseSignal(rel), { kind: "release", alternativeAddresses: ["coap+tcp://[::1]:5683"], holdOffSeconds: 30, diagnostic: "bye" });
    const ab = decodeStreamMessage(encodeStreamMessage(abortMessage({ badCsmOption: 9, diagnostic: "no" })));
    assert.deepEqual(parseSignal(ab), { kind: "abort", badCsmOption: 9, diagnostic: "no" });
    assert.deepEqual(parseSignal({ code: 0xe7, token: new Uint8Array(0), options: [], payload: new Uint8Array(0) }), { kind: "unknown", code: 0xe7 });
  });
});

describe("RFC 8323 §6 BERT option values", () => {
  it("SZX 7 reads and writes as BERT", () => {
    const o = bertBlockOption(27, { num: 8, more: true, szx: BERT_SZX });
    assert.equal(toHex(o.value), "8f");
    assert.deepEqual(decodeBlockAllowingBert(o.value), { num: 8, more: true, szx: 7 });
    assert.throws(() => bertBlockOption(27, { num: 1 << 20, more: false, szx: 7 }), RangeError);
  });
});
