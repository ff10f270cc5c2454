import assert from "node:assert/strict";
import { createPrivateKey, createPublicKey } from "node:crypto";
import { readFileSync } from "node:fs";
import { describe, it } from "node:test";
import fc from "fast-check";
import * as der from "../../../edge-agent/src/pki/der.js";
import {
  BAD_SIGNATURE_ALERT,
  ECDSA_SECP256R1_SHA256,
  NamedCurve,
  TlsAlert,
  TrustStore,
  computePremaster,
  decodeCertificateList,
  ecdheKeyPairFromPrivate,
  ecdsaSign,
  ecdsaVerify,
  encodeCertificateList,
  encodeClientEcdhPublic,
  encodeDigitallySigned,
  encodeServerEcdhParams,
  generateEcdheKeyPair,
  generateP256KeyPair,
  loadCertificates,
  parseClientEcdhPublic,
  parseServerKeyExchange,
  signCertificateVerify,
  signServerKeyExchange,
  validatePeerChain,
  verifyCertificateVerify,
  verifyServerKeyExchange,
  type EcdheCurve,
} from "../../../edge-agent/src/pki/index.js";

const hex = (s: string): Uint8Array => new Uint8Array(Buffer.from(s.replace(/\s+/g, ""), "hex"));
const toHex = (b: Uint8Array): string => Buffer.from(b).toString("hex");
const utf8 = (s: string): Uint8Array => new TextEncoder().encode(s);

describe("ECDHE premaster", () => {
  for (const curve of ["secp256r1", "x25519"] as const) {
    it(`${curve}: both sides compute the same premaster`, () => {
      const a = generateEcdheKeyPair(curve);
      const b = generateEcdheKeyPair(curve);
      assert.equal(a.publicKey.length, curve === "secp256r1" ? 65 : 32);
      const pa = computePremaster(a, b.publicKey);
      const pb = computePremaster(b, a.publicKey);
      assert.ok(pa.ok && pb.ok);
      assert.equal(pa.premaster.length, 32);
      assert.deepEqual(pa.premaster, pb.premaster);
    });
  }

  it("RFC 5903 §8.1 (256-bit random ECP group): public keys and the shared x coordinate", () => {
    const i = hex("C88F01F5 10D9AC3F 70A292DA A2316DE5 44E9AAB8 AFE84049 C62A9C57 862D1433");
    const gi = hex(`04 DAD0B653 94221CF9 B051E1FE CA5787D0 98DFE637 FC90B9EF 945D0C37 72581180
                    5271A046 1CDB8252 D61F1C45 6FA3E59A B1F45B33 ACCF5F58 389E0577 B8990BB3`);
    const r = hex("C6EF9C5D 78AE012A 011164AC B397CE20 88685D8F 06BF9BE0 B283AB46 476BEE53");
    const gr = hex(`04 D12DFB52 89C8D4F8 1208B702 70398C34 2296970A 0BCCB74C 736FC755 4494BF63
                    56FBF3CA 366CC23E 8157854C 13C58D6A AC23F046 ADA30F83 53E74F33 039872AB`);
    const girx = hex("D6840F6B 42F6EDAF D13116E0 E1256520 2FEF8E9E CE7DCE03 812464D0 4B9442DE");
    const initiator = ecdheKeyPairFromPrivate("secp256r1", i);
    const responder = ecdheKeyPairFromPrivate("secp256r1", r);
    assert.deepEqual(initiator.publicKey, gi);
    assert.deepEqual(responder.publicKey, gr);
    const a = computePremaster(initiator, gr);
    const b = computePremaster(responder, gi);
    assert.ok(a.ok && b.ok);
    assert.deepEqual(a.premaster, girx);
    assert.deepEqual(b.premaster, girx);
  });

  it("RFC 7748 §6.1 X25519 vector", () => {
    const alice = ecdheKeyPairFromPrivate("x25519", hex("77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a"));
    const bob = ecdheKeyPairFromPrivate("x25519", hex("5dab087e624a8a4b79e17f8b83800ee66f3bb1292618b6fd1c2f8b27ff88e0eb"));
    assert.equal(toHex(alice.publicKey), "8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a");
    assert.equal(toHex(bob.publicKey), "de9edb7d7b7dc1b4d35b61c2ece435373f8343c85b78674dadfc7e146f882b4f");
    const k = "4a5d9d5ba4ce2de1728e3bf480350f25e07e21c947d19e3376f09b3c1e161742";
    const a = computePremaster(alice, bob.publicKey);
    const b = computePremaster(bob, alice.publicKey);
    assert.ok(a.ok && b.ok);
    assert.equal(toHex(a.premaster), k);
    assert.equal(toHex(b.premaster), k);
  });

  it("bad peer keys are refused with illegal_parameter, never thrown", () => {
    const p = generateEcdheKeyPair("secp256r1");
    const peer = generateEcdheKeyPair("secp256r1").publicKey;
    const offCurve = new Uint8Array(peer);
    offCurve[64] = (offCurve[64] as number) ^ 1;
    const compressed = Uint8Array.of(0x02, ...peer.subarray(1, 33));
    const wrongPrefix = Uint8Array.of(0x05, ...peer.subarray(1));
    const cases: Array<[EcdheCurve, Uint8Array, string]> = [
      ["secp256r1", offCurve, "not-on-curve"],
      ["secp256r1", compressed, "bad-length"],
      ["secp256r1", wrongPrefix, "bad-format"],
      ["secp256r1", new Uint8Array(65).fill(0).fill(4, 0, 1), "not-on-curve"],
      ["x25519", new Uint8Array(32), "all-zero"], // the zero point: RFC 7748 §6.1 all-zero output
      ["x25519", new Uint8Array(31), "bad-length"],
    ];
    const x = generateEcdheKeyPair("x25519");
    for (const [curve, key, code] of cases) {
      const r = computePremaster(curve === "secp256r1" ? p : x, key);
      assert.ok(!r.ok, code);
      assert.equal(r.code, code);
      assert.equal(r.alert, TlsAlert.illegal_parameter);
    }
  });
});

