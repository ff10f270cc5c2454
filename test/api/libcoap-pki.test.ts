/**
 * Parity row "coap_new_client_session_pki(..., setup)": PEM files, PEM buffers and DER; the
 * coap_dtls_pki_t knobs verify_peer_cert, check_common_ca, allow_self_signed,
 * allow_expired_certs, cert_chain_validation + depth, validate_cn_call_back, client_sni; the
 * context's root CAs (coap_context_set_pki_root_cas); DTLS and TLS. Peers: coap-server-openssl
 * with -c/-j (and -C, which makes it ask for and validate our certificate), and CoapSecure where
 * a chain with an intermediate must be sent (libcoap 4.3.1 sends only its leaf).
 */
import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import {
  COAP_BLOCK_USE_LIBCOAP,
  CoapContext,
  CoapSecure,
  CoapSessionError,
  coapDtlsPkiIsSupported,
  newClientSessionPki,
  type CoapDtlsPki,
} from "../../edge-agent/src/api/index.js";
import { createCertificate, generateP256KeyPair, generateTestPki, parsePem, writeTestPki } from "../../edge-agent/src/pki/index.js";
import { findBinary, freeUdpPortPair, requireBinary, start, waitForUdp, type RunningProcess } from "../helpers/libcoap.js";

const SERVER = "coap-server-openssl";
const skip = coapDtlsPkiIsSupported() ? false : "the DTLS engine has no ECDHE_ECDSA yet";
const text = (b: Uint8Array) => Buffer.from(b).toString("utf8");
const failed = (code: string) => (e: unknown) => e instanceof CoapSessionError && e.code === code;
const dir = mkdtempSync(join(tmpdir(), "api-pki-"));
const procs: RunningProcess[] = [];
let ctx: CoapContext;

// Our PKI (CA → server "localhost", device), a chain with an intermediate, a foreign CA,
// an expired server and a self-signed server.
const main = generateTestPki({ devices: 1 });
const chained = generateTestPki({ caCommonName: "chain root", intermediate: "chain intermediate", devices: 0 });
const foreign = generateTestPki({ caCommonName: "foreign CA", devices: 0 });
const expired = generateTestPki({ caCommonName: "expired CA", devices: 0, notBefore: new Date(Date.now() - 20 * 86_400_000), notAfter: new Date(Date.now() - 86_400_000) });
writeTestPki(main, join(dir, "main"));
writeTestPki(chained, join(dir, "chained"));
writeTestPki(foreign, join(dir, "foreign"));
writeTestPki(expired, join(dir, "expired"));
const selfPair = generateP256KeyPair();
const selfSigned = createCertificate({
  subject: "self-signed server",
  publicKey: selfPair.publicKey,
  signingKey: selfPair.privateKey,
  notBefore: new Date(Date.now() - 3_600_000),
  notAfter: new Date(Date.now() + 86_400_000),
});
mkdirSync(join(dir, "self"));
writeFileSync(join(dir, "self", "server.crt"), selfSigned.pem);
writeFileSync(join(dir, "self", "server.key"), selfPair.privateKey.export({ type: "pkcs8", format: "pem" }) as string);
const device = main.devices[0];
const f = (...p: string[]) => join(dir, ...p);

/** Starts coap-server-openssl with these certificate files; resolves with its DTLS (and TLS) port. */
async function server(args: string[]): Promise<number> {
  const bin = findBinary(SERVER);
  if (!bin) return 0;
  const port = await freeUdpPortPair();
  procs.push(start(bin, ["-A", "127.0.0.1", "-p", String(port), ...args]));
  await waitForUdp(port);
  return port + 1;
}

let mutualPort = 0; // main server, validating our certificate against main CA
let foreignPort = 0;
let expiredPort = 0;
let selfPort = 0;

before(async () => {
  ctx = new CoapContext({ connectTimeoutMs: 3000, requestTimeoutMs: 5000 });
  ctx.setBlockMode(COAP_BLOCK_USE_LIBCOAP);
  if (skip) return;
  [mutualPort, foreignPort, expiredPort, selfPort] = await Promise.all([
    server(["-c", f("main", "server.crt"), "-j", f("main", "server.key"), "-C", f("main", "ca.crt")]),
    server(["-c", f("foreign", "server.crt"), "-j", f("foreign", "server.key")]),
    server(["-c", f("expired", "server.crt"), "-j", f("expired", "server.key")]),
    server(["-c", f("self", "server.crt"), "-j", f("self", "server.key")]),
  ]);
});
after(async () => {
  await ctx.free();
  await Promise.all(procs.map((p) => p.stop()));
  rmSync(dir, { recursive: true, force: true });
});

const mainFiles: CoapDtlsPki = {
  pkiKey: { keyType: "pem", caFile: f("main", "ca.crt"), publicCert: f("main", `${device?.commonName}.crt`), privateKey: f("main", `${device?.commonName}.key`) },
};

