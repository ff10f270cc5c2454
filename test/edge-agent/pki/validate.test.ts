import assert from "node:assert/strict";
import { generateKeyPairSync } from "node:crypto";
import { readFileSync } from "node:fs";
import { describe, it } from "node:test";
import fc from "fast-check";
import * as der from "../../../edge-agent/src/pki/der.js";
import {
  KeyUsage,
  Oid,
  TlsAlert,
  TrustStore,
  loadTrustStore,
  resolvePolicy,
  validatePeerChain,
  type PkiPolicy,
  type ValidationResult,
} from "../../../edge-agent/src/pki/index.js";
import { DAY, T0, indexOfBytes, makeCa, makeLeaf, makeSelfSignedLeaf, tamper } from "../../helpers/pki.js";

const root = makeCa("test root");
const inter = makeCa("test intermediate", root);
const device = makeLeaf("device-001", root);
const deviceViaInter = makeLeaf("device-002", inter);
const trust = new TrustStore([root.cert.info]);

function check(chain: readonly Uint8Array[], policy: PkiPolicy = {}, store = trust, now = T0): ValidationResult {
  return validatePeerChain(chain, store, policy, now);
}

function expectFail(r: ValidationResult, code: string, alert: number, depth?: number): void {
  assert.equal(r.ok, false, `expected ${code}, got ok`);
  if (r.ok) return;
  assert.equal(r.code, code, r.message);
  assert.equal(r.alert, alert);
  if (depth !== undefined) assert.equal(r.depth, depth);
}

describe("validatePeerChain: accepted chains", () => {
  it("root → device (depth 1) with identity and fingerprint", () => {
    const r = check([device.der]);
    assert.ok(r.ok);
    assert.equal(r.cn, "device-001");
    assert.equal(r.sha256, device.cert.info.x509.fingerprint256.replace(/:/g, "").toLowerCase());
    assert.match(r.sha256, /^[0-9a-f]{64}$/);
    assert.equal(r.verified, true);
    assert.deepEqual(r.overridden, []);
    assert.deepEqual(r.path.map((c) => c.commonName), ["device-001", "test root"]);
    assert.equal(r.leaf.subject, device.cert.info.x509.subject);
    assert.equal(r.publicKey.asymmetricKeyDetails?.namedCurve, "prime256v1");
  });

  it("root → intermediate → device (depth 2), whatever extra or order the peer sends", () => {
    const r = check([deviceViaInter.der, inter.der]);
    assert.ok(r.ok);
    assert.deepEqual(r.path.map((c) => c.commonName), ["device-002", "test intermediate", "test root"]);
    // the root sent along, and an unrelated certificate in between, change nothing
    const r2 = check([deviceViaInter.der, device.der, inter.der, root.der]);
    assert.ok(r2.ok);
    assert.equal(r2.path.length, 3);
  });

  it("a leaf whose issuer is not sent and not trusted is unknown_ca", () => {
    expectFail(check([deviceViaInter.der]), "unknown-ca", TlsAlert.unknown_ca, 0);
  });

  it("a trusted intermediate anchors the chain without the root", () => {
    const r = check([deviceViaInter.der], {}, new TrustStore([inter.cert.info]));
    assert.ok(r.ok);
    assert.equal(r.path.length, 2);
  });
});

