import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { levelFromVerbosity } from "../../edge-agent/src/cli/logger.js";
import { UsageError, parseBlockArg, parseContentFormatArg, parseOptionArg, parseTokenArg } from "../../edge-agent/src/cli/parse-args.js";

describe("coap-client style arguments", () => {
  it("-b [num,]size", () => {
    assert.deepEqual(parseBlockArg("64"), { num: 0, size: 64 });
    assert.deepEqual(parseBlockArg("3,1024"), { num: 3, size: 1024 });
    for (const bad of ["8", "2048", "x", "1,", ",64"]) assert.throws(() => parseBlockArg(bad), UsageError, bad);
  });

  it("-O num,value with text or 0x hex", () => {
    assert.deepEqual(parseOptionArg("2048,abc"), { number: 2048, value: new TextEncoder().encode("abc") });
    assert.deepEqual(parseOptionArg("2049,0x0aff"), { number: 2049, value: Uint8Array.of(0x0a, 0xff) });
    assert.deepEqual(parseOptionArg("5"), { number: 5, value: new Uint8Array(0) });
    assert.throws(() => parseOptionArg("70000,x"), UsageError);
    assert.throws(() => parseOptionArg("1,0xabc"), UsageError);
  });

  it("-T token of at most 8 bytes", () => {
    assert.deepEqual(parseTokenArg("0xcafe"), Uint8Array.of(0xca, 0xfe));
    assert.equal(parseTokenArg("abcdefgh").length, 8);
    assert.throws(() => parseTokenArg("abcdefghi"), UsageError);
  });

  it("-t / -A content formats by name or number", () => {
    assert.equal(parseContentFormatArg("application/json", "-t"), 50);
    assert.equal(parseContentFormatArg("42", "-t"), 42);
    assert.throws(() => parseContentFormatArg("no/such", "-t"), UsageError);
  });

  it("-v libcoap levels map onto pino levels", () => {
    assert.deepEqual([0, 3, 4, 6, 7, 9].map(levelFromVerbosity), ["fatal", "error", "warn", "info", "debug", "trace"]);
  });
});
