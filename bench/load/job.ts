/**
 * What the harness asks a generator worker to do, and what the worker answers (plain objects:
 * they cross the child_process IPC channel). All modes are bounded in time and in count.
 */
import type { PeerAddress } from "../../edge-agent/src/transport/types.js";
import type { GenUdpEngine } from "./gen-udp.js";
import type { SparseHistogram } from "./histogram.js";

/** Session kinds, table-driven in protocols.ts. */
export type ProtocolName = "plain" | "psk" | "ecdhe";

export interface PskSpec {
  readonly identity: string;
  /** The key as raw ASCII (libcoap's `-k` takes the key text). */
  readonly key: string;
}

interface JobBase {
  readonly protocol: ProtocolName;
  readonly target: PeerAddress;
  /** Uri-Path of the GET, e.g. "hello" or "time". */
  readonly path: string;
  readonly psk?: PskSpec;
  /** A handshake not finished after this long fails (ms). */
  readonly handshakeTimeoutMs: number;
  /** Second octet of this worker's source addresses 127.<sourceNet>.0.0/16 (see sources.ts); set per worker by the pool. */
  readonly sourceNet?: number;
  /** UDP engine asked for the sessions' sockets (set by the pool; gen-udp.ts `sessionUdp` says which modes take it). */
  readonly udp?: GenUdpEngine;
}

/** N sessions (this worker's share), W outstanding CON GETs each, for a fixed time. */
export interface LoadJob extends JobBase {
  readonly kind: "load";
  readonly sessions: number;
  readonly window: number;
  readonly warmupMs: number;
  readonly durationMs: number;
  /** A request unanswered after this long is counted as a timeout and replaced. */
  readonly timeoutMs: number;
  /** Handshakes in flight while the sessions are opened. */
  readonly setupConcurrency: number;
}

/** `slots` loops of {new session, handshake, one GET, close} for a fixed time. */
export interface HandshakeJob extends JobBase {
  readonly kind: "hs";
  readonly slots: number;
  readonly warmupMs: number;
  readonly durationMs: number;
  readonly timeoutMs: number;
}

/** Open `sessions` sessions with one GET each and hold them until told to close. */
export interface IdleJob extends JobBase {
  readonly kind: "idle";
  readonly sessions: number;
  readonly setupConcurrency: number;
  readonly timeoutMs: number;
  /** Close each socket after its GET without close_notify and keep nothing (Workload.detach). */
  readonly detach?: boolean;
}

export type Job = LoadJob | HandshakeJob | IdleJob;

/** One worker's counts for the measured window. */
export interface WorkerResult {
  /** Successful exchanges (load: 2.xx responses; hs: full cycles; idle: sessions held). */
  readonly ok: number;
  /** Error responses, RSTs, failed handshakes. */
  readonly errors: number;
  readonly timeouts: number;
  /** Length of the measured window as this worker saw it (ms). */
  readonly measuredMs: number;
  /** Request latency (load), or handshake-to-response time (hs), in µs. */
  readonly latency: SparseHistogram;
  /** CPU time this worker used during the measured window (ms, user + system). */
  readonly cpuMs: number;
  /** Sum of response datagram sizes (plaintext CoAP), for the "response bytes" column. */
  readonly responseBytes: number;
  /** The first error seen, for diagnostics. */
  readonly firstError?: string;
}

export type ToWorker =
  | { readonly type: "setup"; readonly job: Job }
  | { readonly type: "go" }
  | { readonly type: "close" }
  | { readonly type: "exit" };

export type FromWorker =
  | { readonly type: "ready"; readonly established: number; readonly failed: number; readonly setupMs: number; readonly firstError?: string }
  | { readonly type: "done"; readonly result: WorkerResult }
  | { readonly type: "closed" }
  | { readonly type: "error"; readonly message: string };