describe("validatePeerChain: validity dates", () => {
  const expired = makeLeaf("old-device", root, { notBefore: new Date(T0 - 60 * DAY), notAfter: new Date(T0 - DAY) });
  const future = makeLeaf("new-device", root, { notBefore: new Date(T0 + DAY), notAfter: new Date(T0 + 60 * DAY) });

  it("expired leaf: certificate_expired, accepted with allowExpiredCerts", () => {
    expectFail(check([expired.der]), "expired", TlsAlert.certificate_expired, 0);
    const r = check([expired.der], { allowExpiredCerts: true });
    assert.ok(r.ok);
    assert.deepEqual(r.overridden, ["expired"]);
  });

  it("not-yet-valid leaf: refused, accepted with allowExpiredCerts (libcoap covers both)", () => {
    expectFail(check([future.der]), "not-yet-valid", TlsAlert.certificate_expired, 0);
    assert.ok(check([future.der], { allowExpiredCerts: true }).ok);
  });

  it("validity bounds are inclusive (RFC 5280 §4.1.2.5)", () => {
    const info = device.cert.info;
    assert.ok(check([device.der], {}, trust, info.notAfter).ok);
    assert.ok(check([device.der], {}, trust, info.notBefore).ok);
    expectFail(check([device.der], {}, trust, info.notAfter + 1000), "expired", 45);
  });

  it("an expired CA is refused at its depth", () => {
    const oldRoot = makeCa("old root", undefined, { notBefore: new Date(T0 - 900 * DAY), notAfter: new Date(T0 - DAY) });
    const leaf = makeLeaf("d", oldRoot);
    expectFail(check([leaf.der], {}, new TrustStore([oldRoot.cert.info])), "expired", 45, 1);
  });
});

describe("validatePeerChain: trust", () => {
  it("a chain from another CA is unknown_ca", () => {
    const otherRoot = makeCa("other root");
    const stranger = makeLeaf("stranger", otherRoot);
    expectFail(check([stranger.der]), "unknown-ca", TlsAlert.unknown_ca, 0);
    // ...also when the peer sends its own root along (OpenSSL: SELF_SIGNED_CERT_IN_CHAIN)
    expectFail(check([stranger.der, otherRoot.der]), "unknown-ca", TlsAlert.unknown_ca, 1);
  });

  it("self-signed leaf: refused; allowed only with allowSelfSigned and checkCommonCa off", () => {
    const self = makeSelfSignedLeaf("lonely-device");
    expectFail(check([self.der]), "self-signed", TlsAlert.unknown_ca, 0);
    expectFail(check([self.der], { allowSelfSigned: true }), "self-signed", TlsAlert.unknown_ca);
    const r = check([self.der], { allowSelfSigned: true, checkCommonCa: false });
    assert.ok(r.ok);
    assert.deepEqual(r.overridden, ["self-signed"]);
    assert.equal(r.cn, "lonely-device");
  });

  it("a self-signed leaf that is in the trust store is trusted (pinned)", () => {
    const self = makeSelfSignedLeaf("pinned-device");
    const r = check([self.der], {}, trust.with([self.cert.info]));
    assert.ok(r.ok);
    assert.deepEqual(r.overridden, []);
  });

  it("an option given as undefined keeps its default (a missing config field never disables checks)", () => {
    const stranger = makeLeaf("stranger", makeCa("other root"));
    expectFail(check([stranger.der], { verifyPeerCert: undefined, checkCommonCa: undefined }), "unknown-ca", 48);
    expectFail(check([device.der], { certChainVerifyDepth: -1, validateCn: undefined }, new TrustStore()), "unknown-ca", 48);
    assert.equal(resolvePolicy({ certChainVerifyDepth: Number.NaN }).certChainVerifyDepth, 3);
  });

  it("verifyPeerCert = false accepts any chain, marked unverified", () => {
    const otherRoot = makeCa("other root");
    const expiredStranger = makeLeaf("x", otherRoot, { notAfter: new Date(T0 - DAY), notBefore: new Date(T0 - 9 * DAY) });
    for (const chain of [[expiredStranger.der], [makeSelfSignedLeaf("s").der], [tamper(device.der, -1)]]) {
      const r = check(chain, { verifyPeerCert: false }, new TrustStore());
      assert.ok(r.ok);
      assert.equal(r.verified, false);
    }
  });

  it("even unverified, the leaf must be parsable and P-256 (the engine verifies its signatures)", () => {
    const p384 = generateKeyPairSync("ec", { namedCurve: "P-384" });
    const leaf = makeLeaf("p384-device", root, { keyPair: p384 });
    expectFail(check([leaf.der], { verifyPeerCert: false }), "unsupported-key", TlsAlert.unsupported_certificate, 0);
    expectFail(check([leaf.der]), "unsupported-key", TlsAlert.unsupported_certificate, 0);
    expectFail(check([Uint8Array.of(0x30, 0x03, 0x02, 0x01, 0x00)], { verifyPeerCert: false }), "bad-encoding", 42, 0);
  });
});