describe("ECDSA P-256 SHA-256", () => {
  const { privateKey, publicKey } = generateP256KeyPair();

  it("sign/verify round trip, DER signatures, transcript given as parts", () => {
    const msg = utf8("handshake messages");
    const sig = ecdsaSign(privateKey, msg);
    assert.equal(sig[0], 0x30); // ECDSA-Sig-Value SEQUENCE
    assert.ok(ecdsaVerify(publicKey, msg, sig));
    assert.ok(ecdsaVerify(publicKey, [msg.subarray(0, 5), msg.subarray(5)], sig));
    assert.ok(ecdsaVerify(publicKey, msg, ecdsaSign(privateKey, [msg.subarray(0, 9), msg.subarray(9)])));
    assert.ok(!ecdsaVerify(publicKey, utf8("handshake messageS"), sig));
    assert.ok(!ecdsaVerify(generateP256KeyPair().publicKey, msg, sig));
  });

  it("malformed signatures are false, not exceptions", () => {
    const msg = utf8("x");
    for (const bad of [new Uint8Array(0), Uint8Array.of(0x30, 0x01), new Uint8Array(64).fill(7)]) {
      assert.equal(ecdsaVerify(publicKey, msg, bad), false);
    }
  });

  it("verifies the RFC 6979 §A.2.5 P-256/SHA-256 signature of \"sample\"", () => {
    const jwkPublic = (x: string, y: string) => ({
      kty: "EC",
      crv: "P-256",
      x: Buffer.from(hex(x)).toString("base64url"),
      y: Buffer.from(hex(y)).toString("base64url"),
    });
    const key = createPublicKey({
      key: jwkPublic(
        "60FED4BA255A9D31C961EB74C6356D68C049B8923B61FA6CE669622E60F29FB6",
        "7903FE1008B8BC99A41AE9E95628BC64F2F1B20C2D7E9F5177A3C294D4462299",
      ),
      format: "jwk",
    });
    const r = hex("EFD48B2AACB6A8FD1140DD9CD45E81D69D2C877B56AAF991C34D0EA84EAF3716");
    const s = hex("F7CB1C942D657C41D436C7A1B6E29F65F3E900DBB9AFF4064DC4AB2F843ACDA8");
    const sig = der.seq(der.integer(r), der.integer(s));
    assert.ok(ecdsaVerify(key, utf8("sample"), sig));
    assert.ok(!ecdsaVerify(key, utf8("test"), sig));
    // and the private key of the vector gives the same public key
    const priv = createPrivateKey({
      key: { ...jwkPublic("60FED4BA255A9D31C961EB74C6356D68C049B8923B61FA6CE669622E60F29FB6", "7903FE1008B8BC99A41AE9E95628BC64F2F1B20C2D7E9F5177A3C294D4462299"), d: Buffer.from(hex("C9AFA9D845BA75166B5C215767B1D6934E50C3DB36E89B127B8A622B120F6721")).toString("base64url") },
      format: "jwk",
    });
    assert.ok(ecdsaVerify(key, utf8("sample"), ecdsaSign(priv, utf8("sample"))));
  });
});

