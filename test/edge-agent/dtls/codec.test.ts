/**
 * Codec round trips (bytes → value → same bytes) and fuzz: decoders fail only with DecodeError,
 * never with another exception (STYLE.md §10).
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { ByteReader, ByteWriter, DecodeError } from "../../../edge-agent/src/dtls/codec/bytes.js";
import { decodeAlert, encodeAlert } from "../../../edge-agent/src/dtls/alert.js";
import { decodeHandshakeFragments, encodeHandshakeFragment, fragmentMessage } from "../../../edge-agent/src/dtls/handshake/header.js";
import { decodeClientHello, encodeClientHello } from "../../../edge-agent/src/dtls/handshake/messages/client-hello.js";
import { decodeServerHello, encodeServerHello } from "../../../edge-agent/src/dtls/handshake/messages/server-hello.js";
import { decodeHelloVerifyRequest, encodeHelloVerifyRequest } from "../../../edge-agent/src/dtls/handshake/messages/hello-verify-request.js";
import { decodeServerName, encodeServerName, decodeRenegotiationInfo } from "../../../edge-agent/src/dtls/handshake/messages/extensions.js";
import { decodeRecordHeader, encodeRecordHeader, splitRecords } from "../../../edge-agent/src/dtls/record/header.js";
import { decodePskIdentity, encodePskIdentity, pskPreMasterSecret } from "../../../edge-agent/src/dtls/key-exchange/psk.js";
import { helloVerifyRequestRecord } from "../../../edge-agent/src/dtls/flights/flight2.js";
import { hex, toHex } from "./helpers.js";

test("ByteReader: bounds are checked on every read", () => {
  const r = new ByteReader(Uint8Array.of(1, 2, 3));
  assert.equal(r.u16(), 0x0102);
  assert.throws(() => r.u16(), DecodeError);
  assert.equal(r.u8(), 3);
  assert.throws(() => r.u8(), DecodeError);
  assert.throws(() => new ByteReader(Uint8Array.of(5, 1)).vec8(), DecodeError);
  assert.throws(() => new ByteReader(Uint8Array.of(0, 0)).end(), DecodeError);
});

test("ByteReader/Writer: u24, u32, u48 including 2^48-1, and growth past the initial capacity", () => {
  const w = new ByteWriter(2);
  w.u24(0xabcdef).u32(0xfedcba98).u48(2 ** 48 - 1).u48(0x1234_5678_9abc).vec16(new Uint8Array(300).fill(7)).u8(9);
  const b = w.finish();
  assert.equal(b.length, 3 + 4 + 6 + 6 + 302 + 1);
  const r = new ByteReader(b);
  assert.equal(r.u24(), 0xabcdef);
  assert.equal(r.u32(), 0xfedcba98);
  assert.equal(r.u48(), 2 ** 48 - 1);
  assert.equal(r.u48(), 0x1234_5678_9abc);
  const v = r.vec16();
  assert.equal(v.length, 300);
  assert.ok(v.every((x) => x === 7));
  assert.equal(r.u8(), 9);
  r.end();
});

test("ByteWriter over a caller's buffer writes into it (no allocation); outgrowing it moves the output to a buffer of its own", () => {
  const scratch = new Uint8Array(4);
  const out = new ByteWriter(scratch).u16(0x0102).u8(3).finish();
  assert.deepEqual([...scratch.subarray(0, 3)], [1, 2, 3], "written in place");
  assert.equal(out.buffer, scratch.buffer, "finish() is a view of the caller's buffer");
  const grown = new ByteWriter(scratch).u32(0xaabbccdd).u8(0xee).finish();
  assert.equal(toHex(grown), "aabbccddee");
  assert.notEqual(grown.buffer, scratch.buffer, "a longer output moves to a buffer of its own");
  const exact = new ByteWriter(3).u8(1).u16(2).finish();
  assert.equal(exact.byteLength, exact.buffer.byteLength, "an exactly sized writer hands over its whole array");
});

test("HelloVerifyRequest record: one record, DTLS 1.0, the hello's sequence numbers, unfragmented (RFC 6347 §4.2.1)", () => {
  const cookie = Uint8Array.from({ length: 16 }, (_, i) => i);
  const record = helloVerifyRequestRecord(cookie, 0x0102_0304_0506, 1);
  const header = decodeRecordHeader(new ByteReader(record));
  assert.deepEqual(header, { type: 22, version: 0xfeff, epoch: 0, sequence: 0x0102_0304_0506, length: record.length - 13 });
  const [fragment, ...rest] = decodeHandshakeFragments(record.subarray(13));
  assert.equal(rest.length, 0);
  assert.deepEqual({ ...fragment!, data: toHex(fragment!.data) }, { type: 3, length: 19, seq: 1, offset: 0, data: toHex(encodeHelloVerifyRequest({ version: 0xfeff, cookie })) });
});

test("record header: round trip; sequence numbers are exact to 48 bits", () => {
  for (const sequence of [0, 1, 0xffff_ffff, 0x1_0000_0000, 2 ** 48 - 1]) {
    const h = { type: 23, version: 0xfefd, epoch: 0xfffe, sequence, length: 42 };
    const w = new ByteWriter();
    encodeRecordHeader(w, h);
    const bytes = w.finish();
    assert.equal(bytes.length, 13);
    assert.deepEqual(decodeRecordHeader(new ByteReader(bytes)), h);
  }
  assert.throws(() => decodeRecordHeader(new ByteReader(hex("17030300010000000000000000"))), DecodeError, "TLS, not DTLS");
});

test("splitRecords: several records per datagram; a truncated tail is reported, earlier records kept", () => {
  const one = hex("16fefd000000000000000000020102");
  const two = hex("17fefd0001000000000005000103");
  const both = Uint8Array.from([...one, ...two]);
  const s = splitRecords(both);
  assert.equal(s.malformed, false);
  assert.deepEqual(s.records.map((r) => [r.header.type, r.header.epoch, r.header.sequence, toHex(r.fragment)]), [
    [22, 0, 0, "0102"],
    [23, 1, 5, "03"],
  ]);
  const cut = splitRecords(both.subarray(0, both.length - 1));
  assert.equal(cut.malformed, true);
  assert.equal(cut.records.length, 1);
});

test("handshake fragments: fragmentation round trip and several fragments per record", () => {
  const body = Uint8Array.from({ length: 1000 }, (_, i) => i & 0xff);
  const frags = fragmentMessage(11, 7, body, 300);
  assert.equal(frags.length, 4);
  const decoded = decodeHandshakeFragments(Uint8Array.from(frags.flatMap((f) => [...f])));
  assert.deepEqual(decoded.map((f) => [f.type, f.length, f.seq, f.offset, f.data.length]), [
    [11, 1000, 7, 0, 300],
    [11, 1000, 7, 300, 300],
    [11, 1000, 7, 600, 300],
    [11, 1000, 7, 900, 100],
  ]);
  assert.deepEqual(Uint8Array.from(decoded.flatMap((f) => [...f.data])), body);
  assert.equal(fragmentMessage(14, 3, new Uint8Array(0), 100).length, 1, "an empty message is one empty fragment");
  assert.throws(() => decodeHandshakeFragments(encodeHandshakeFragment(1, 10, 0, 8, new Uint8Array(4))), DecodeError, "fragment past the length");
});

test("hello messages, extensions, PSK bodies and alerts round-trip", () => {
  const ch = {
    version: 0xfefd,
    random: new Uint8Array(32).fill(1),
    sessionId: new Uint8Array(0),
    cookie: Uint8Array.of(9, 9),
    cipherSuites: [0xc0a8, 0x00ff],
    compressionMethods: Uint8Array.of(0),
    extensions: [{ type: 0, data: encodeServerName("device.example") }, { type: 23, data: new Uint8Array(0) }],
  };
  const chBytes = encodeClientHello(ch);
  assert.deepEqual(encodeClientHello(decodeClientHello(chBytes)), chBytes);
  assert.equal(decodeServerName(decodeClientHello(chBytes).extensions[0]!.data), "device.example");
  // A hello without an extensions block (RFC 5246 §7.4.1.2 allows it).
  const bare = encodeClientHello({ ...ch, extensions: [] });
  assert.deepEqual(decodeClientHello(bare).extensions, []);
  assert.throws(() => decodeClientHello(Uint8Array.from([...bare, 0, 8, 0, 23, 0, 0, 0, 23, 0, 0])), DecodeError, "duplicate extension");
  // Past the scanned few (16), a long list is checked through a set: a duplicate at the end, and
  // none among 40 distinct types.
  const manyExtensions = (types: number[]) => Uint8Array.from([...bare, 0, 4 * types.length, ...types.flatMap((t) => [t >> 8, t & 0xff, 0, 0])]);
  const distinct = Array.from({ length: 40 }, (_, i) => 100 + i);
  assert.equal(decodeClientHello(manyExtensions(distinct)).extensions.length, 40);
  assert.throws(() => decodeClientHello(manyExtensions([...distinct, 117])), DecodeError, "duplicate after 40 extensions");

  const sh = { version: 0xfefd, random: new Uint8Array(32).fill(2), sessionId: new Uint8Array(0), cipherSuite: 0xc0a8, compressionMethod: 0, extensions: [{ type: 0xff01, data: Uint8Array.of(0) }] };
  assert.deepEqual(encodeServerHello(decodeServerHello(encodeServerHello(sh))), encodeServerHello(sh));
  assert.equal(decodeRenegotiationInfo(Uint8Array.of(0)).length, 0);

  const hvr = encodeHelloVerifyRequest({ version: 0xfeff, cookie: Uint8Array.of(1, 2, 3) });
  assert.equal(toHex(hvr), "feff03010203");
  assert.deepEqual(decodeHelloVerifyRequest(hvr).cookie, Uint8Array.of(1, 2, 3));

  assert.equal(decodePskIdentity(encodePskIdentity("Client_identity"), "id"), "Client_identity");
  assert.equal(toHex(pskPreMasterSecret(Uint8Array.of(0xaa, 0xbb))), "00020000" + "0002aabb");
  assert.deepEqual(decodeAlert(encodeAlert({ level: 2, description: 115 })), { level: 2, description: 115 });
});

/** Each decoder either returns or throws DecodeError — nothing else — on arbitrary bytes. */
test("fuzz: decoders throw only DecodeError", () => {
  const decoders: [string, (b: Uint8Array) => unknown][] = [
    ["record header", (b) => decodeRecordHeader(new ByteReader(b))],
    ["splitRecords", (b) => splitRecords(b)],
    ["handshake fragments", decodeHandshakeFragments],
    ["ClientHello", decodeClientHello],
    ["ServerHello", decodeServerHello],
    ["HelloVerifyRequest", decodeHelloVerifyRequest],
    ["server_name", decodeServerName],
    ["alert", decodeAlert],
    ["psk identity", (b) => decodePskIdentity(b, "id")],
  ];
  for (const [name, decode] of decoders) {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), (bytes) => {
        try {
          decode(bytes);
        } catch (err) {
          assert.ok(err instanceof DecodeError, `${name} threw ${String(err)}`);
        }
      }),
      { numRuns: 500, seed: 42 },
    );
  }
});
