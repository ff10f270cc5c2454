/**
 * The health reporter a config asks for: remote cloud mode with `health.enabled`, reporting to
 * cloud.url as the key file's gateway, the Thread part from `health.otbrUrl` (when not "").
 * Embedded mode reports nothing, by design: the cloud app then runs inside this process, so a
 * report would only travel from the agent to itself and no other party could read it; the same
 * facts are on the agent's own /metrics and in `coaps-edge doctor`.
 */
import type { Agent } from "../agent.js";
import { loadGatewayKey } from "../forward/gateway-key.js";
import { readThreadStatus } from "../otbr/client.js";
import { collectHealth } from "./report.js";
import { HealthReporter } from "./reporter.js";

export interface HealthReportingOptions {
  readonly fetch?: typeof fetch;
  readonly logger?: { warn(obj: object, msg?: string): void; debug?(obj: object, msg?: string): void };
  /** Agent start time, Unix ms; default now. */
  readonly startedAtMs?: number;
}

/** Starts reporting for `agent`, or returns undefined when the config does not ask for it. */
export async function startHealthReporting(agent: Agent, options: HealthReportingOptions = {}): Promise<HealthReporter | undefined> {
  const { cloud, health } = agent.config;
  if (!health.enabled || cloud.mode !== "remote" || cloud.url === undefined || cloud.keyFile === undefined) return undefined;
  const key = await loadGatewayKey(cloud.keyFile);
  const startedAt = options.startedAtMs ?? Date.now();
  const otbrUrl = health.otbrUrl;
  const reporter = new HealthReporter({
    url: cloud.url,
    gatewayId: cloud.gatewayId ?? key.gatewayId,
    gatewayKey: key.privateKey,
    intervalMs: health.intervalSeconds * 1000,
    timeoutMs: cloud.timeoutMs,
    collect: async () => collectHealth(agent, startedAt, Date.now(), otbrUrl === "" ? undefined : await readThreadStatus({ baseUrl: otbrUrl })),
    ...(options.fetch && { fetch: options.fetch }),
    ...(options.logger && { logger: options.logger }),
  });
  reporter.start();
  return reporter;
}