describe("validatePeerChain: signatures and encoding", () => {
  it("a tampered signature value is bad_certificate", () => {
    // the last byte of the DER is the last byte of the signature's s INTEGER
    expectFail(check([tamper(device.der, -1)]), "bad-signature", TlsAlert.bad_certificate, 0);
  });

  it("a tampered TBS field (the subject CN) is bad_certificate", () => {
    const at = indexOfBytes(device.der, new TextEncoder().encode("device-001"));
    assert.ok(at > 0);
    const forged = tamper(device.der, at + 7); // device-001 → device-011
    expectFail(check([forged]), "bad-signature", TlsAlert.bad_certificate, 0);
  });

  it("a tampered intermediate signature is reported at its depth", () => {
    expectFail(check([deviceViaInter.der, tamper(inter.der, -1)]), "bad-signature", 42, 1);
  });

  it("no certificate: handshake_failure; garbage and trailing bytes: bad_certificate", () => {
    expectFail(check([]), "no-certificate", TlsAlert.handshake_failure);
    expectFail(check([Uint8Array.of(1, 2, 3)]), "bad-encoding", TlsAlert.bad_certificate, 0);
    expectFail(check([device.der, Uint8Array.of(0x30, 0x80)]), "bad-encoding", 42, 1);
    expectFail(check([der.concat([device.der, Uint8Array.of(0)])]), "bad-encoding", 42, 0);
    expectFail(check([device.der.subarray(0, device.der.length - 5)]), "bad-encoding", 42, 0);
  });

  it("mutated and truncated DER never throws: always a typed result", () => {
    const codes = new Set(["bad-encoding", "bad-signature", "unknown-ca", "unsupported-key", "expired", "not-yet-valid", "not-a-ca", "bad-key-usage", "unhandled-critical-extension", "self-signed"]);
    const outcomes = new Set<string>();
    fc.assert(
      fc.property(fc.nat(device.der.length - 1), fc.integer({ min: 1, max: 255 }), fc.nat(device.der.length), (i, x, cut) => {
        for (const bytes of [tamper(device.der, i, x), device.der.subarray(0, cut)]) {
          const r = check([bytes]);
          outcomes.add(r.ok ? "ok" : r.code);
          if (!r.ok && !codes.has(r.code)) return false;
        }
        return true;
      }),
      { numRuns: 300, seed: 42 },
    );
    assert.ok(outcomes.has("bad-encoding") && outcomes.has("bad-signature"), [...outcomes].join());
  });

  it("more than MAX_PEER_CHAIN certificates is refused before any parsing", () => {
    expectFail(check(Array.from({ length: 11 }, () => device.der)), "depth-exceeded", TlsAlert.unknown_ca);
  });
});

