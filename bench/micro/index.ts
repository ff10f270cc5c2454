/**
 * `npm run bench -- --micro`: every micro-benchmark — CoAP codec, the in-process request path,
 * AES-128-CCM-8 records, PRF, ECDHE key handling, node:dgram send variants —
 * then the P-256 node:crypto vs @noble comparison (p256.ts, run as its own process since it is
 * a standalone script). Prints the tables; returns the numbers for the JSON file.
 */
import { execFileSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { codecCases } from "./coap-codec.js";
import { ecdheKeyCases } from "./ecdhe-keys.js";
import { firstRequestResults } from "./first-request.js";
import { microTable, runCases, type MicroResult } from "./measure.js";
import { DEFAULT_CCM_ENGINE } from "../../edge-agent/src/dtls/crypto/ccm.js";
import { prfCases } from "./prf.js";
import { recordCases } from "./record.js";
import { dtlsRequestPathUs } from "./dtls-request-path.js";
import { requestPathCases } from "./request-path.js";
import { udpSendTable } from "./udp-send.js";

export interface MicroReport {
  readonly date: string;
  readonly node: string;
  readonly secondsPerCase: number;
  readonly results: readonly MicroResult[];
  /** p256.ts's table as printed (node:crypto vs @noble, ops/s and ratio). */
  readonly p256: string;
  /** udp-send.ts's table as printed (CPU µs per loopback send, per send variant). */
  readonly udpSend: string;
}

export async function runMicro(secondsPerCase: number): Promise<MicroReport> {
  const results = runCases([...codecCases(), ...requestPathCases(), ...recordCases(), ...prfCases(), ...ecdheKeyCases()], secondsPerCase);
  results.push(...firstRequestResults(secondsPerCase));
  const dtlsUs = await dtlsRequestPathUs(secondsPerCase >= 1 ? 100_000 : 20_000);
  results.push({
    group: "dtls",
    name: `GET /hello over DTLS-PSK, server side (CCM: ${DEFAULT_CCM_ENGINE})`,
    opsPerSecond: 1e6 / dtlsUs,
    usPerOp: dtlsUs,
    note: "record → DtlsServer → CoAP → seal, no socket; process CPU time",
  });
  console.log(microTable(results));
  const p256Script = fileURLToPath(new URL("./p256.ts", import.meta.url));
  const p256 = execFileSync(process.execPath, ["--import", "tsx", p256Script, String(secondsPerCase)], { encoding: "utf8", timeout: 120_000 });
  console.log(`\nP-256 (bench/micro/p256.ts):\n${p256}`);
  const udpSend = await udpSendTable(secondsPerCase);
  console.log(`\nnode:dgram send (bench/micro/udp-send.ts):\n${udpSend}`);
  return { date: new Date().toISOString(), node: process.version, secondsPerCase, results, p256, udpSend };
}
