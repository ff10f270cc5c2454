import assert from "node:assert/strict";
import { generateKeyPairSync, type KeyObject } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import {
  PkiError,
  ecdsaSign,
  ecdsaVerify,
  loadCertificates,
  loadCredentials,
  loadPrivateKey,
  loadTrustStore,
  parsePem,
  toPem,
  type PkiErrorCode,
} from "../../../edge-agent/src/pki/index.js";
import { makeCa, makeLeaf } from "../../helpers/pki.js";

const root = makeCa("cred root");
const inter = makeCa("cred intermediate", root);
const device = makeLeaf("device-001", inter);
const other = makeLeaf("device-002", inter);

const pkcs8Pem = device.key.export({ type: "pkcs8", format: "pem" }) as string;
const sec1Pem = device.key.export({ type: "sec1", format: "pem" }) as string;
const pkcs8Der = new Uint8Array(device.key.export({ type: "pkcs8", format: "der" }));
const sec1Der = new Uint8Array(device.key.export({ type: "sec1", format: "der" }));
const chainPem = device.cert.pem + inter.cert.pem;

const dir = mkdtempSync(join(tmpdir(), "coaps-pki-cred-"));
after(() => rmSync(dir, { recursive: true, force: true }));
function file(name: string, content: string | Uint8Array): string {
  const path = join(dir, name);
  writeFileSync(path, content);
  return path;
}

function throwsCode(fn: () => unknown, code: PkiErrorCode): void {
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof PkiError, String(e));
    assert.equal(e.code, code, e.message);
    return true;
  });
}

/** The loaded key signs what the certificate's key verifies. */
function assertPair(key: KeyObject, cert: { publicKey: KeyObject }): void {
  const msg = new TextEncoder().encode("pair check");
  assert.ok(ecdsaVerify(cert.publicKey, msg, ecdsaSign(key, msg)));
}

