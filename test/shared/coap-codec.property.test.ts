// Property tests of the RFC 7252 §3 codec (fast-check): round trips of arbitrary valid messages,
// and decoding arbitrary or mutated bytes fails only with CoapDecodeError.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import fc from "fast-check";
import { CoapDecodeError, decodeMessage, encodeMessage, type CoapMessage, type CoapOption, type MessageType } from "@coaps-edge/shared";

const RUNS = 20_000;

// Option numbers biased to the registered range, but reaching the 1- and 2-byte delta extensions.
const optionNumber = fc.oneof(
  { weight: 6, arbitrary: fc.integer({ min: 0, max: 64 }) },
  { weight: 2, arbitrary: fc.integer({ min: 0, max: 400 }) },
  { weight: 1, arbitrary: fc.integer({ min: 0, max: 0xffff }) },
);
// Values mostly short, sometimes across the 13 / 269 length boundaries.
const optionValue = fc.oneof(
  { weight: 8, arbitrary: fc.uint8Array({ maxLength: 16 }) },
  { weight: 1, arbitrary: fc.uint8Array({ minLength: 260, maxLength: 300 }) },
);
// fc.record builds null-prototype objects; the decoder returns plain ones (deepStrictEqual checks).
const option: fc.Arbitrary<CoapOption> = fc.tuple(optionNumber, optionValue).map(([number, value]) => ({ number, value }));

const nonEmptyMessage: fc.Arbitrary<CoapMessage> = fc.record({
  type: fc.integer({ min: 0, max: 3 }).map((t) => t as MessageType),
  code: fc.integer({ min: 1, max: 255 }),
  messageId: fc.integer({ min: 0, max: 0xffff }),
  token: fc.uint8Array({ maxLength: 8 }),
  // the wire order: ascending numbers, repeated options in their given order (stable sort)
  options: fc.array(option, { maxLength: 8 }).map((os) => [...os].sort((a, b) => a.number - b.number)),
  payload: fc.uint8Array({ maxLength: 64 }),
}).map((m) => ({ ...m }));
const emptyMessage: fc.Arbitrary<CoapMessage> = fc.record({
  type: fc.integer({ min: 0, max: 3 }).map((t) => t as MessageType),
  code: fc.constant(0),
  messageId: fc.integer({ min: 0, max: 0xffff }),
  token: fc.constant(new Uint8Array(0)),
  options: fc.constant([]),
  payload: fc.constant(new Uint8Array(0)),
}).map((m) => ({ ...m }));
const validMessage = fc.oneof({ weight: 9, arbitrary: nonEmptyMessage }, { weight: 1, arbitrary: emptyMessage });

/** decodeMessage, asserting that any failure is a CoapDecodeError; the message or undefined. */
function decodeOrTypedError(bytes: Uint8Array): CoapMessage | undefined {
  try {
    return decodeMessage(bytes);
  } catch (e) {
    if (!(e instanceof CoapDecodeError)) throw new Error(`non-CoapDecodeError thrown: ${String(e)}`);
    return undefined;
  }
}

describe("codec properties", () => {
  it(`decode(encode(m)) deep-equals m (${RUNS} runs)`, () => {
    fc.assert(
      fc.property(validMessage, (m) => {
        assert.deepStrictEqual(decodeMessage(encodeMessage(m)), m);
      }),
      { numRuns: RUNS },
    );
  });

  it(`arbitrary bytes decode or throw only CoapDecodeError; what decodes re-encodes to the same bytes (${RUNS} runs)`, () => {
    // Half the inputs start with a version-1 byte so the option parser is reached often.
    const bytes = fc.oneof(
      fc.uint8Array({ maxLength: 48 }),
      fc
        .tuple(fc.integer({ min: 0x40, max: 0x7f }), fc.integer({ min: 1, max: 255 }), fc.uint8Array({ minLength: 2, maxLength: 48 }))
        .map(([b0, code, rest]) => Uint8Array.of(b0 & 0xf8 /* TKL 0..7 */, code, ...rest)),
    );
    let decoded = 0;
    fc.assert(
      fc.property(bytes, (b) => {
        const m = decodeOrTypedError(b);
        if (m !== undefined) {
          decoded++;
          // the wire form is canonical: every decodable datagram has exactly one encoding
          assert.deepStrictEqual(encodeMessage(m), Uint8Array.from(b));
        }
      }),
      { numRuns: RUNS },
    );
    assert.ok(decoded > RUNS / 25, `only ${decoded} inputs decoded: the generator misses the option parser`);
  });

  it(`mutated and truncated valid messages decode or throw only CoapDecodeError (${RUNS} runs)`, () => {
    const mutated = fc
      .tuple(nonEmptyMessage, fc.nat(), fc.nat(), fc.integer({ min: 0, max: 255 }))
      .map(([m, cut, at, byte]) => {
        const b = encodeMessage(m);
        const out = b.slice(0, b.length - (cut % Math.max(1, b.length)));
        if (out.length > 0) out[at % out.length] = byte;
        return out;
      });
    fc.assert(
      fc.property(mutated, (b) => {
        decodeOrTypedError(b);
      }),
      { numRuns: RUNS },
    );
  });
});