describe("coap_new_client_session_pki against coap-server-openssl", { skip }, () => {
  it("mutual authentication from PEM files (COAP_PKI_KEY_PEM)", async (t) => {
    if (!requireBinary(t, SERVER)) return;
    const s = await newClientSessionPki(ctx, { server: { address: "127.0.0.1", port: mutualPort }, proto: "dtls" }, mainFiles).connected();
    assert.equal(s.dtlsSession?.cipherSuite.name, "TLS_ECDHE_ECDSA_WITH_AES_128_CCM_8");
    assert.equal(s.dtlsSession?.identity.kind, "x509");
    assert.equal(s.dtlsSession?.identity.identity, "localhost");
    assert.match(text((await s.request({ path: "/" })).payload), /libcoap/);
    await s.release();
  });

  it("PEM buffers (COAP_PKI_KEY_PEM_BUF) and DER (COAP_PKI_KEY_ASN1)", async (t) => {
    if (!requireBinary(t, SERVER) || !device) return;
    const buf = await newClientSessionPki(ctx, { server: { address: "127.0.0.1", port: mutualPort }, proto: "dtls" }, {
      pkiKey: { keyType: "pem_buf", caCert: main.ca.cert.pem, publicCert: Buffer.from(device.chainPem), privateKey: device.keyPem },
    }).connected();
    assert.equal(buf.dtlsSession?.identity.identity, "localhost");
    await buf.release();
    const keyDer = parsePem(device.keyPem)[0]?.der;
    const der = await newClientSessionPki(ctx, { server: { address: "127.0.0.1", port: mutualPort }, proto: "dtls" }, {
      pkiKey: { keyType: "asn1", caCert: main.ca.cert.der, publicCert: device.cert.der, ...(keyDer ? { privateKey: keyDer } : {}) },
    }).connected();
    assert.match(text((await der.request({ path: "/" })).payload), /libcoap/);
    await der.release();
  });

  it("without our certificate a validating server refuses us", async (t) => {
    if (!requireBinary(t, SERVER)) return;
    await assert.rejects(
      async () => newClientSessionPki(ctx, { server: { address: "127.0.0.1", port: mutualPort }, proto: "dtls" }, { pkiKey: { keyType: "pem", caFile: f("main", "ca.crt") } }).connected(),
      failed("handshake-failed"),
    );
  });

  it("verify_peer_cert: a server from an unknown CA fails; with 0 it is accepted", async (t) => {
    if (!requireBinary(t, SERVER)) return;
    const to = { server: { address: "127.0.0.1", port: foreignPort }, proto: "dtls" } as const;
    await assert.rejects(async () => newClientSessionPki(ctx, to, mainFiles).connected(), failed("handshake-failed"));
    const s = await newClientSessionPki(ctx, to, { ...mainFiles, verifyPeerCert: false }).connected();
    assert.match(text((await s.request({ path: "/" })).payload), /libcoap/);
    await s.release();
  });

  it("validate_cn_call_back sees the chain (CA first, leaf last) and can refuse", async (t) => {
    if (!requireBinary(t, SERVER)) return;
    const seen: Array<[string, number, boolean]> = [];
    const s = await newClientSessionPki(ctx, { server: { address: "127.0.0.1", port: mutualPort }, proto: "dtls" }, {
      ...mainFiles,
      validateCn: (cn, der, depth, validated) => {
        assert.ok(der.length > 100);
        seen.push([cn, depth, validated]);
        return true;
      },
    }).connected();
    await s.release();
    assert.deepEqual(seen.at(-1), ["localhost", 0, true]);
    assert.ok(seen.some(([cn]) => cn === "coaps-edge test CA"), JSON.stringify(seen));
    await assert.rejects(
      async () => newClientSessionPki(ctx, { server: { address: "127.0.0.1", port: mutualPort }, proto: "dtls" }, { ...mainFiles, validateCn: (cn) => cn !== "localhost" }).connected(),
      failed("handshake-failed"),
    );
  });

  it("check_common_ca / allow_self_signed with a self-signed server", async (t) => {
    if (!requireBinary(t, SERVER)) return;
    const to = { server: { address: "127.0.0.1", port: selfPort }, proto: "dtls" } as const;
    const noCa = { pkiKey: { keyType: "pem" as const } };
    await assert.rejects(async () => newClientSessionPki(ctx, to, { ...noCa, allowSelfSigned: true }).connected(), failed("handshake-failed"), "check_common_ca (default on) wins");
    await assert.rejects(async () => newClientSessionPki(ctx, to, { ...noCa, checkCommonCa: false, allowSelfSigned: false }).connected(), failed("handshake-failed"));
    const s = await newClientSessionPki(ctx, to, { ...noCa, checkCommonCa: false, allowSelfSigned: true }).connected();
    assert.equal(s.dtlsSession?.identity.identity, "self-signed server");
    await s.release();
  });

  it("allow_expired_certs", async (t) => {
    if (!requireBinary(t, SERVER)) return;
    const to = { server: { address: "127.0.0.1", port: expiredPort }, proto: "dtls" } as const;
    const setup: CoapDtlsPki = { pkiKey: { keyType: "pem", caFile: f("expired", "ca.crt") } };
    await assert.rejects(async () => newClientSessionPki(ctx, to, setup).connected(), failed("handshake-failed"));
    const s = await newClientSessionPki(ctx, to, { ...setup, allowExpiredCerts: true }).connected();
    await s.release();
  });

  it("cert_chain_validation + cert_chain_verify_depth (one intermediate CA)", async () => {
    // libcoap 4.3.1 sends only the leaf of its -c file; our CoapSecure sends leaf + intermediate.
    const srv = new CoapSecure({ address: "127.0.0.1", guardTimeMs: 20 });
    srv.setCertificate(chained.server?.chainPem ?? "", chained.server?.keyPem ?? "");
    srv.setSslAuthMode(false);
    await srv.start(0);
    try {
      const to = { server: { address: "127.0.0.1", port: srv.local?.port ?? 0 }, proto: "dtls" } as const;
      const setup: CoapDtlsPki = { pkiKey: { keyType: "pem", caFile: f("chained", "ca.crt") } };
      const ok = await newClientSessionPki(ctx, to, { ...setup, certChainValidation: true, certChainVerifyDepth: 1 }).connected();
      await ok.release();
      await assert.rejects(async () => newClientSessionPki(ctx, to, { ...setup, certChainValidation: true, certChainVerifyDepth: 0 }).connected(), failed("handshake-failed"));
      const unchecked = await newClientSessionPki(ctx, to, { ...setup, certChainValidation: false, certChainVerifyDepth: 0 }).connected();
      await unchecked.release();
    } finally {
      await srv.stop();
    }
  });

  it("coap_context_set_pki_root_cas: CAs from a file or a directory join the session's trust", async (t) => {
    if (!requireBinary(t, SERVER)) return;
    const to = { server: { address: "127.0.0.1", port: foreignPort }, proto: "dtls" } as const;
    const noCa: CoapDtlsPki = { pkiKey: { keyType: "pem" } };
    const c1 = new CoapContext({ connectTimeoutMs: 3000 });
    await assert.rejects(async () => newClientSessionPki(c1, to, noCa).connected(), failed("handshake-failed"));
    c1.setPkiRootCas(f("foreign", "ca.crt"));
    const s1 = await newClientSessionPki(c1, to, noCa).connected();
    assert.equal(s1.dtlsSession?.identity.identity, "localhost");
    await c1.free();
    const c2 = new CoapContext({ connectTimeoutMs: 3000 });
    c2.setPkiRootCas(undefined, f("foreign"));
    const s2 = await newClientSessionPki(c2, to, noCa).connected();
    await s2.release();
    assert.throws(() => c2.setPkiRootCas(f("no-such-file.pem")), failed("bad-credentials"));
  });

  it("COAP_PROTO_TLS with certificates", async (t) => {
    if (!requireBinary(t, SERVER)) return;
    const s = await newClientSessionPki(ctx, { server: { address: "127.0.0.1", port: mutualPort }, proto: "tls" }, mainFiles).connected();
    assert.match(text((await s.request({ path: "/" })).payload), /libcoap/);
    await s.release();
  });

  it("what does not apply or load is refused: PKCS#11, RPK, a certificate without its key, a missing file", async () => {
    const to = { server: { address: "127.0.0.1", port: 9 }, proto: "dtls" } as const;
    await assert.rejects(async () => newClientSessionPki(ctx, to, { pkiKey: { keyType: "pkcs11" } }).connected(), failed("not-supported"));
    await assert.rejects(async () => newClientSessionPki(ctx, to, { ...mainFiles, isRpkNotCert: true }).connected(), failed("not-supported"));
    await assert.rejects(async () => newClientSessionPki(ctx, to, { pkiKey: { keyType: "pem", publicCert: f("main", "server.crt") } }).connected(), failed("bad-credentials"));
    await assert.rejects(async () => newClientSessionPki(ctx, to, { pkiKey: { keyType: "pem", caFile: f("nope.crt") } }).connected(), failed("bad-credentials"));
  });
});

describe("coap_new_client_session_pki against CoapSecure: client_sni", { skip }, () => {
  it("the server sees the SNI", async () => {
    const srv = new CoapSecure({ address: "127.0.0.1", guardTimeMs: 20 });
    srv.setCertificate(main.server?.chainPem ?? "", main.server?.keyPem ?? "");
    srv.setCaCertificateChain(main.ca.cert.pem);
    await srv.start(0);
    try {
      const s = await newClientSessionPki(ctx, { server: { address: "127.0.0.1", port: srv.local?.port ?? 0 }, proto: "dtls" }, { ...mainFiles, clientSni: "localhost" }).connected();
      assert.equal(srv.sessions()[0]?.sni, "localhost");
      assert.equal(srv.sessions()[0]?.identity.identity, device?.commonName);
      await s.release();
    } finally {
      await srv.stop();
    }
  });
});