describe("ServerKeyExchange signed params (RFC 8422 §5.4)", () => {
  const server = generateP256KeyPair();
  const clientRandom = new Uint8Array(32).fill(0xc1);
  const serverRandom = new Uint8Array(32).fill(0x5e);

  for (const curve of ["secp256r1", "x25519"] as const) {
    it(`${curve}: sign, parse, verify; the signature binds both randoms and the params`, () => {
      const eph = generateEcdheKeyPair(curve);
      const body = signServerKeyExchange({ key: server.privateKey, clientRandom, serverRandom, curve, publicKey: eph.publicKey });
      assert.deepEqual([...body.subarray(0, 4)], [3, 0, NamedCurve[curve], eph.publicKey.length]);
      const ske = parseServerKeyExchange(body);
      assert.ok(ske.ok);
      assert.equal(ske.curve, curve);
      assert.deepEqual(ske.publicKey, eph.publicKey);
      assert.equal(ske.scheme, ECDSA_SECP256R1_SHA256);
      assert.deepEqual(ske.params, encodeServerEcdhParams(curve, eph.publicKey));
      assert.ok(verifyServerKeyExchange(ske, clientRandom, serverRandom, server.publicKey));
      assert.ok(!verifyServerKeyExchange(ske, serverRandom, clientRandom, server.publicKey)); // swapped randoms
      const other = parseServerKeyExchange(signServerKeyExchange({ key: server.privateKey, clientRandom, serverRandom, curve, publicKey: generateEcdheKeyPair(curve).publicKey }));
      assert.ok(other.ok);
      assert.ok(!verifyServerKeyExchange({ ...ske, params: other.params }, clientRandom, serverRandom, server.publicKey));
    });
  }

  it("malformed bodies are typed failures with the alert to send", () => {
    const eph = generateEcdheKeyPair("secp256r1");
    const good = signServerKeyExchange({ key: server.privateKey, clientRandom, serverRandom, curve: "secp256r1", publicKey: eph.publicKey });
    const withByte = (i: number, v: number): Uint8Array => {
      const b = new Uint8Array(good);
      b[i] = v;
      return b;
    };
    const cases: Array<[Uint8Array, string, number]> = [
      [good.subarray(0, 3), "truncated", TlsAlert.decode_error],
      [good.subarray(0, 60), "truncated", TlsAlert.decode_error],
      [good.subarray(0, good.length - 1), "truncated", TlsAlert.decode_error],
      [Uint8Array.of(...good, 0), "trailing-bytes", TlsAlert.decode_error],
      [withByte(0, 1), "bad-curve-type", TlsAlert.illegal_parameter], // explicit_prime (deprecated)
      [withByte(2, 24), "unsupported-curve", TlsAlert.illegal_parameter], // secp384r1
      [withByte(4, 0x02), "bad-point", TlsAlert.illegal_parameter], // not uncompressed
      [withByte(69, 0x01), "unsupported-signature-scheme", TlsAlert.illegal_parameter], // rsa_pkcs1_sha256
    ];
    for (const [body, code, alert] of cases) {
      const r = parseServerKeyExchange(body);
      assert.ok(!r.ok, code);
      assert.equal(r.code, code);
      assert.equal(r.alert, alert);
    }
  });

  it("ClientKeyExchange ECPoint and DigitallySigned codecs", () => {
    const eph = generateEcdheKeyPair("secp256r1");
    const body = encodeClientEcdhPublic(eph.publicKey);
    const parsed = parseClientEcdhPublic(body, "secp256r1");
    assert.ok(parsed.ok);
    assert.deepEqual(parsed.publicKey, eph.publicKey);
    const wrongCurve = parseClientEcdhPublic(body, "x25519");
    assert.ok(!wrongCurve.ok);
    assert.equal(wrongCurve.code, "bad-point");
    const truncated = parseClientEcdhPublic(body.subarray(0, 10), "secp256r1");
    assert.ok(!truncated.ok);
    assert.equal(truncated.alert, TlsAlert.decode_error);
    assert.deepEqual([...encodeDigitallySigned(Uint8Array.of(9, 9))], [4, 3, 0, 2, 9, 9]);
  });

  it("CertificateVerify sign/verify", () => {
    const transcript = [utf8("ClientHello"), utf8("ServerHello"), utf8("Certificate")];
    const body = signCertificateVerify(server.privateKey, transcript);
    assert.deepEqual(verifyCertificateVerify(body, transcript, server.publicKey), { ok: true });
    const bad = verifyCertificateVerify(body, transcript.slice(1), server.publicKey);
    assert.ok(!bad.ok);
    assert.equal(bad.alert, BAD_SIGNATURE_ALERT);
    assert.equal(BAD_SIGNATURE_ALERT, TlsAlert.decrypt_error);
  });
});

