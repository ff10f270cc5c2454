/**
 * P-256 micro-benchmark: node:crypto (what edge-agent/src/pki uses) vs @noble/curves for the
 * three operations of an ECDHE_ECDSA handshake: ECDH shared secret, ECDSA sign, ECDSA verify.
 * Run: node --import tsx bench/micro/p256.ts [seconds-per-case, default 1]
 * Prints ops/s (median of 5 rounds) and the node/noble ratio. Numbers are machine-dependent:
 * read the ratio and the order of magnitude.
 */
import { createECDH, createPublicKey, generateKeyPairSync, sign, verify } from "node:crypto";
import { p256 } from "@noble/curves/nist.js";

const seconds = Number(process.argv[2] ?? 1);
const ROUNDS = 5;

/** ops/s of `fn`, median over ROUNDS rounds of seconds/ROUNDS each (after a short warm-up). */
function measure(fn: () => unknown): number {
  const until = performance.now() + 100;
  while (performance.now() < until) fn();
  const rates: number[] = [];
  for (let r = 0; r < ROUNDS; r++) {
    const end = performance.now() + (seconds * 1000) / ROUNDS;
    let n = 0;
    const start = performance.now();
    while (performance.now() < end) {
      fn();
      n++;
    }
    rates.push(n / ((performance.now() - start) / 1000));
  }
  rates.sort((a, b) => a - b);
  return rates[Math.floor(ROUNDS / 2)] as number;
}

const msg = new TextEncoder().encode("client_random ‖ server_random ‖ ServerECDHParams".padEnd(134, "."));

// node:crypto: KeyObjects and an ECDH object parsed once, as the PKI module caches them.
const nodeKeys = generateKeyPairSync("ec", { namedCurve: "P-256" });
const nodeSig = sign("sha256", msg, nodeKeys.privateKey);
const nodeA = createECDH("prime256v1");
nodeA.generateKeys();
const nodeB = createECDH("prime256v1");
const nodeBPub = nodeB.generateKeys();

// noble: raw scalars and points.
const nobleSk = p256.utils.randomSecretKey();
const noblePk = p256.getPublicKey(nobleSk);
const nobleSig = p256.sign(msg, nobleSk);
const noblePeer = p256.getPublicKey(p256.utils.randomSecretKey(), false);

// Cross-check the two agree before timing them (same inputs, same outputs).
const nodeShared = createECDH("prime256v1");
nodeShared.setPrivateKey(Buffer.from(nobleSk));
const sharedNode = nodeShared.computeSecret(Buffer.from(noblePeer));
const sharedNoble = p256.getSharedSecret(nobleSk, noblePeer).subarray(1);
if (Buffer.compare(sharedNode, Buffer.from(sharedNoble)) !== 0) throw new Error("node and noble disagree on ECDH");
const nobleUncompressed = p256.getPublicKey(nobleSk, false);
const nobleAsNodeKey = createPublicKey({
  key: {
    kty: "EC",
    crv: "P-256",
    x: Buffer.from(nobleUncompressed.subarray(1, 33)).toString("base64url"),
    y: Buffer.from(nobleUncompressed.subarray(33)).toString("base64url"),
  },
  format: "jwk",
});
if (!verify("sha256", msg, nobleAsNodeKey, Buffer.from(p256.sign(msg, nobleSk, { format: "der" })))) {
  throw new Error("node does not verify noble's DER signature");
}

const cases: Array<[string, () => unknown, () => unknown]> = [
  ["ECDH shared secret", () => nodeA.computeSecret(nodeBPub), () => p256.getSharedSecret(nobleSk, noblePeer)],
  ["ECDSA sign (SHA-256)", () => sign("sha256", msg, nodeKeys.privateKey), () => p256.sign(msg, nobleSk)],
  ["ECDSA verify (SHA-256)", () => verify("sha256", msg, nodeKeys.publicKey, nodeSig), () => p256.verify(nobleSig, msg, noblePk)],
];

const rows: string[][] = [["operation", "node:crypto ops/s", "@noble ops/s", "node/noble"]];
for (const [name, nodeFn, nobleFn] of cases) {
  const a = measure(nodeFn);
  const b = measure(nobleFn);
  rows.push([name, a.toFixed(0), b.toFixed(0), `${(a / b).toFixed(1)}×`]);
}
const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
for (const [i, r] of rows.entries()) {
  console.log(`| ${r.map((c, j) => (j === 0 ? c.padEnd(widths[j]!) : c.padStart(widths[j]!))).join(" | ")} |`);
  if (i === 0) console.log(`| ${widths.map((w) => "-".repeat(w)).join(" | ")} |`);
}
console.log(`\nnode ${process.version}, ${seconds}s per case, median of ${ROUNDS} rounds`);
