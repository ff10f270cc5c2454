/**
 * `npm run bench -- [flags]`:
 *   --quick            the short profile (< 2 minutes): 2 rounds, 1.5 s windows, idle at 1,000
 *   --smoke            a seconds-long end-to-end run (what test/bench runs)
 *   --only a,b         workloads by id or group: plain, psk, hs, hs-psk, ecdhe, idle, psk-10, ...
 *   --micro            the micro-benchmarks instead (CoAP codec, AES-128-CCM-8 records, PRF, P-256)
 *   --rounds N         rounds per workload, idle-memory ones included (medians over rounds)
 *   --duration S       measured seconds per sample
 *   --workers N        generator processes (default: cores − 1, at least 1)
 *   --gen-udp E        the generator's UDP engine: native (default when edge-agent/native/udp is
 *                      built) or dgram; not COAPS_EDGE_UDP's business (that one picks our agent's)
 *   --out DIR          where results go (default bench/results)
 *   --cpu-prof DIR     run our agent under `node --cpu-prof` into DIR (see bench/profile-summary.ts)
 *   --ours-cmd "CMD"   start "ours" with this command instead of `coaps-edge agent` ({port}, {psk},
 *                      {cert}, {key} substituted; it must print "listening on coap://… coaps://…" on stderr)
 *   --no-write         print only, write no files
 */
import type { GenUdpEngine } from "./load/gen-udp.js";

export interface BenchArgs {
  readonly profile: "full" | "quick" | "smoke";
  readonly only: readonly string[];
  readonly micro: boolean;
  readonly rounds?: number;
  readonly durationMs?: number;
  readonly workers?: number;
  readonly genUdp?: GenUdpEngine;
  readonly outDir?: string;
  readonly cpuProfileDir?: string;
  readonly oursCmd?: readonly string[];
  readonly write: boolean;
  readonly help: boolean;
}

export class ArgsError extends Error {
  override readonly name = "ArgsError";
}

function positive(flag: string, text: string | undefined, max: number): number {
  const n = Number(text);
  if (text === undefined || !Number.isFinite(n) || n <= 0 || n > max) throw new ArgsError(`${flag} expects a number in (0, ${max}], got ${text ?? "nothing"}`);
  return n;
}

export function parseBenchArgs(argv: readonly string[]): BenchArgs {
  let profile: BenchArgs["profile"] = "full";
  let only: string[] = [];
  let micro = false;
  let rounds: number | undefined;
  let durationMs: number | undefined;
  let workers: number | undefined;
  let genUdp: GenUdpEngine | undefined;
  let outDir: string | undefined;
  let cpuProfileDir: string | undefined;
  let oursCmd: string[] | undefined;
  let write = true;
  let help = false;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    const [flag, inline] = a.includes("=") ? [a.slice(0, a.indexOf("=")), a.slice(a.indexOf("=") + 1)] : [a, undefined];
    const value = () => {
      if (inline !== undefined) return inline;
      const v = argv[++i];
      if (v === undefined) throw new ArgsError(`${flag} needs a value`);
      return v;
    };
    switch (flag) {
      case "--quick":
        profile = "quick";
        break;
      case "--smoke":
        profile = "smoke";
        break;
      case "--micro":
        micro = true;
        break;
      case "--only":
        only = value().split(",").map((s) => s.trim()).filter(Boolean);
        break;
      case "--rounds":
        rounds = Math.round(positive(flag, value(), 100));
        break;
      case "--duration":
        durationMs = positive(flag, value(), 600) * 1000;
        break;
      case "--workers":
        workers = Math.round(positive(flag, value(), 64));
        break;
      case "--gen-udp": {
        const v = value();
        if (v !== "native" && v !== "dgram") throw new ArgsError(`--gen-udp expects native or dgram, got ${v}`);
        genUdp = v;
        break;
      }
      case "--out":
        outDir = value();
        break;
      case "--cpu-prof":
        cpuProfileDir = value();
        break;
      case "--ours-cmd":
        oursCmd = value().split(/\s+/).filter(Boolean);
        if (oursCmd.length === 0) throw new ArgsError("--ours-cmd needs a command");
        break;
      case "--no-write":
        write = false;
        break;
      case "-h":
      case "--help":
        help = true;
        break;
      default:
        throw new ArgsError(`unknown flag ${a} (see --help)`);
    }
  }
  return {
    profile,
    only,
    micro,
    ...(rounds !== undefined ? { rounds } : {}),
    ...(durationMs !== undefined ? { durationMs } : {}),
    ...(workers !== undefined ? { workers } : {}),
    ...(genUdp !== undefined ? { genUdp } : {}),
    ...(outDir !== undefined ? { outDir } : {}),
    ...(cpuProfileDir !== undefined ? { cpuProfileDir } : {}),
    ...(oursCmd !== undefined ? { oursCmd } : {}),
    write,
    help,
  };
}
