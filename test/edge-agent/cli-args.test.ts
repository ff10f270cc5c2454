import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { levelFromVerbosity } from "../../edge-agent/src/cli/logger.js";
import { UsageError, parseBlockArg, parseContentFormatArg, parseOptionArg, parsePskFile, parseTokenArg } from "../../edge-agent/src/cli/parse-args.js";

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

  it("libcoap PSK files (-i / -h): hint,identity,key lines, # comments, the key keeps its commas", () => {
    const text = "# hint,identity,key\r\nCoAP,dev-1,secret\n\n  ,anyhint-dev,k,with,commas  \n";
    assert.deepEqual(parsePskFile(text, "-i f"), [
      { hint: "CoAP", identity: "dev-1", key: "secret" },
      { hint: "", identity: "anyhint-dev", key: "k,with,commas" },
    ]);
    assert.throws(() => parsePskFile("CoAP,dev-1\n", "-i f"), /-i f line 1: expected hint,identity,key/);
    assert.throws(() => parsePskFile("ok,a,b\nCoAP,,key\n", "-h f"), /-h f line 2: identity and key must not be empty/);
    assert.throws(() => parsePskFile("CoAP,dev,", "-h f"), UsageError);
  });
});
