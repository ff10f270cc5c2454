/**
 * The gateway health report (issue 10): what an edge agent POSTs to the Worker's /v1/health on
 * each tick. One schema for both sides: the agent builds reports of this type
 * (edge-agent/src/health/report.ts) and the Worker validates them with it (cloud/src/gateways.ts).
 * Counters are totals since the agent started; rates are the operator's subtraction.
 */
import * as z from "zod/mini";

/** Largest health report the Worker accepts. */
export const MAX_HEALTH_REPORT_BYTES = 16 * 1024;

const count = z.number().check(z.int(), z.minimum(0));

/** The Thread part of a report (from the OTBR REST API on the gateway host). */
export const ThreadHealthSchema = z.object({
  available: z.boolean(),
  role: z.optional(z.string().check(z.maxLength(32))),
  networkName: z.optional(z.string().check(z.maxLength(64))),
  partitionId: z.optional(count),
  neighbourCount: z.optional(count),
  routerCount: z.optional(count),
  /** Why the OTBR could not be read (available: false). */
  reason: z.optional(z.string().check(z.maxLength(64))),
});
export type ThreadHealth = z.output<typeof ThreadHealthSchema>;

export const GatewayHealthReportSchema = z.object({
  version: z.string().check(z.minLength(1), z.maxLength(64)),
  uptimeSeconds: z.number().check(z.minimum(0)),
  /** Established DTLS sessions now. */
  sessions: count,
  /** DTLS handshakes since start. */
  handshakes: z.object({ ok: count, failed: count }),
  /** Error counters by name (handler errors, send errors, forward failures, …). */
  errors: z.record(z.string().check(z.maxLength(64)), count),
  /** CoAP requests since start (all listeners). */
  requests: count,
  thread: z.optional(ThreadHealthSchema),
});
export type GatewayHealthReport = z.output<typeof GatewayHealthReportSchema>;
