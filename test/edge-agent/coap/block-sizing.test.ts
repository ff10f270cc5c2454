// Block sizes chosen from the exact encoded size of a message (RFC 7252 §3.1, RFC 7959 §2.2):
// a 1024-byte block goes out whenever the datagram has room for it, never a block that does not fit.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import fc from "fast-check";
import { ContentFormat, MessageType, OptionNumber, encodeMessage, encodedOptionsSize, getBlock, uintOption, type CoapOption } from "@coaps-edge/shared";
import { Block2Slicer } from "../../../edge-agent/src/coap/block2-slicer.js";
import { DEFAULT_BLOCKWISE } from "../../../edge-agent/src/coap/blockwise.js";

/** CoAP bytes in one DTLS record at libcoap's MTU 1152: minus IPv6+UDP (48) and CCM_8 record overhead (13 + 8 + 8). */
const DTLS_MAX_MESSAGE = 1152 - 48 - 29;

const wire = (token: Uint8Array, options: CoapOption[], payload: Uint8Array) =>
  encodeMessage({ type: MessageType.ACK, code: 0x45, messageId: 1, token, options, payload });

describe("encodedOptionsSize", () => {
  it("is what encodeMessage spends on options, for any option set", () => {
    const option = fc.record({ number: fc.integer({ min: 1, max: 2100 }), value: fc.uint8Array({ maxLength: 300 }) });
    fc.assert(
      fc.property(fc.array(option, { maxLength: 12 }), (options) => {
        const empty = wire(new Uint8Array(0), options, new Uint8Array(0));
        assert.equal(encodedOptionsSize(options), empty.length - 4);
      }),
      { numRuns: 300 },
    );
  });
});

describe("Block2Slicer block size", () => {
  const token = new Uint8Array(8);
  const body = new Uint8Array(64 * 1024).map((_, i) => i & 0xff);
  const options = (): CoapOption[] => [uintOption(OptionNumber.ContentFormat, ContentFormat.octetStream)];

  it("sends 1024-byte blocks in a DTLS record at MTU 1152 (8-byte token), each message fitting", () => {
    const slicer = new Block2Slicer(DEFAULT_BLOCKWISE);
    for (let num = 0; num < 64; num++) {
      const req = { block: num === 0 ? undefined : { num, more: false, szx: 6 }, size2: false, tokenLength: 8, maxMessageSize: DTLS_MAX_MESSAGE };
      const part = num === 0 ? slicer.slice("k", { code: 0x45, options: options(), payload: body }, req, 0) : slicer.fromCache("k", req, 0);
      assert.ok(part, `block ${num}`);
      const block = getBlock({ type: 0, code: 0x45, messageId: 0, token, options: part.options, payload: part.payload }, OptionNumber.Block2);
      assert.deepEqual(block, { num, more: num < 63, szx: 6 });
      assert.deepEqual(part.payload, body.subarray(num * 1024, num * 1024 + 1024));
      assert.ok(wire(token, part.options, part.payload).length <= DTLS_MAX_MESSAGE, `block ${num} fits`);
    }
  });

  it("steps down to 512 exactly when a 1024-byte block would not fit", () => {
    const probe = new Block2Slicer(DEFAULT_BLOCKWISE).slice("p", { code: 0x45, options: options(), payload: body }, { block: undefined, size2: false, tokenLength: 8, maxMessageSize: 4096 }, 0);
    const room = wire(token, probe.options, probe.payload).length - probe.payload.length; // Block2 num 0 is 1 byte; the bound counts 3
    const tight = room + 2 + 1024;
    for (const [max, szx] of [[tight, 6], [tight - 1, 5]] as const) {
      const part = new Block2Slicer(DEFAULT_BLOCKWISE).slice("k", { code: 0x45, options: options(), payload: body }, { block: undefined, size2: false, tokenLength: 8, maxMessageSize: max }, 0);
      assert.equal(getBlock({ type: 0, code: 0, messageId: 0, token, options: part.options, payload: part.payload }, OptionNumber.Block2)?.szx, szx, `max ${max}`);
      assert.ok(wire(token, part.options, part.payload).length <= max);
    }
  });
});
