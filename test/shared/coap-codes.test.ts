// CoAP codes (RFC 7252 §5.8, §5.9, §12.1 and extensions) and Content-Formats (RFC 7252 §12.3).
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  Code,
  ContentFormat,
  Method,
  codeClass,
  codeDetail,
  codeName,
  codeToString,
  contentFormatFromName,
  contentFormatName,
  isEmptyCode,
  isRequestCode,
  isResponseCode,
  isSignalingCode,
  isSuccessCode,
  methodFromName,
  methodName,
  parseCode,
} from "@coaps-edge/shared";

// "c.dd" of every named code, from the RFC registries (RFC 7252 §12.1.1/§12.1.2, RFC 7959 §2.9,
// RFC 8132 §4/§5, RFC 8516 §4, RFC 8768 §4, RFC 8323 §11.1).
const REGISTRY: [keyof typeof Code, string][] = [
  ["Empty", "0.00"],
  ["Created", "2.01"],
  ["Deleted", "2.02"],
  ["Valid", "2.03"],
  ["Changed", "2.04"],
  ["Content", "2.05"],
  ["Continue", "2.31"],
  ["BadRequest", "4.00"],
  ["Unauthorized", "4.01"],
  ["BadOption", "4.02"],
  ["Forbidden", "4.03"],
  ["NotFound", "4.04"],
  ["MethodNotAllowed", "4.05"],
  ["NotAcceptable", "4.06"],
  ["RequestEntityIncomplete", "4.08"],
  ["Conflict", "4.09"],
  ["PreconditionFailed", "4.12"],
  ["RequestEntityTooLarge", "4.13"],
  ["UnsupportedContentFormat", "4.15"],
  ["UnprocessableEntity", "4.22"],
  ["TooManyRequests", "4.29"],
  ["InternalServerError", "5.00"],
  ["NotImplemented", "5.01"],
  ["BadGateway", "5.02"],
  ["ServiceUnavailable", "5.03"],
  ["GatewayTimeout", "5.04"],
  ["ProxyingNotSupported", "5.05"],
  ["HopLimitReached", "5.08"],
  ["CSM", "7.01"],
  ["Ping", "7.02"],
  ["Pong", "7.03"],
  ["Release", "7.04"],
  ["Abort", "7.05"],
];

describe("codes", () => {
  it("covers every code of the registry table", () => assert.equal(Object.keys(Code).length, REGISTRY.length));
  for (const [name, text] of REGISTRY) {
    it(`${name} = ${text}`, () => {
      assert.equal(codeToString(Code[name]), text);
      assert.equal(parseCode(text), Code[name]);
      assert.equal(codeName(Code[name]), name);
    });
  }
  it("spot values from the API", () => {
    assert.equal(Code.Content, 0x45);
    assert.equal(Code.Continue, 0x5f);
    assert.equal(Code.RequestEntityTooLarge, 0x8d);
    assert.equal(Code.HopLimitReached, 0xa8);
  });
  it("methods (RFC 7252 §12.1.1, RFC 8132)", () => {
    const methods: [string, number, string][] = [
      ["GET", 1, "0.01"],
      ["POST", 2, "0.02"],
      ["PUT", 3, "0.03"],
      ["DELETE", 4, "0.04"],
      ["FETCH", 5, "0.05"],
      ["PATCH", 6, "0.06"],
      ["iPATCH", 7, "0.07"],
    ];
    for (const [name, code, text] of methods) {
      assert.equal(Method[name as keyof typeof Method], code);
      assert.equal(codeToString(code), text);
      assert.equal(methodName(code), name);
      assert.equal(methodFromName(name), code);
      assert.equal(methodFromName(name.toLowerCase()), code);
    }
    assert.equal(methodName(8), undefined);
    assert.equal(methodName(0x45), undefined);
    assert.equal(methodFromName("OPTIONS"), undefined);
  });
  it("class and detail", () => {
    assert.equal(codeClass(0xa4), 5);
    assert.equal(codeDetail(0xa4), 4);
    assert.equal(codeToString(0xff), "7.31");
    assert.equal(parseCode("7.31"), 0xff);
  });
  it("predicates", () => {
    assert.ok(isEmptyCode(0) && !isEmptyCode(1));
    assert.ok(isRequestCode(1) && isRequestCode(31) && !isRequestCode(0) && !isRequestCode(0x41));
    assert.ok(isResponseCode(0x41) && isResponseCode(0x84) && isResponseCode(0xa0));
    assert.ok(!isResponseCode(0x20) /* 1.00 reserved */ && !isResponseCode(0xc0) /* 6.00 */ && !isResponseCode(Code.Ping));
    assert.ok(isSuccessCode(Code.Continue) && !isSuccessCode(Code.NotFound));
    assert.ok(isSignalingCode(Code.CSM) && !isSignalingCode(Code.Content));
  });
  it("parseCode throws RangeError on bad text", () => {
    for (const bad of ["2.5", "205", "8.00", "2.32", "2.050", " 2.05", "a.bc", ""]) {
      assert.throws(() => parseCode(bad), RangeError, bad);
    }
  });
});

describe("content formats (IANA CoAP Content-Formats)", () => {
  const rows: [keyof typeof ContentFormat, number, string][] = [
    ["text", 0, "text/plain;charset=utf-8"],
    ["linkFormat", 40, "application/link-format"],
    ["xml", 41, "application/xml"],
    ["octetStream", 42, "application/octet-stream"],
    ["exi", 47, "application/exi"],
    ["json", 50, "application/json"],
    ["jsonPatch", 51, "application/json-patch+json"],
    ["mergePatch", 52, "application/merge-patch+json"],
    ["cbor", 60, "application/cbor"],
    ["cwt", 61, "application/cwt"],
    ["senmlJson", 110, "application/senml+json"],
    ["sensmlJson", 111, "application/sensml+json"],
    ["senmlCbor", 112, "application/senml+cbor"],
  ];
  for (const [key, n, type] of rows) {
    it(`${key} = ${n} (${type})`, () => {
      assert.equal(ContentFormat[key], n);
      assert.equal(contentFormatName(n), type);
      assert.equal(contentFormatFromName(type), n);
      assert.equal(contentFormatFromName(key), n);
      assert.equal(contentFormatFromName(String(n)), n);
    });
  }
  it("every named format has a media type that maps back to it", () => {
    for (const n of Object.values(ContentFormat)) {
      const type = contentFormatName(n);
      assert.ok(type, `media type for ${n}`);
      assert.equal(contentFormatFromName(type), n);
    }
  });
  it("accepts coap-client style names, any case, and blanks in parameters", () => {
    assert.equal(contentFormatFromName("text"), 0);
    assert.equal(contentFormatFromName("text/plain"), 0);
    assert.equal(contentFormatFromName("text/plain; charset=utf-8"), 0);
    assert.equal(contentFormatFromName("link"), 40);
    assert.equal(contentFormatFromName("binary"), 42);
    assert.equal(contentFormatFromName("octet-stream"), 42);
    assert.equal(contentFormatFromName("JSON"), 50);
    assert.equal(contentFormatFromName("Application/CBOR"), 60);
    assert.equal(contentFormatFromName('application/cose; cose-type="cose-sign1"'), 18);
  });
  it("numbers are taken as-is within 16 bits; unknown names are undefined", () => {
    assert.equal(contentFormatFromName("65000"), 65000);
    assert.equal(contentFormatFromName("65536"), undefined);
    assert.equal(contentFormatFromName("application/x-unknown"), undefined);
    assert.equal(contentFormatFromName("-1"), undefined);
    assert.equal(contentFormatName(65000), undefined);
  });
});
