// Property tests of the RFC 8323 codec (fast-check): round trips of arbitrary messages in both
// framings, and decoding arbitrary or mutated bytes — whole or through the frame header —
// fails only with CoapDecodeError.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import fc from "fast-check";
import {
  CoapDecodeError,
  decodeStreamFrameHeader,
  decodeStreamMessage,
  encodeStreamMessage,
  parseSignal,
  type CoapOption,
  type StreamFraming,
  type StreamMessage,
} from "@coaps-edge/shared";

const RUNS = 5_000;

const option: fc.Arbitrary<CoapOption> = fc
  .tuple(fc.oneof(fc.integer({ min: 0, max: 64 }), fc.integer({ min: 0, max: 0xffff })), fc.uint8Array({ maxLength: 20 }))
  .map(([number, value]) => ({ number, value }));

const message: fc.Arbitrary<StreamMessage> = fc
  .tuple(
    fc.integer({ min: 0, max: 255 }),
    fc.uint8Array({ maxLength: 8 }),
    fc.array(option, { maxLength: 6 }).map((os) => [...os].sort((a, b) => a.number - b.number)),
    fc.oneof({ weight: 4, arbitrary: fc.uint8Array({ maxLength: 40 }) }, { weight: 1, arbitrary: fc.uint8Array({ minLength: 250, maxLength: 700 }) }),
  )
  .map(([code, token, options, payload]) => ({ code, token, options, payload }));

const framing = fc.constantFrom<StreamFraming>("tcp", "ws");

function onlyTypedErrors(fn: () => unknown): void {
  try {
    fn();
  } catch (e) {
    if (!(e instanceof CoapDecodeError)) throw e;
  }
}

describe("RFC 8323 codec properties", () => {
  it("encode → decode is the identity (tcp and ws framing)", () => {
    fc.assert(
      fc.property(message, framing, (m, f) => {
        const back = decodeStreamMessage(encodeStreamMessage(m, f), f);
        assert.equal(back.code, m.code);
        assert.deepEqual(Array.from(back.token), Array.from(m.token));
        assert.deepEqual(back.options.map((o) => [o.number, Array.from(o.value)]), m.options.map((o) => [o.number, Array.from(o.value)]));
        assert.deepEqual(Array.from(back.payload), Array.from(m.payload));
      }),
      { numRuns: RUNS },
    );
  });

  it("the frame header of an encoded message gives its exact length", () => {
    fc.assert(
      fc.property(message, (m) => {
        const bytes = encodeStreamMessage(m);
        assert.equal(decodeStreamFrameHeader(bytes)?.frameLength, bytes.length);
      }),
      { numRuns: RUNS },
    );
  });

  it("arbitrary bytes: decode, frame header and signal parsing fail only with CoapDecodeError", () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 64 }), framing, (bytes, f) => {
        onlyTypedErrors(() => decodeStreamFrameHeader(bytes));
        onlyTypedErrors(() => {
          const m = decodeStreamMessage(bytes, f);
          parseSignal(m); // never throws
        });
      }),
      { numRuns: RUNS * 4 },
    );
  });

  it("mutated valid frames fail only with CoapDecodeError", () => {
    fc.assert(
      fc.property(message, fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 4 }), fc.nat(), (m, flips, cut) => {
        const bytes = encodeStreamMessage(m);
        for (const [i, v] of flips) bytes[i % bytes.length] = v;
        onlyTypedErrors(() => parseSignal(decodeStreamMessage(bytes)));
        onlyTypedErrors(() => decodeStreamMessage(bytes.subarray(0, cut % (bytes.length + 1))));
      }),
      { numRuns: RUNS },
    );
  });
});