describe("peer-input parsers never throw", () => {
  it("ServerKeyExchange, ClientKeyExchange, CertificateVerify, Certificate list on random bytes", () => {
    const { publicKey } = generateP256KeyPair();
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 200 }), (bytes) => {
        const results = [
          parseServerKeyExchange(bytes),
          parseClientEcdhPublic(bytes, "secp256r1"),
          parseClientEcdhPublic(bytes, "x25519"),
          verifyCertificateVerify(bytes, [bytes], publicKey),
          decodeCertificateList(bytes),
        ];
        return results.every((r) => r.ok || typeof r.alert === "number");
      }),
      { numRuns: 500, seed: 7 },
    );
  });
});

describe("Certificate message body (RFC 5246 §7.4.2)", () => {
  it("round trip, empty list, and malformed lengths", () => {
    const a = Uint8Array.of(0x30, 1, 2);
    const b = new Uint8Array(300).fill(7);
    const body = encodeCertificateList([a, b]);
    assert.equal(body.length, 3 + 3 + 3 + 3 + 300);
    const d = decodeCertificateList(body);
    assert.ok(d.ok);
    assert.deepEqual(d.chainDer, [a, b]);
    const empty = decodeCertificateList(encodeCertificateList([]));
    assert.ok(empty.ok);
    assert.equal(empty.chainDer.length, 0);
    for (const bad of [body.subarray(0, body.length - 1), Uint8Array.of(0, 0), Uint8Array.of(0, 0, 3, 0, 0, 0), Uint8Array.of(0, 0, 4, 0, 0, 5, 1)]) {
      const r = decodeCertificateList(bad);
      assert.ok(!r.ok);
      assert.equal(r.alert, TlsAlert.decode_error);
    }
  });
});

/**
 * The real OpenSSL 3.0 DTLS 1.2 ECDHE-ECDSA handshake in test/vectors/dtls (copied from the team vectors): records
 * (RFC 6347 §4.1, 13-byte header) → handshake fragments (§4.2.2, 12-byte header) reassembled
 * per (sender, message_seq), retransmitted fragments folded in.
 */