describe("validatePeerChain: chain depth and CA constraints", () => {
  const int1 = makeCa("int-1", root);
  const int2 = makeCa("int-2", int1);
  const deep = makeLeaf("deep-device", int2);
  const chain = [deep.der, int2.der, int1.der];

  it("certChainVerifyDepth counts intermediates (libcoap: depth d refused when d > depth + 1)", () => {
    assert.ok(check(chain).ok); // default 3
    assert.ok(check(chain, { certChainVerifyDepth: 2 }).ok);
    expectFail(check(chain, { certChainVerifyDepth: 1 }), "depth-exceeded", TlsAlert.unknown_ca, 3);
    expectFail(check([deviceViaInter.der, inter.der], { certChainVerifyDepth: 0 }), "depth-exceeded", 48, 2);
    assert.ok(check([device.der], { certChainVerifyDepth: 0 }).ok);
  });

  it("certChainValidation = false lifts the depth limit", () => {
    assert.ok(check(chain, { certChainVerifyDepth: 0, certChainValidation: false }).ok);
  });

  it("an issuer that is not a CA (basicConstraints cA false) is refused", () => {
    // keyUsage keyCertSign so OpenSSL's checkIssued still links it; only cA is wrong
    const fake = makeLeaf("not-a-ca", root, { keyUsage: KeyUsage.keyCertSign | KeyUsage.digitalSignature });
    const victim = makeLeaf("victim", fake);
    expectFail(check([victim.der, fake.der]), "not-a-ca", TlsAlert.unknown_ca, 1);
  });

  it("pathLenConstraint is enforced (RFC 5280 §4.2.1.9)", () => {
    const strict = makeCa("strict-int", root, { pathLen: 0 });
    const below = makeCa("below-int", strict);
    const leaf = makeLeaf("leaf", below);
    expectFail(check([leaf.der, below.der, strict.der]), "path-length-exceeded", TlsAlert.unknown_ca, 2);
    const direct = makeLeaf("direct", strict);
    assert.ok(check([direct.der, strict.der]).ok);
  });

  it("an unknown critical extension makes the certificate unusable (RFC 5280 §4.2)", () => {
    const odd = makeLeaf("odd", root, { extraExtensions: [{ oid: "1.3.6.1.4.1.55555.1", critical: true, value: der.seq() }] });
    expectFail(check([odd.der]), "unhandled-critical-extension", TlsAlert.certificate_unknown, 0);
    const fine = makeLeaf("fine", root, { extraExtensions: [{ oid: "1.3.6.1.4.1.55555.1", critical: false, value: der.seq() }] });
    assert.ok(check([fine.der]).ok);
  });
});

describe("validatePeerChain: key usage, purpose, revocation, host", () => {
  it("a leaf whose keyUsage lacks digitalSignature cannot sign the handshake", () => {
    const leaf = makeLeaf("ka-only", root, { keyUsage: KeyUsage.keyAgreement });
    expectFail(check([leaf.der]), "bad-key-usage", TlsAlert.unsupported_certificate, 0);
  });

  it("extKeyUsage must allow the peer's role when a purpose is given", () => {
    const clientOnly = makeLeaf("client-only", root, { extKeyUsage: [Oid.clientAuth] });
    expectFail(check([clientOnly.der], { purpose: "server" }), "bad-key-usage", 43);
    assert.ok(check([clientOnly.der], { purpose: "client" }).ok);
    assert.ok(check([clientOnly.der]).ok);
  });

  it("revocation: no CRL support, so allowNoCrl = false refuses and the default is a no-op", () => {
    expectFail(check([device.der], { checkCertRevocation: true, allowNoCrl: false }), "crl-unavailable", 48);
    assert.ok(check([device.der], { checkCertRevocation: true }).ok);
  });

  it("host: DNS and IP subjectAltName entries (checkHost / checkIP)", () => {
    const server = makeLeaf("coaps-server", root, { dnsNames: ["localhost", "gw.example"], ipAddresses: ["127.0.0.1", "::1"] });
    for (const host of ["localhost", "gw.example", "127.0.0.1", "::1", "[::1]"]) {
      assert.ok(check([server.der], { host }).ok, host);
    }
    for (const host of ["example.com", "10.0.0.1", "::2"]) {
      expectFail(check([server.der], { host }), "host-mismatch", TlsAlert.bad_certificate, 0);
    }
  });
});

