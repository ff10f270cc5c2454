/**
 * TLS 1.2 PRF micro-benchmark (edge-agent/src/dtls/crypto/prf.ts, sha256*.ts): the key schedule
 * of one PSK handshake with extended_master_secret — master secret, key block for AES-128-CCM-8
 * (2 × 16-byte keys + 2 × 4-byte IVs) and both Finished verify_data — on the engine the agent
 * uses, and P_SHA256 / one HMAC on each SHA-256 engine side by side (native OpenSSL addon vs
 * @noble/hashes; node:crypto's createHmac for reference).
 * Run alone: node --import tsx bench/micro/prf.ts [seconds-per-case]
 */
import { createHmac } from "node:crypto";
import { extendedMasterSecret, finishedVerifyData, keyBlock, sha256 } from "../../edge-agent/src/dtls/crypto/index.js";
import { PrfSecret } from "../../edge-agent/src/dtls/crypto/prf.js";
import { SHA256_ENGINE } from "../../edge-agent/src/dtls/crypto/sha256.js";
import { NativeHmacSha256, nativeSha256 } from "../../edge-agent/src/dtls/crypto/sha256-native.js";
import { NobleHmacSha256 } from "../../edge-agent/src/dtls/crypto/sha256-noble.js";
import type { HmacSha256 } from "../../edge-agent/src/dtls/crypto/sha256-types.js";
import { pskPreMasterSecret } from "../../edge-agent/src/dtls/key-exchange/psk.js";
import { microTable, runCases, type MicroCase } from "./measure.js";

const premaster = pskPreMasterSecret(new TextEncoder().encode("secretPSK"));
const sessionHash = sha256(new Uint8Array(300));
const clientRandom = Uint8Array.from({ length: 32 }, (_, i) => i);
const serverRandom = Uint8Array.from({ length: 32 }, (_, i) => 255 - i);
const seed = Buffer.alloc(77);
const out48 = Buffer.alloc(48);
const out32 = Buffer.alloc(32);

function handshakeSchedule(): Uint8Array {
  const master = new PrfSecret(extendedMasterSecret(premaster, sessionHash));
  const block = keyBlock(master, serverRandom, clientRandom, 40);
  finishedVerifyData(master, "client", sessionHash);
  finishedVerifyData(master, "server", sessionHash);
  master.wipe();
  return block;
}

function engineCases(engine: string, mac: HmacSha256): MicroCase[] {
  return [
    { group: "prf", name: `P_SHA256 48 B, ${engine}`, fn: () => mac.pSha256Into(out48, [seed]), note: "one PRF call: 4 HMACs from the key's midstates" },
    { group: "prf", name: `HMAC-SHA256, ${engine}`, fn: () => mac.macInto(out32, 0, 32, seed), note: "one MAC of 77 B from the key's midstates (the cookie's)" },
  ];
}

export function prfCases(): MicroCase[] {
  return [
    ...(nativeSha256 ? engineCases("native", new NativeHmacSha256(premaster)) : []),
    ...engineCases("noble", new NobleHmacSha256(premaster)),
    { group: "prf", name: "HMAC-SHA256 createHmac", fn: () => createHmac("sha256", premaster).update(seed).digest(), note: "node:crypto, raw key, for reference" },
    { group: "prf", name: "PSK handshake key schedule", fn: handshakeSchedule, note: `EMS + key block (40 B) + 2 × verify_data; ${SHA256_ENGINE} engine` },
  ];
}

if (import.meta.url === `file://${process.argv[1]}`) console.log(microTable(runCases(prfCases(), Number(process.argv[2] ?? 1))));
