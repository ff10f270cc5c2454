import assert from "node:assert/strict";
import { describe, it } from "node:test";
import * as der from "../../../edge-agent/src/pki/der.js";
import { ipBytes } from "../../../edge-agent/src/pki/generate.js";

const hex = (b: Uint8Array): string => Buffer.from(b).toString("hex");

describe("DER writer (X.690)", () => {
  it("INTEGER: minimal, non-negative", () => {
    assert.equal(hex(der.integer(0)), "020100");
    assert.equal(hex(der.integer(127)), "02017f");
    assert.equal(hex(der.integer(128)), "02020080");
    assert.equal(hex(der.integer(256)), "02020100");
    assert.equal(hex(der.integer(Uint8Array.of(0, 0, 0x81))), "02020081");
  });

  it("OID: first two arcs folded, base-128 arcs", () => {
    assert.equal(hex(der.oid("1.2.840.10045.4.3.2")), "06082a8648ce3d040302");
    assert.equal(hex(der.oid("2.5.29.19")), "0603551d13");
    assert.equal(der.decodeOid(der.readSingle(der.oid("1.3.6.1.4.1.55555.1")).content), "1.3.6.1.4.1.55555.1");
    assert.equal(der.decodeOid(der.readSingle(der.oid("2.999.3")).content), "2.999.3");
  });

  it("lengths: short form below 128, long form minimal", () => {
    assert.equal(hex(der.octetString(new Uint8Array(127))).slice(0, 4), "047f");
    assert.equal(hex(der.octetString(new Uint8Array(128))).slice(0, 6), "048180");
    assert.equal(hex(der.octetString(new Uint8Array(256))).slice(0, 8), "04820100");
  });

  it("Time: UTCTime through 2049, GeneralizedTime from 2050 (RFC 5280 §4.1.2.5); decode round trip", () => {
    const t2049 = new Date(Date.UTC(2049, 11, 31, 23, 59, 59));
    const t2050 = new Date(Date.UTC(2050, 0, 1, 0, 0, 0));
    const t1999 = new Date(Date.UTC(1999, 5, 15, 12, 0, 0));
    assert.equal(Buffer.from(der.time(t2049)).toString("latin1").slice(2), "491231235959Z");
    assert.equal(der.time(t2049)[0], der.Tag.utcTime);
    assert.equal(der.time(t2050)[0], der.Tag.generalizedTime);
    assert.equal(Buffer.from(der.time(t2050)).toString("latin1").slice(2), "20500101000000Z");
    for (const t of [t2049, t2050, t1999]) assert.equal(der.decodeTime(der.readSingle(der.time(t))), t.getTime());
  });

  it("BIT STRING and boolean", () => {
    assert.equal(hex(der.bitString(Uint8Array.of(0x80), 7)), "03020780");
    assert.equal(hex(der.boolean(true)), "0101ff");
  });
});

describe("DER reader", () => {
  it("rejects what DER forbids, with typed errors", () => {
    const cases: Array<[number[], string]> = [
      [[0x30], "truncated"],
      [[0x30, 0x80, 0x00, 0x00], "bad-length"], // indefinite
      [[0x04, 0x81, 0x05, 1, 2, 3, 4, 5], "bad-length"], // long form for < 128
      [[0x04, 0x03, 1, 2], "truncated"],
      [[0x1f, 0x01, 0x00], "bad-tag"],
      [[0x04, 0x01, 0x00, 0x00], "trailing-bytes"],
    ];
    for (const [bytes, code] of cases) {
      assert.throws(
        () => der.readSingle(Uint8Array.from(bytes)),
        (e: unknown) => e instanceof der.DerError && e.code === code,
        `${hex(Uint8Array.from(bytes))} → ${code}`,
      );
    }
  });

  it("children of a SEQUENCE", () => {
    const seq = der.seq(der.integer(1), der.utf8String("é"), der.ia5String("x"));
    const kids = der.children(der.readSingle(seq, der.Tag.sequence).content);
    assert.deepEqual(
      kids.map((k) => k.tag),
      [der.Tag.integer, der.Tag.utf8String, der.Tag.ia5String],
    );
    assert.equal(der.decodeString(kids[1] as der.Tlv), "é");
  });
});

describe("ipBytes (subjectAltName iPAddress)", () => {
  it("IPv4 and IPv6 forms", () => {
    assert.equal(hex(ipBytes("127.0.0.1")), "7f000001");
    assert.equal(hex(ipBytes("::1")), "00000000000000000000000000000001");
    assert.equal(hex(ipBytes("::")), "00000000000000000000000000000000");
    assert.equal(hex(ipBytes("fe80::1")), "fe800000000000000000000000000001");
    assert.equal(hex(ipBytes("2001:db8::")), "20010db8000000000000000000000000");
    assert.equal(hex(ipBytes("1:2:3:4:5:6:7:8")), "00010002000300040005000600070008");
    assert.equal(hex(ipBytes("::ffff:192.0.2.1")), "00000000000000000000ffffc0000201");
    assert.throws(() => ipBytes("localhost"));
  });
});