describe("validatePeerChain: CN callback", () => {
  it("is called root first, leaf last, with DER, depth and validated", () => {
    const calls: Array<[string, number, boolean, boolean]> = [];
    const r = check([deviceViaInter.der, inter.der], {
      validateCn: (cn, certDer, depth, validated) => {
        calls.push([cn, depth, validated, certDer.length > 100]);
        return true;
      },
    });
    assert.ok(r.ok);
    assert.deepEqual(calls, [
      ["test root", 2, true, true],
      ["test intermediate", 1, true, true],
      ["device-002", 0, true, true],
    ]);
  });

  it("refusing the leaf's CN is access_denied", () => {
    const r = check([device.der], { validateCn: (cn) => cn !== "device-001" });
    expectFail(r, "cn-rejected", TlsAlert.access_denied, 0);
    assert.ok(check([device.der], { validateCn: (cn, _d, depth) => depth > 0 || cn === "device-001" }).ok);
  });

  it("refusing a CA, or throwing, also refuses", () => {
    expectFail(check([device.der], { validateCn: (_cn, _d, depth) => depth === 0 }), "cn-rejected", 49, 1);
    expectFail(
      check([device.der], {
        validateCn: () => {
          throw new Error("callback bug");
        },
      }),
      "cn-rejected",
      49,
    );
  });

  it("validated is false for a certificate whose check was overridden", () => {
    const expired = makeLeaf("old", root, { notBefore: new Date(T0 - 60 * DAY), notAfter: new Date(T0 - DAY) });
    const seen: boolean[] = [];
    const r = check([expired.der], { allowExpiredCerts: true, validateCn: (_c, _d, _depth, v) => (seen.push(v), true) });
    assert.ok(r.ok);
    assert.deepEqual(seen, [true, false]); // root fine, leaf expired-but-allowed
  });
});

describe("validatePeerChain: a real OpenSSL PKI", () => {
  const vector = JSON.parse(readFileSync(new URL("../../vectors/dtls/openssl-ecdhe-ecdsa-aes128-ccm8.json", import.meta.url), "utf8")) as Record<string, string>;

  it("accepts OpenSSL's server and client certificates under its CA", () => {
    const store = loadTrustStore(vector.ca_cert_pem as string);
    const server = loadTrustStore(vector.server_cert_pem as string).certificates[0];
    const client = loadTrustStore(vector.client_cert_pem as string).certificates[0];
    assert.ok(server && client);
    const at = server.notBefore + DAY;
    const rs = validatePeerChain([server.der], store, { purpose: "server" }, at);
    assert.ok(rs.ok, rs.ok ? "" : rs.message);
    assert.equal(rs.cn, server.commonName);
    const rc = validatePeerChain([client.der], store, { purpose: "client" }, at);
    assert.ok(rc.ok, rc.ok ? "" : rc.message);
    expectFail(validatePeerChain([server.der], trust, {}, at), "unknown-ca", 48);
  });
});

describe("validatePeerChain: parsed certificates are reused, checks are not", () => {
  it("the same bytes again: validity, trust and signatures are still checked per call", () => {
    const leaf = makeLeaf("reconnecting-device", root);
    assert.ok(check([leaf.der]).ok);
    // the same certificate later, past its notAfter: refused, although its parse is cached
    expectFail(check([leaf.der], {}, trust, leaf.cert.info.notAfter + 1000), "expired", TlsAlert.certificate_expired, 0);
    // the same bytes against a store without its root: unknown CA
    const otherRoot = makeCa("other root");
    expectFail(check([leaf.der], {}, new TrustStore([otherRoot.cert.info])), "unknown-ca", TlsAlert.unknown_ca);
    // one byte of the signature changed after the good one was seen: a different certificate
    expectFail(check([tamper(leaf.der, -1)]), "bad-signature", TlsAlert.bad_certificate, 0);
    assert.ok(check([new Uint8Array(leaf.der)]).ok, "a copy of the bytes (another datagram) is the same certificate");
  });

  it("a view into a larger buffer (a datagram) is read by its own bytes only", () => {
    const leaf = makeLeaf("framed-device", root);
    const framed = new Uint8Array(leaf.der.length + 20).fill(0xee);
    framed.set(leaf.der, 10);
    const r = check([framed.subarray(10, 10 + leaf.der.length)]);
    assert.ok(r.ok);
    assert.equal(r.cn, "framed-device");
  });
});
