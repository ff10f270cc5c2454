/**
 * The gateway health report (issue 10): what the agent tells the Worker about itself on each
 * tick. Counters are totals since start (the Worker keeps the last report, so rates are the
 * operator's subtraction); the Thread part comes from the OTBR REST API when it answers.
 * Its shape is the shared GatewayHealthReportSchema, which the Worker validates it with.
 */
import { readFileSync } from "node:fs";
import type { GatewayHealthReport, ThreadHealth } from "@coaps-edge/shared";
import type { Agent } from "../agent.js";
import type { ThreadStatus } from "../otbr/types.js";

export type { GatewayHealthReport, ThreadHealth };

/** The agent package's version (edge-agent/package.json). */
export const AGENT_VERSION: string = (() => {
  try {
    const pkg = JSON.parse(readFileSync(new URL("../../package.json", import.meta.url), "utf8")) as { version?: unknown };
    return typeof pkg.version === "string" ? pkg.version : "unknown";
  } catch {
    return "unknown";
  }
})();

/** Endpoint fields read when present (DtlsServer: sessionCount + DtlsStats; UdpEndpoint: sendErrors). */
interface CountingEndpoint {
  readonly sessionCount?: number;
  readonly stats?: Partial<Record<"handshakesOk" | "handshakesFailed" | "decryptFailures" | "recordsDropped" | "sendErrors", number>>;
}

/** The Thread part of a report from an OTBR read. */
export function threadHealth(status: ThreadStatus): ThreadHealth {
  if (!status.available) return { available: false, reason: status.reason };
  return {
    available: true,
    role: status.role,
    ...(status.networkName !== undefined && { networkName: status.networkName }),
    ...((status.partitionId ?? status.leaderData?.partitionId) !== undefined && { partitionId: status.partitionId ?? status.leaderData?.partitionId }),
    ...(status.neighbourCount !== undefined && { neighbourCount: status.neighbourCount }),
    ...(status.routerCount !== undefined && { routerCount: status.routerCount }),
  };
}

/** Builds a report from the agent's counters (and a Thread status when one was read). */
export function collectHealth(agent: Pick<Agent, "server" | "cloud" | "endpoints">, startedAtMs: number, nowMs: number, thread?: ThreadStatus): GatewayHealthReport {
  let sessions = 0;
  let ok = 0;
  let failed = 0;
  let decryptFailures = 0;
  let recordsDropped = 0;
  let sendErrors = 0;
  for (const ep of agent.endpoints as readonly CountingEndpoint[]) {
    sessions += ep.sessionCount ?? 0;
    ok += ep.stats?.handshakesOk ?? 0;
    failed += ep.stats?.handshakesFailed ?? 0;
    decryptFailures += ep.stats?.decryptFailures ?? 0;
    recordsDropped += ep.stats?.recordsDropped ?? 0;
    sendErrors += ep.stats?.sendErrors ?? 0;
  }
  const s = agent.server.stats;
  return {
    version: AGENT_VERSION,
    uptimeSeconds: Math.max(0, Math.round((nowMs - startedAtMs) / 1000)),
    sessions,
    handshakes: { ok, failed },
    errors: {
      handlerErrors: s.handlerErrors,
      sendErrors,
      dtlsDecryptFailures: decryptFailures,
      dtlsRecordsDropped: recordsDropped,
      cloudFailures: agent.cloud.stats.failures,
      cloudRegistryFailures: agent.cloud.stats.registryFailures,
    },
    requests: s.requests,
    ...(thread !== undefined && { thread: threadHealth(thread) }),
  };
}
