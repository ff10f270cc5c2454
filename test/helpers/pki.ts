/**
 * Test PKI builders: CAs, intermediates and leaves in memory (EC P-256, ~1 ms each), with
 * validity relative to a fixed instant `T0` so validation tests pass `now: T0` and never
 * depend on the machine clock. Also: openssl presence (skip locally, fail in CI) and a
 * one-byte DER tamper; a whole test PKI written to a temporary directory for CLI peers.
 */
import { spawnSync } from "node:child_process";
import type { KeyObject } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  createCertificate,
  generateP256KeyPair,
  generateTestPki,
  loadCredentials,
  loadTrustStore,
  writeTestPki,
  type CertificateSpec,
  type Credentials,
  type GeneratedCertificate,
  type TestPki,
  type TestPkiOptions,
  type TrustStore,
} from "../../edge-agent/src/pki/index.js";

/** The fixed "now" of validation tests: 2030-01-01T00:00:00Z. */
export const T0 = Date.UTC(2030, 0, 1);
export const DAY = 86_400_000;

export interface TestIdentity {
  readonly cert: GeneratedCertificate;
  readonly key: KeyObject;
  readonly der: Uint8Array;
}

type Extra = Partial<Omit<CertificateSpec, "subject" | "publicKey" | "issuer" | "signingKey">> & {
  /** Use this key pair instead of a fresh P-256 one (e.g. a P-384 subject key). */
  readonly keyPair?: { readonly privateKey: KeyObject; readonly publicKey: KeyObject };
};

function identity(cert: GeneratedCertificate, key: KeyObject): TestIdentity {
  return { cert, key, der: cert.der };
}

/** A CA valid T0 ± 10 years: a self-signed root, or an intermediate when `issuer` is given. */
export function makeCa(commonName: string, issuer?: TestIdentity, { keyPair, ...extra }: Extra = {}): TestIdentity {
  const pair = keyPair ?? generateP256KeyPair();
  const cert = createCertificate({
    subject: commonName,
    publicKey: pair.publicKey,
    ...(issuer ? { issuer: { cert: issuer.cert.info, key: issuer.key } } : { signingKey: pair.privateKey }),
    ca: true,
    notBefore: new Date(T0 - 3650 * DAY),
    notAfter: new Date(T0 + 3650 * DAY),
    ...extra,
  });
  return identity(cert, pair.privateKey);
}

/** An end-entity certificate valid T0 ± 30 days unless `extra` says otherwise. */
export function makeLeaf(commonName: string, issuer: TestIdentity, { keyPair, ...extra }: Extra = {}): TestIdentity {
  const pair = keyPair ?? generateP256KeyPair();
  const cert = createCertificate({
    subject: commonName,
    publicKey: pair.publicKey,
    issuer: { cert: issuer.cert.info, key: issuer.key },
    notBefore: new Date(T0 - 30 * DAY),
    notAfter: new Date(T0 + 30 * DAY),
    ...extra,
  });
  return identity(cert, pair.privateKey);
}

/** A self-signed end-entity certificate (not a CA). */
export function makeSelfSignedLeaf(commonName: string, { keyPair, ...extra }: Extra = {}): TestIdentity {
  const pair = keyPair ?? generateP256KeyPair();
  const cert = createCertificate({
    subject: commonName,
    publicKey: pair.publicKey,
    signingKey: pair.privateKey,
    notBefore: new Date(T0 - 30 * DAY),
    notAfter: new Date(T0 + 30 * DAY),
    ...extra,
  });
  return identity(cert, pair.privateKey);
}

/** A copy of `der` with one byte XORed (index counted from the end when negative). */
export function tamper(der: Uint8Array, index: number, xor = 0x01): Uint8Array {
  const out = new Uint8Array(der);
  const i = index < 0 ? out.length + index : index;
  out[i] = (out[i] as number) ^ xor;
  return out;
}

/** Byte offset of `needle` in `hay` (tests locate fields to tamper), or -1. */
export function indexOfBytes(hay: Uint8Array, needle: Uint8Array): number {
  outer: for (let i = 0; i + needle.length <= hay.length; i++) {
    for (let j = 0; j < needle.length; j++) if (hay[i + j] !== needle[j]) continue outer;
    return i;
  }
  return -1;
}

/**
 * True when the openssl CLI runs. When it does not: throws in CI (a missing peer is a failure
 * there), else returns false so the caller can skip with a message.
 */
export function haveOpenssl(): boolean {
  const r = spawnSync("openssl", ["version"], { encoding: "utf8" });
  if (r.status === 0) return true;
  if (process.env.CI === "true") throw new Error("openssl CLI is missing (required in CI)");
  return false;
}

/** Runs openssl with args; returns status and combined output. */
export function openssl(args: readonly string[], input?: string): { status: number | null; out: string } {
  const r = spawnSync("openssl", args, { encoding: "utf8", input, timeout: 10_000 });
  return { status: r.status, out: `${r.stdout ?? ""}${r.stderr ?? ""}` };
}

/**
 * A test PKI written as PEM files to a fresh temporary directory (for openssl / gnutls peers):
 * `ca.crt`, `server.crt|key`, `device-001.crt|key`, ... (leaf files hold the leaf, then the
 * intermediate if any). `remove()` deletes the directory.
 */
export function writeTempPki(options: TestPkiOptions = {}): { readonly dir: string; readonly pki: TestPki; file(name: string): string; remove(): void } {
  const dir = mkdtempSync(join(tmpdir(), "coaps-edge-pki-"));
  const pki = generateTestPki(options);
  writeTestPki(pki, dir, { overwrite: true });
  return { dir, pki, file: (name) => join(dir, name), remove: () => rmSync(dir, { recursive: true, force: true }) };
}

/** A temporary test PKI (one device) written to disk and loaded as the DTLS engine takes it. */
export interface LoadedTempPki extends ReturnType<typeof writeTempPki> {
  readonly server: Credentials;
  readonly device: Credentials;
  readonly trust: TrustStore;
}

/** writeTempPki({ devices: 1 }) plus the server's and device-001's credentials and the CA trust store. */
export function loadTempPki(): LoadedTempPki {
  const files = writeTempPki({ devices: 1 });
  const creds = (who: string) => loadCredentials({ path: files.file(`${who}.crt`) }, { path: files.file(`${who}.key`) });
  return { ...files, server: creds("server"), device: creds("device-001"), trust: loadTrustStore({ path: files.file("ca.crt") }) };
}
