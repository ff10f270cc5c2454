// CoAP options: the registry against RFC tables, number-encoded properties, uint values,
// message readers/writers, Uri-Path/Uri-Query from RFC 7252 Appendix B, unrecognized critical options.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  CoapDecodeError,
  MessageType,
  Method,
  OptionNumber,
  decodeMessage,
  decodeUint,
  emptyOption,
  encodeMessage,
  encodeUint,
  getOption,
  getOptions,
  getStringOption,
  getUintOption,
  getUriPath,
  getUriQuery,
  isCritical,
  isNoCacheKey,
  isUnsafe,
  opaqueOption,
  optionInfo,
  optionName,
  registeredOptions,
  stringOption,
  uintOption,
  unknownCriticalOptions,
  uriPathOptions,
  uriQueryOptions,
  withOptions,
  withoutOption,
  type CoapMessage,
  type CoapOption,
} from "@coaps-edge/shared";
import { hex, loadVectors, toHex } from "./coap-vectors.js";

interface OptionRow {
  number: number;
  name: string;
  critical: boolean;
  unsafe: boolean;
  noCacheKey: boolean;
  repeatable: boolean;
  format: string;
  min: number;
  max: number;
}
const table = loadVectors<{ options: OptionRow[] }>("rfc7252-option-properties.json").options;

function request(options: CoapOption[]): CoapMessage {
  return { type: MessageType.CON, code: Method.GET, messageId: 1, token: new Uint8Array(0), options, payload: new Uint8Array(0) };
}

describe("option registry", () => {
  it("lists every registered option of the table and nothing else", () => {
    assert.equal(table.length, 27);
    assert.deepEqual(
      registeredOptions().map((o) => o.number),
      table.map((r) => r.number),
    );
  });
  for (const row of table) {
    it(`${row.number} ${row.name}`, () => {
      const i = optionInfo(row.number);
      assert.ok(i);
      assert.deepEqual(
        { name: i.name, format: i.format, min: i.minLength, max: i.maxLength, repeatable: i.repeatable },
        { name: row.name, format: row.format, min: row.min, max: row.max, repeatable: row.repeatable },
      );
      assert.equal(isCritical(row.number), row.critical, "critical");
      assert.equal(isUnsafe(row.number), row.unsafe, "unsafe");
      // NoCacheKey only has meaning for safe-to-forward options (RFC 7252 §5.4.6)
      if (!row.unsafe) assert.equal(isNoCacheKey(row.number), row.noCacheKey, "noCacheKey");
      assert.equal(optionName(row.number), row.name);
    });
  }
  it("OptionNumber names the registered numbers", () => {
    assert.equal(OptionNumber.UriPath, 11);
    assert.equal(OptionNumber.Block2, 23);
    assert.equal(OptionNumber.NoResponse, 258);
    assert.equal(Object.keys(OptionNumber).length, table.length);
    for (const n of Object.values(OptionNumber)) assert.ok(optionInfo(n), `OptionNumber ${n} in the registry`);
  });
  it("unregistered numbers have no info", () => {
    assert.equal(optionInfo(0), undefined);
    assert.equal(optionInfo(2), undefined);
    assert.equal(optionInfo(65000), undefined);
    assert.equal(optionName(2), "Option-2");
  });
});

describe("uint option values (RFC 7252 §3.2)", () => {
  const vectors: [number, string][] = [
    [0, ""],
    [1, "01"],
    [255, "ff"],
    [256, "0100"],
    [65535, "ffff"],
    [65536, "010000"],
    [0xffffff, "ffffff"],
    [0x1000000, "01000000"],
    [0xffffffff, "ffffffff"],
  ];
  for (const [n, h] of vectors) {
    it(`${n} ↔ "${h}"`, () => {
      assert.equal(toHex(encodeUint(n)), h);
      assert.equal(decodeUint(hex(h)), n);
    });
  }
  it("tolerates leading zero bytes when decoding", () => {
    assert.equal(decodeUint(hex("0000")), 0);
    assert.equal(decodeUint(hex("000400")), 1024);
  });
  it("rejects values that are negative, fractional or past 2^32-1", () => {
    assert.throws(() => encodeUint(-1), RangeError);
    assert.throws(() => encodeUint(1.5), RangeError);
    assert.throws(() => encodeUint(2 ** 32), RangeError);
  });
  it("decodeUint throws CoapDecodeError bad-option-length past 4 bytes", () => {
    assert.throws(() => decodeUint(hex("0100000000")), (e: unknown) => e instanceof CoapDecodeError && e.code === "bad-option-length");
  });
});