describe("OpenSSL ECDHE-ECDSA transcript", () => {
  interface Vector {
    client_random: string;
    ca_cert_pem: string;
    client_cert_pem: string;
    datagrams: Array<{ from: "client" | "server"; hex: string }>;
  }
  const vector = JSON.parse(readFileSync(new URL("../../vectors/dtls/openssl-ecdhe-ecdsa-aes128-ccm8.json", import.meta.url), "utf8")) as Vector;

  interface Message {
    from: string;
    type: number;
    seq: number;
    body: Uint8Array;
  }
  const messages: Message[] = [];
  {
    const partial = new Map<string, { type: number; seq: number; from: string; body: Uint8Array }>();
    for (const dg of vector.datagrams) {
      const b = hex(dg.hex);
      for (let pos = 0; pos + 13 <= b.length; ) {
        const type = b[pos] as number;
        const epoch = ((b[pos + 3] as number) << 8) | (b[pos + 4] as number);
        const len = ((b[pos + 11] as number) << 8) | (b[pos + 12] as number);
        const frag = b.subarray(pos + 13, pos + 13 + len);
        pos += 13 + len;
        if (type !== 22 || epoch !== 0) continue; // encrypted Finished etc.
        const u24 = (o: number): number => ((frag[o] as number) << 16) | ((frag[o + 1] as number) << 8) | (frag[o + 2] as number);
        const mtype = frag[0] as number;
        const total = u24(1);
        const seq = ((frag[4] as number) << 8) | (frag[5] as number);
        const off = u24(6);
        const flen = u24(9);
        const key = `${dg.from}/${seq}/${mtype}`;
        let m = partial.get(key);
        if (!m) {
          m = { type: mtype, seq, from: dg.from, body: new Uint8Array(total) };
          partial.set(key, m);
          messages.push(m);
        }
        m.body.set(frag.subarray(12, 12 + flen), off);
      }
    }
  }
  const find = (from: string, type: number, seq?: number): Message => {
    const m = messages.find((x) => x.from === from && x.type === type && (seq === undefined || x.seq === seq));
    assert.ok(m, `message ${from} type ${type}`);
    return m;
  };
  const caStore = new TrustStore(loadCertificates(vector.ca_cert_pem));

  it("the server's ServerKeyExchange signature verifies with its certificate's key", () => {
    const clientRandom = hex(vector.client_random);
    const serverRandom = find("server", 2).body.subarray(2, 34); // ServerHello: version(2) ‖ random(32)
    const certs = decodeCertificateList(find("server", 11).body);
    assert.ok(certs.ok);
    const leaf = loadCertificates({ der: certs.chainDer[0] as Uint8Array })[0];
    assert.ok(leaf);
    const chain = validatePeerChain(certs.chainDer, caStore, { purpose: "server" }, leaf.notBefore + 1000);
    assert.ok(chain.ok, chain.ok ? "" : chain.message);
    assert.equal(chain.path.at(-1)?.commonName, "test-root");

    const ske = parseServerKeyExchange(find("server", 12).body);
    assert.ok(ske.ok, ske.ok ? "" : ske.code);
    assert.equal(ske.curve, "secp256r1");
    assert.equal(ske.scheme, ECDSA_SECP256R1_SHA256);
    assert.ok(verifyServerKeyExchange(ske, clientRandom, serverRandom, chain.publicKey));
    assert.ok(!verifyServerKeyExchange(ske, serverRandom, clientRandom, chain.publicKey));
    // the client's ECDH point in ClientKeyExchange is a well-formed P-256 point
    const cke = parseClientEcdhPublic(find("client", 16).body, "secp256r1");
    assert.ok(cke.ok);
  });

  it("the client's CertificateVerify verifies over the DTLS transcript (RFC 6347 §4.2.6)", () => {
    // handshake_messages: from the second ClientHello (HelloVerifyRequest and the first
    // ClientHello excluded, RFC 6347 §4.2.1) up to CertificateVerify, each with its 12-byte
    // header as if sent unfragmented.
    const order: Array<[string, number]> = [
      ["client", 1], // ClientHello (seq 1)
      ["server", 2], // ServerHello
      ["server", 11], // Certificate
      ["server", 12], // ServerKeyExchange
      ["server", 13], // CertificateRequest
      ["server", 14], // ServerHelloDone
      ["client", 11], // Certificate
      ["client", 16], // ClientKeyExchange
    ];
    const withHeader = (m: Message): Uint8Array => {
      const h = new Uint8Array(12);
      h[0] = m.type;
      for (const o of [1, 9]) {
        h[o] = m.body.length >> 16;
        h[o + 1] = (m.body.length >> 8) & 0xff;
        h[o + 2] = m.body.length & 0xff;
      }
      h[4] = m.seq >> 8;
      h[5] = m.seq & 0xff;
      return der.concat([h, m.body]);
    };
    const transcript = order.map(([from, type]) => withHeader(find(from, type, from === "client" && type === 1 ? 1 : undefined)));
    const clientCerts = decodeCertificateList(find("client", 11).body);
    assert.ok(clientCerts.ok);
    assert.deepEqual(clientCerts.chainDer[0], loadCertificates(vector.client_cert_pem)[0]?.der);
    const client = validatePeerChain(clientCerts.chainDer, caStore, { purpose: "client" }, Date.UTC(2027, 0, 1));
    assert.ok(client.ok, client.ok ? "" : client.message);
    const cv = find("client", 15).body;
    assert.deepEqual(verifyCertificateVerify(cv, transcript, client.publicKey), { ok: true });
    const wrong = verifyCertificateVerify(cv, transcript.slice(0, -1), client.publicKey);
    assert.ok(!wrong.ok);
  });
});
