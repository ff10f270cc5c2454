/**
 * The ECDHE_ECDSA codecs: CertificateRequest and the hello extensions supported_groups,
 * ec_point_formats and signature_algorithms. Real bytes from OpenSSL's recorded handshake
 * decode and re-encode byte for byte; round trips; fuzz — decoders fail only with DecodeError.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { DecodeError } from "../../../edge-agent/src/dtls/codec/bytes.js";
import { ContentType, ExtensionType, HandshakeType } from "../../../edge-agent/src/dtls/constants.js";
import { decodeHandshakeFragments } from "../../../edge-agent/src/dtls/handshake/header.js";
import { HandshakeReassembler } from "../../../edge-agent/src/dtls/handshake/reassembler.js";
import { decodeCertificateRequest, encodeCertificateRequest } from "../../../edge-agent/src/dtls/handshake/messages/certificate-request.js";
import { decodeClientHello } from "../../../edge-agent/src/dtls/handshake/messages/client-hello.js";
import {
  decodeEcPointFormats,
  decodeU16List,
  encodeEcPointFormats,
  encodeU16List,
} from "../../../edge-agent/src/dtls/handshake/messages/ecc-extensions.js";
import { findExtension } from "../../../edge-agent/src/dtls/handshake/messages/extensions.js";
import { splitRecords } from "../../../edge-agent/src/dtls/record/header.js";
import { loadCertificates } from "../../../edge-agent/src/pki/index.js";
import { hex, loadVector, toHex } from "./helpers.js";

interface Vector {
  ca_cert_pem: string;
  datagrams: { from: "client" | "server"; hex: string }[];
}

/** The reassembled epoch-0 handshake messages one side sent in the recorded ECDHE handshake. */
function recorded(from: "client" | "server") {
  const v = loadVector<Vector>("dtls/openssl-ecdhe-ecdsa-aes128-ccm8.json");
  const ra = new HandshakeReassembler();
  const out = [];
  for (const d of v.datagrams.filter((x) => x.from === from)) {
    for (const r of splitRecords(hex(d.hex)).records) {
      if (r.header.epoch !== 0 || r.header.type !== ContentType.handshake) continue;
      for (const f of decodeHandshakeFragments(r.fragment)) ra.push(f, 0);
    }
    for (let m = ra.pop(); m; m = ra.pop()) out.push(m);
  }
  return { v, messages: out };
}

test("OpenSSL's CertificateRequest decodes (ecdsa_sign, ecdsa_secp256r1_sha256, its CA's name) and re-encodes byte for byte", () => {
  const { v, messages } = recorded("server");
  const msg = messages.find((m) => m.type === HandshakeType.certificate_request)!;
  const cr = decodeCertificateRequest(msg.body);
  assert.ok(cr.certificateTypes.includes(64));
  assert.ok(cr.signatureAlgorithms.includes(0x0403));
  const ca = loadCertificates(v.ca_cert_pem)[0]!;
  assert.deepEqual(cr.certificateAuthorities.map(toHex), [toHex(ca.subjectDer)]);
  assert.equal(toHex(encodeCertificateRequest(cr)), toHex(msg.body));
});

test("OpenSSL's ClientHello ECC extensions: groups [secp256r1], uncompressed points, signature algorithms with 0x0403", () => {
  const { messages } = recorded("client");
  const hello = decodeClientHello(messages[1]!.body);
  const ext = (type: number) => findExtension(hello.extensions, type)!.data;
  assert.deepEqual(decodeU16List(ext(ExtensionType.supported_groups), "groups"), [23]);
  const formats = decodeEcPointFormats(ext(ExtensionType.ec_point_formats));
  assert.ok(formats.includes(0));
  assert.equal(toHex(encodeEcPointFormats([...formats])), toHex(ext(ExtensionType.ec_point_formats)));
  const algs = decodeU16List(ext(ExtensionType.signature_algorithms), "sigalgs");
  assert.ok(algs.includes(0x0403));
  assert.equal(toHex(encodeU16List(algs)), toHex(ext(ExtensionType.signature_algorithms)));
});

test("CertificateRequest: round trips, including no CA names; malformed bodies are DecodeErrors", () => {
  for (const cr of [
    { certificateTypes: Uint8Array.of(64), signatureAlgorithms: [0x0403], certificateAuthorities: [] },
    { certificateTypes: Uint8Array.of(1, 64), signatureAlgorithms: [0x0401, 0x0403, 0x0804], certificateAuthorities: [Uint8Array.of(0x30, 0), Uint8Array.of(0x30, 2, 5, 0)] },
  ]) {
    const bytes = encodeCertificateRequest(cr);
    const back = decodeCertificateRequest(bytes);
    assert.deepEqual({ ...back, certificateAuthorities: back.certificateAuthorities.map((x) => [...x]) }, {
      ...cr,
      certificateAuthorities: cr.certificateAuthorities.map((x) => [...x]),
    });
  }
  for (const bad of ["", "00", "0140", "014000", "01400002040300", "0140000204030003000000", "014000020403000101", "01400001040000"]) {
    assert.throws(() => decodeCertificateRequest(hex(bad)), DecodeError, bad);
  }
});

test("supported_groups / signature_algorithms lists: empty, odd and overlong lists are DecodeErrors", () => {
  assert.deepEqual(decodeU16List(hex("0004001d0017"), "groups"), [29, 23]);
  for (const bad of ["0000", "00060017", "0003001d17", "0004001d", "0002001d00"]) {
    assert.throws(() => decodeU16List(hex(bad), "groups"), DecodeError, bad);
  }
  assert.throws(() => decodeEcPointFormats(hex("00")), DecodeError);
  assert.throws(() => decodeEcPointFormats(hex("0200")), DecodeError);
});

test("fuzz: the ECDHE codecs fail only with DecodeError", () => {
  const onlyDecodeErrors = (f: (b: Uint8Array) => unknown) => (b: Uint8Array) => {
    try {
      f(b);
    } catch (e) {
      if (!(e instanceof DecodeError)) throw e;
    }
  };
  fc.assert(fc.property(fc.uint8Array({ maxLength: 80 }), onlyDecodeErrors(decodeCertificateRequest)), { numRuns: 2000 });
  fc.assert(fc.property(fc.uint8Array({ maxLength: 20 }), onlyDecodeErrors((b) => decodeU16List(b, "list"))), { numRuns: 1000 });
  fc.assert(fc.property(fc.uint8Array({ maxLength: 20 }), onlyDecodeErrors(decodeEcPointFormats)), { numRuns: 1000 });
});
