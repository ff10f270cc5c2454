/**
 * ECDHE key handling micro-benchmark: the ECDH math is not the whole cost of a key exchange —
 * moving keys in and out of node:crypto KeyObjects can cost more. Compares, for X25519, the
 * SPKI-DER route (OpenSSL 3's encoder/decoder framework) with the JWK route (raw key bytes),
 * and P-256 through createECDH (raw points, no KeyObject at all).
 * Run alone: node --import tsx bench/micro/ecdhe-keys.ts [seconds-per-case]
 */
import { createECDH, createPublicKey, diffieHellman, generateKeyPairSync } from "node:crypto";
import { microTable, runCases, type MicroCase } from "./measure.js";

/** SubjectPublicKeyInfo prefix of an X25519 key (RFC 8410): the 32 raw bytes follow. */
const X25519_SPKI_PREFIX = Buffer.from("302a300506032b656e032100", "hex");

const own = generateKeyPairSync("x25519");
const peer = generateKeyPairSync("x25519");
const peerRaw = peer.publicKey.export({ type: "spki", format: "der" }).subarray(X25519_SPKI_PREFIX.length);
const peerB64 = peerRaw.toString("base64url");
// Both routes must give the same key.
const viaJwk = createPublicKey({ key: { kty: "OKP", crv: "X25519", x: peerB64 }, format: "jwk" });
if (!viaJwk.equals(createPublicKey({ key: Buffer.concat([X25519_SPKI_PREFIX, peerRaw]), format: "der", type: "spki" }))) throw new Error("JWK and DER imports differ");
if (Buffer.from(own.publicKey.export({ format: "jwk" }).x!, "base64url").compare(own.publicKey.export({ type: "spki", format: "der" }).subarray(12)) !== 0) {
  throw new Error("JWK and DER exports differ");
}
const p256 = createECDH("prime256v1");
p256.generateKeys();
const p256Peer = createECDH("prime256v1").generateKeys();

export function ecdheKeyCases(): MicroCase[] {
  return [
    { group: "x25519", name: "generateKeyPairSync", fn: () => generateKeyPairSync("x25519") },
    { group: "x25519", name: "export raw public via SPKI DER", fn: () => own.publicKey.export({ type: "spki", format: "der" }), note: "OpenSSL 3 encoder" },
    { group: "x25519", name: "export raw public via JWK", fn: () => own.publicKey.export({ format: "jwk" }), note: "raw bytes, base64url" },
    { group: "x25519", name: "import peer public via SPKI DER", fn: () => createPublicKey({ key: Buffer.concat([X25519_SPKI_PREFIX, peerRaw]), format: "der", type: "spki" }), note: "OpenSSL 3 decoder" },
    { group: "x25519", name: "import peer public via JWK", fn: () => createPublicKey({ key: { kty: "OKP", crv: "X25519", x: peerRaw.toString("base64url") }, format: "jwk" }) },
    { group: "x25519", name: "diffieHellman", fn: () => diffieHellman({ privateKey: own.privateKey, publicKey: viaJwk }) },
    { group: "p256", name: "createECDH + generateKeys", fn: () => createECDH("prime256v1").generateKeys(), note: "raw uncompressed point out" },
    { group: "p256", name: "ECDH.computeSecret", fn: () => p256.computeSecret(p256Peer), note: "raw point in" },
  ];
}

if (import.meta.url === `file://${process.argv[1]}`) console.log(microTable(runCases(ecdheKeyCases(), Number(process.argv[2] ?? 1))));