describe("option builders and readers", () => {
  const m = request([
    uintOption(OptionNumber.ContentFormat, 50),
    stringOption(OptionNumber.UriPath, "sensors"),
    stringOption(OptionNumber.UriPath, "tëmp"),
    emptyOption(OptionNumber.IfNoneMatch),
    opaqueOption(OptionNumber.ETag, hex("a1b2")),
    stringOption(OptionNumber.UriQuery, "unit=c"),
  ]);

  it("builds the wire values", () => {
    assert.equal(toHex(getOption(m, OptionNumber.ContentFormat)!.value), "32");
    assert.equal(toHex(getOptions(m, OptionNumber.UriPath)[1]!.value), "74c3ab6d70");
    assert.equal(getOption(m, OptionNumber.IfNoneMatch)!.value.length, 0);
  });
  it("reads them back", () => {
    assert.equal(getUintOption(m, OptionNumber.ContentFormat), 50);
    assert.equal(getUintOption(m, OptionNumber.Accept), undefined);
    assert.equal(getStringOption(m, OptionNumber.UriPath), "sensors");
    assert.equal(getStringOption(m, OptionNumber.UriHost), undefined);
    assert.deepEqual(getUriPath(m), ["sensors", "tëmp"]);
    assert.deepEqual(getUriQuery(m), ["unit=c"]);
    assert.equal(getOptions(m, OptionNumber.UriPath).length, 2);
  });
  it("survives the codec", () => {
    const d = decodeMessage(encodeMessage(m));
    assert.deepEqual(getUriPath(d), ["sensors", "tëmp"]);
    assert.equal(getUintOption(d, OptionNumber.ContentFormat), 50);
  });
  it("getUintOption ignores a value longer than 4 bytes (RFC 7252 §5.4.3)", () => {
    assert.equal(getUintOption(request([{ number: OptionNumber.Size2, value: new Uint8Array(5) }]), OptionNumber.Size2), undefined);
  });
  it("opaqueOption copies its input", () => {
    const b = hex("01");
    const o = opaqueOption(OptionNumber.ETag, b);
    b[0] = 9;
    assert.equal(o.value[0], 1);
  });
  it("withOptions / withoutOption return new messages", () => {
    const a = withOptions(m, uintOption(OptionNumber.Accept, 60));
    assert.equal(getUintOption(a, OptionNumber.Accept), 60);
    assert.equal(getUintOption(m, OptionNumber.Accept), undefined);
    const b = withoutOption(m, OptionNumber.UriPath);
    assert.deepEqual(getUriPath(b), []);
    assert.deepEqual(getUriPath(m), ["sensors", "tëmp"]);
  });
});

describe("Uri-Path / Uri-Query options (RFC 7252 §6.4, Appendix B)", () => {
  const texts = (os: CoapOption[]): string[] => os.map((o) => new TextDecoder().decode(o.value));
  it("coap://example.net/.well-known/core → Uri-Path \".well-known\", \"core\"", () => {
    const os = uriPathOptions("/.well-known/core");
    assert.deepEqual(texts(os), [".well-known", "core"]);
    assert.ok(os.every((o) => o.number === OptionNumber.UriPath));
  });
  it("coap://xn--18j4d.example/%E3%81%93%E3%82%93%E3%81%AB%E3%81%A1%E3%81%AF → one UTF-8 Uri-Path", () => {
    const os = uriPathOptions("/%E3%81%93%E3%82%93%E3%81%AB%E3%81%A1%E3%81%AF");
    assert.deepEqual(texts(os), ["こんにちは"]);
    assert.equal(toHex(os[0]!.value), "e38193e38293e381abe381a1e381af");
  });
  it("coap://198.51.100.1:61616//%2F//?%2F%2F&?%26 → Uri-Path \"\", \"/\", \"\", \"\" and Uri-Query \"//\", \"?&\"", () => {
    assert.deepEqual(texts(uriPathOptions("//%2F//")), ["", "/", "", ""]);
    const q = uriQueryOptions("?%2F%2F&?%26");
    assert.deepEqual(texts(q), ["//", "?&"]);
    assert.ok(q.every((o) => o.number === OptionNumber.UriQuery));
  });
  it("the root path has no Uri-Path option (RFC 7252 §6.4 step 8)", () => {
    assert.deepEqual(uriPathOptions("/"), []);
    assert.deepEqual(uriPathOptions(""), []);
    assert.deepEqual(uriQueryOptions(""), []);
  });
  it("a relative path and a plain query", () => {
    assert.deepEqual(texts(uriPathOptions("a/b")), ["a", "b"]);
    assert.deepEqual(texts(uriQueryOptions("a=1&b")), ["a=1", "b"]);
  });
});

describe("unknownCriticalOptions (RFC 7252 §5.4.1, §5.4.3, §5.4.5)", () => {
  it("is empty for registered options within their bounds", () => {
    assert.deepEqual(unknownCriticalOptions(request([stringOption(11, "a"), uintOption(23, 2), { number: 2, value: new Uint8Array(0) }])), []);
  });
  it("lists unregistered critical numbers once each, ascending, ignoring elective ones", () => {
    const m = request([
      { number: 2049 + 2, value: new Uint8Array(0) }, // 2051, odd: critical, unregistered
      { number: 9, value: new Uint8Array(0) }, // OSCORE: registered
      { number: 13, value: new Uint8Array(0) },
      { number: 13, value: new Uint8Array(0) },
      { number: 2, value: new Uint8Array(0) }, // elective: ignored
    ]);
    assert.deepEqual(unknownCriticalOptions(m), [13, 2051]);
  });
  it("treats a critical option with a value length out of range as unrecognized", () => {
    assert.deepEqual(unknownCriticalOptions(request([{ number: OptionNumber.UriHost, value: new Uint8Array(0) }])), [3]);
    assert.deepEqual(unknownCriticalOptions(request([{ number: OptionNumber.Block2, value: new Uint8Array(4) }])), [23]);
    assert.deepEqual(unknownCriticalOptions(request([{ number: OptionNumber.IfNoneMatch, value: Uint8Array.of(1) }])), [5]);
    // elective with a bad length: ignored, not reported
    assert.deepEqual(unknownCriticalOptions(request([{ number: OptionNumber.ContentFormat, value: new Uint8Array(3) }])), []);
  });
  it("treats a repeated non-repeatable critical option as unrecognized", () => {
    assert.deepEqual(unknownCriticalOptions(request([uintOption(OptionNumber.Accept, 0), uintOption(OptionNumber.Accept, 50)])), [17]);
    assert.deepEqual(unknownCriticalOptions(request([stringOption(11, "a"), stringOption(11, "b")])), []);
  });
  it("decoded bytes: an unknown critical option 0xd0 0x00 (number 13) is reported", () => {
    const m = decodeMessage(hex("40011234d000"));
    assert.deepEqual(unknownCriticalOptions(m), [13]);
    assert.deepEqual(getUriPath(m), []);
  });
});
