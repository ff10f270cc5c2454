/** The shape of a bench run's results (what run.ts prints, and writes as JSON). */
import type { GenUdpEngine } from "../load/gen-udp.js";
import type { Workload } from "../workloads.js";

/** One measurement of one workload on one server. */
export interface Sample {
  /** req/s, hs/s or bytes per session (see the workload's unit). */
  readonly value: number;
  readonly p50Us?: number;
  readonly p99Us?: number;
  /** Server CPU time per successful operation (µs), from /proc/PID/stat over the window. */
  readonly serverCpuUsPerOp?: number;
  /** Server CPU over the window as a share of one core (1 = one core saturated). */
  readonly serverCpu?: number;
  /** The busiest generator worker's CPU share over the window. */
  readonly generatorCpu?: number;
  readonly errors: number;
  readonly timeouts: number;
  /** Mean response size (bytes of CoAP), load workloads. */
  readonly responseBytes?: number;
  /** Sessions established for the sample (load/idle). */
  readonly sessions?: number;
  /** idle: the server's whole RSS (bytes) with the sessions held, start-up included. */
  readonly rssBytes?: number;
  readonly firstError?: string;
  /** The measured window on the monotonic clock, µs (the clock V8's .cpuprofile timestamps use). */
  readonly windowUs?: readonly [number, number];
}

export type Cell =
  | {
      readonly status: "ok";
      /** Median over rounds of each field. */
      readonly median: number;
      readonly p50Us?: number;
      readonly p99Us?: number;
      readonly serverCpuUsPerOp?: number;
      readonly serverCpu?: number;
      readonly generatorCpu?: number;
      readonly errors: number;
      readonly timeouts: number;
      readonly responseBytes?: number;
      readonly samples: readonly Sample[];
    }
  | { readonly status: "n/a"; readonly reason: string };

export interface Row {
  readonly workload: Workload;
  readonly ours: Cell;
  readonly libcoap: Cell;
  /** ours / libcoap medians (for "lower is better" units a ratio < 1 is a win). */
  readonly ratio?: number;
  /**
   * libcoap's server CPU per operation ÷ ours: the ratio with both servers given a whole core.
   * Unlike `ratio` it does not move when other processes take CPU from the run.
   */
  readonly cpuRatio?: number;
}

export interface Report {
  readonly date: string;
  readonly profile: string;
  readonly machine: {
    readonly cpus: number;
    readonly cpuModel: string;
    readonly node: string;
    readonly platform: string;
    /** 1-minute load average when the run started: other load on the box skews req/s. */
    readonly loadAverage: number;
  };
  readonly generator: {
    readonly workers: number;
    /** The UDP engine of the generator's sockets (absent in results from before it was selectable: node:dgram). */
    readonly udp?: GenUdpEngine;
    /** The generator against a raw responder (bench/load/echo-server.ts): its own rate on one UDP path. */
    readonly ceiling: Cell;
  };
  readonly settings: { readonly rounds: number; readonly idleRounds: number; readonly warmupMs: number; readonly durationMs: number };
  readonly rows: readonly Row[];
  readonly notes: readonly string[];
}
