/**
 * The workloads of `npm run bench`, as data (issue 7's list), and the three profiles that size
 * them: full (the default), --quick (< 2 minutes) and --smoke (the test's seconds-long run).
 */
import type { ProtocolName } from "./load/job.js";

export type WorkloadKind = "load" | "hs" | "idle";

export interface Workload {
  /** Unique id, also accepted by --only (e.g. "psk-10"). */
  readonly id: string;
  /** The group --only selects by: plain, psk, hs, ecdhe, idle. */
  readonly groups: readonly string[];
  readonly title: string;
  readonly kind: WorkloadKind;
  readonly protocol: ProtocolName;
  /** load/idle: sessions; hs: slots (handshakes in flight). */
  readonly sessions: number;
  /** load: outstanding requests per session. */
  readonly window: number;
  readonly unit: "req/s" | "hs/s" | "B/session";
  readonly better: "higher" | "lower";
  /** Uri-Path our agent is asked for instead of its usual /hello. */
  readonly oursPath?: string;
  /** Set for ours-only workloads: why libcoap has no counterpart (shown as its n/a reason). */
  readonly oursOnly?: string;
}

export interface Profile {
  readonly name: "full" | "quick" | "smoke";
  readonly rounds: number;
  /** Rounds of the idle-memory workloads (each starts fresh servers). */
  readonly idleRounds: number;
  readonly warmupMs: number;
  readonly durationMs: number;
  readonly workloads: readonly Workload[];
}

const load = (protocol: ProtocolName, sessions: number, window = 1): Workload => ({
  id: `${protocol}-${sessions}${window > 1 ? `w${window}` : ""}`,
  groups: [protocol],
  title: `${protocol === "plain" ? "plain CoAP" : "DTLS-PSK"} GET, ${sessions} session${sessions === 1 ? "" : "s"}${window > 1 ? ` × ${window}` : ""}`,
  kind: "load",
  protocol,
  sessions,
  window,
  unit: "req/s",
  better: "higher",
});

const handshakes = (protocol: ProtocolName, slots: number): Workload => ({
  id: `hs-${protocol}`,
  groups: ["hs", protocol === "ecdhe" ? "ecdhe" : "hs-psk"],
  title: `new ${protocol === "psk" ? "PSK" : "ECDHE-ECDSA P-256"} handshakes (+GET+close), ${slots} in flight`,
  kind: "hs",
  protocol,
  sessions: slots,
  window: 1,
  unit: "hs/s",
  better: "higher",
});

const idle = (sessions: number): Workload => ({
  id: `idle-${sessions}`,
  groups: ["idle"],
  title: `RSS per idle DTLS-PSK session, ${sessions.toLocaleString("en-US")} sessions`,
  kind: "idle",
  protocol: "psk",
  sessions,
  window: 1,
  unit: "B/session",
  better: "lower",
});

/** Our full uplink path: a GET answered by the embedded cloud app (envelope, Hono, zod) rather than a local resource. */
const cloudPath = (sessions: number): Workload => ({
  ...load("plain", sessions),
  id: `cloud-${sessions}`,
  groups: ["cloud"],
  title: `plain CoAP GET via embedded cloud (/whoami), ${sessions} sessions`,
  oursPath: "whoami",
  oursOnly: "no cloud forwarding in coap-server",
});

const MAIN: readonly Workload[] = [
  load("psk", 1),
  load("psk", 10),
  load("psk", 100),
  load("plain", 10),
  load("plain", 100),
  handshakes("psk", 16),
  handshakes("ecdhe", 16),
  cloudPath(10),
];

export const PROFILES: Readonly<Record<Profile["name"], Profile>> = {
  full: { name: "full", rounds: 5, idleRounds: 3, warmupMs: 1000, durationMs: 5000, workloads: [...MAIN, idle(1000), idle(10_000)] },
  quick: { name: "quick", rounds: 2, idleRounds: 1, warmupMs: 500, durationMs: 1500, workloads: [...MAIN, idle(1000)] },
  smoke: {
    name: "smoke",
    rounds: 1,
    idleRounds: 1,
    warmupMs: 100,
    durationMs: 400,
    workloads: [load("plain", 2), load("psk", 2), handshakes("psk", 2), handshakes("ecdhe", 2), idle(20)],
  },
};

/** The workloads `--only a,b` selects (by id or group); all when `only` is empty. Unknown names throw. */
export function selectWorkloads(all: readonly Workload[], only: readonly string[]): Workload[] {
  if (only.length === 0) return [...all];
  const known = new Set(all.flatMap((w) => [w.id, ...w.groups]));
  const unknown = only.filter((o) => !known.has(o));
  if (unknown.length > 0) throw new Error(`--only: unknown workload(s) ${unknown.join(", ")}; known: ${[...known].join(", ")}`);
  return all.filter((w) => only.includes(w.id) || w.groups.some((g) => only.includes(g)));
}