describe("loadCredentials", () => {
  it("PEM files: chain (leaf + intermediate) and PKCS#8 key", () => {
    const c = loadCredentials({ path: file("dev.crt", chainPem) }, { path: file("dev.key", pkcs8Pem) });
    assert.equal(c.chain.length, 2);
    assert.deepEqual(c.chainDer, [device.der, inter.der]);
    assert.equal(c.leaf.commonName, "device-001");
    assert.equal(c.chain[0]?.subject, "CN=device-001");
    assertPair(c.key, c.leaf);
    assert.equal(c.publicKey.export({ format: "jwk" }).x, c.leaf.publicKey.export({ format: "jwk" }).x);
  });

  it("PEM strings and PEM buffers (libcoap COAP_PKI_KEY_PEM_BUF)", () => {
    const a = loadCredentials(chainPem, pkcs8Pem);
    const b = loadCredentials(new TextEncoder().encode(chainPem), { pem: new TextEncoder().encode(sec1Pem) });
    const c = loadCredentials({ pem: chainPem }, { pem: sec1Pem });
    for (const x of [a, b, c]) {
      assert.equal(x.chain.length, 2);
      assertPair(x.key, x.leaf);
    }
  });

  it("DER (libcoap COAP_PKI_KEY_ASN1): one certificate or a chain, PKCS#8 or SEC1 keys", () => {
    const a = loadCredentials({ der: device.der }, { der: pkcs8Der });
    const b = loadCredentials(device.der, sec1Der);
    const c = loadCredentials({ der: [device.der, inter.der] }, { path: file("dev.der.key", sec1Der) });
    assert.equal(a.chain.length, 1);
    assert.equal(b.chain.length, 1);
    assert.equal(c.chain.length, 2);
    for (const x of [a, b, c]) assertPair(x.key, x.leaf);
  });

  it("a DER certificate file and a PEM file holding key and certificate together", () => {
    const c = loadCredentials({ path: file("dev.der", device.der) }, { path: file("both.pem", `${sec1Pem}${chainPem}`) });
    assertPair(c.key, c.leaf);
    assert.equal(loadCertificates({ path: file("both2.pem", `${pkcs8Pem}${chainPem}`) }).length, 2);
  });

  it("openssl ecparam -genkey output (EC PARAMETERS before the key) loads", () => {
    const params = "-----BEGIN EC PARAMETERS-----\nBggqhkjOPQMBBw==\n-----END EC PARAMETERS-----\n";
    assertPair(loadPrivateKey(params + sec1Pem), device.cert.info);
  });

  it("a key that belongs to another certificate is key-mismatch", () => {
    throwsCode(() => loadCredentials(other.cert.pem, pkcs8Pem), "key-mismatch");
  });

  it("non-P-256 keys are unsupported-key (P-384, RSA, Ed25519)", () => {
    const p384 = generateKeyPairSync("ec", { namedCurve: "P-384" }).privateKey;
    const rsa = generateKeyPairSync("rsa", { modulusLength: 1024 }).privateKey;
    const ed = generateKeyPairSync("ed25519").privateKey;
    throwsCode(() => loadPrivateKey(p384.export({ type: "sec1", format: "pem" }) as string), "unsupported-key");
    throwsCode(() => loadPrivateKey(rsa.export({ type: "pkcs8", format: "pem" }) as string), "unsupported-key");
    throwsCode(() => loadPrivateKey(rsa.export({ type: "pkcs1", format: "pem" }) as string), "unsupported-key");
    throwsCode(() => loadPrivateKey(new Uint8Array(ed.export({ type: "pkcs8", format: "der" }))), "unsupported-key");
    const p384Leaf = makeLeaf("p384", inter, { keyPair: generateKeyPairSync("ec", { namedCurve: "P-384" }) });
    throwsCode(() => loadCredentials(p384Leaf.cert.pem, pkcs8Pem), "unsupported-key");
  });

  it("encrypted keys are refused with encrypted-key (PKCS#8 and legacy SEC1)", () => {
    const enc8 = device.key.export({ type: "pkcs8", format: "pem", cipher: "aes-128-cbc", passphrase: "pw" }) as string;
    const encSec1 = device.key.export({ type: "sec1", format: "pem", cipher: "aes-128-cbc", passphrase: "pw" }) as string;
    const enc8Der = new Uint8Array(device.key.export({ type: "pkcs8", format: "der", cipher: "aes-128-cbc", passphrase: "pw" }));
    assert.match(encSec1, /Proc-Type: 4,ENCRYPTED/);
    throwsCode(() => loadPrivateKey(enc8), "encrypted-key");
    throwsCode(() => loadPrivateKey(encSec1), "encrypted-key");
    throwsCode(() => loadPrivateKey({ der: enc8Der }), "encrypted-key");
  });

  it("bad inputs have clear codes", () => {
    throwsCode(() => loadCertificates({ path: join(dir, "missing.crt") }), "read-failed");
    throwsCode(() => loadCertificates("/etc/ssl/not-pem-text.crt"), "bad-pem");
    throwsCode(() => loadCertificates(pkcs8Pem), "no-certificate");
    throwsCode(() => loadCertificates({ der: Uint8Array.of(0x30, 0x00) }), "bad-certificate");
    throwsCode(() => loadCertificates("-----BEGIN CERTIFICATE-----\n@@@@\n-----END CERTIFICATE-----\n"), "bad-pem");
    throwsCode(() => loadPrivateKey(device.cert.pem), "bad-key");
    throwsCode(() => loadPrivateKey({ der: Uint8Array.of(1, 2, 3) }), "bad-key");
    throwsCode(() => loadTrustStore(), "no-certificate");
  });
});

describe("trust store", () => {
  it("a PEM bundle with many CAs, duplicates dropped, subject names for CertificateRequest", () => {
    const other = makeCa("other root");
    const store = loadTrustStore({ path: file("cas.pem", root.cert.pem + "\n# comment\n" + other.cert.pem + root.cert.pem) });
    assert.equal(store.size, 2);
    assert.deepEqual(
      store.certificates.map((c) => c.commonName),
      ["cred root", "other root"],
    );
    assert.ok(store.has(root.cert.info));
    assert.ok(!store.has(inter.cert.info));
    assert.deepEqual(store.subjectNames(), [root.cert.info.subjectDer, other.cert.info.subjectDer]);
    // the subject Name DER is the issuer Name DER of what the CA signed
    assert.deepEqual(inter.cert.info.issuerDer, root.cert.info.subjectDer);
    const both = loadTrustStore(root.der, { pem: inter.cert.pem });
    assert.equal(both.size, 2);
    assert.equal(store.with(both).size, 3);
  });

  it("PEM parsing round-trips and ignores text around blocks", () => {
    const text = `subject=CN=x\n${toPem("CERTIFICATE", device.der)}trailing text\n`;
    const [block] = parsePem(text);
    assert.equal(block?.label, "CERTIFICATE");
    assert.deepEqual(block?.der, device.der);
    assert.equal(toPem("CERTIFICATE", device.der), device.cert.pem);
  });
});
