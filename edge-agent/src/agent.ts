/**
 * The edge agent, assembled from a validated AgentConfig: a CoapServer, the coap:// UDP
 * listener, and the seams the rest of the agent plugs into:
 *
 *   - coaps:// listeners: `AgentOptions.coapsListener` builds the DTLS endpoint from the config
 *     (the DTLS engine implements DatagramEndpoint with scheme "coaps"), or call
 *     `agent.addEndpoint(endpoint)` later;
 *   - cloud forwarding: `agent.server.setDefaultHandler(forwarder)` (local resources win);
 *   - downlink requests: `agent.client(scheme)` sends through the listener's own socket.
 */
import { readFile } from "node:fs/promises";
import { parseAgentConfig, szxFromSize, type AgentConfig, type ConfigIssue } from "@coaps-edge/shared";
import type { DatagramEndpoint } from "./transport/types.js";
import { UdpEndpoint } from "./transport/udp.js";
import type { Clock } from "./util/clock.js";
import type { MessageLayer } from "./coap/message-layer.js";
import { CoapClient } from "./client/client.js";
import { CoapServer } from "./server/server.js";
import { registerDemoResources } from "./server/demo-resources.js";
import type { ServerLogger } from "./server/types.js";

/** Builds the coaps:// listener for a config (supplied by the DTLS engine). */
export type CoapsListenerFactory = (config: AgentConfig) => Promise<DatagramEndpoint>;

export interface AgentOptions {
  readonly clock?: Clock;
  readonly logger?: ServerLogger & { info(obj: object, msg?: string): void };
  /** Required when config.coaps.enabled. */
  readonly coapsListener?: CoapsListenerFactory;
}

export interface Agent {
  readonly config: AgentConfig;
  readonly server: CoapServer;
  /** The endpoints being served (coap:// first when enabled). */
  readonly endpoints: readonly DatagramEndpoint[];
  /** "coap://127.0.0.1:5683" etc., with the bound ports. */
  readonly urls: readonly string[];
  /** Serves one more endpoint (e.g. a DTLS listener started later); the agent closes it on close(). */
  addEndpoint(endpoint: DatagramEndpoint): MessageLayer;
  /** The client sending from the listener of `scheme` (downlink: the device sees the agent's port); one per scheme. */
  client(scheme?: "coap" | "coaps"): CoapClient;
  /** Closes clients, the server and every endpoint. */
  close(): Promise<void>;
}

export type AgentErrorCode = "config-invalid" | "config-unreadable" | "coaps-unavailable" | "bind-failed";

/** A typed failure to start the agent; `issues` lists bad config fields. */
export class AgentError extends Error {
  override readonly name = "AgentError";
  constructor(
    readonly code: AgentErrorCode,
    message: string,
    readonly issues: readonly ConfigIssue[] = [],
  ) {
    super(message);
  }
}

/** Reads and validates a JSON config file; throws AgentError with the bad fields' paths. */
export async function loadAgentConfig(file: string): Promise<AgentConfig> {
  let text: string;
  try {
    text = await readFile(file, "utf8");
  } catch (e) {
    throw new AgentError("config-unreadable", `cannot read ${file}: ${(e as Error).message}`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw new AgentError("config-invalid", `${file}: not JSON: ${(e as Error).message}`);
  }
  return validateAgentConfig(json, file);
}

/** Validates a config value (e.g. parsed JSON with CLI overrides applied). */
export function validateAgentConfig(value: unknown, source = "config"): AgentConfig {
  const r = parseAgentConfig(value);
  if (!r.ok) {
    throw new AgentError("config-invalid", `${source}: invalid\n${r.issues.map((i) => `  ${i.path}: ${i.message}`).join("\n")}`, r.issues);
  }
  return r.config;
}

function urlOf(ep: DatagramEndpoint): string {
  const host = ep.local.family === "IPv6" ? `[${ep.local.address}]` : ep.local.address;
  return `${ep.scheme}://${host}:${ep.local.port}`;
}

/** Starts an agent: binds the listeners of `config` and serves them. */
export async function createAgent(config: AgentConfig, options: AgentOptions = {}): Promise<Agent> {
  const server = new CoapServer({
    clock: options.clock,
    logger: options.logger,
    transmission: config.transmission,
    dedup: { maxEntries: config.limits.dedupEntries, maxBytes: config.limits.dedupBytes },
    separateResponseDelayMs: config.limits.separateResponseDelayMs,
    blockwise: {
      preferredSzx: szxFromSize(config.limits.blockSize),
      maxBodyBytes: config.limits.maxBodyBytes,
      maxTransfers: config.limits.maxBlockTransfers,
      transferIdleMs: config.limits.blockTransferTimeoutMs,
    },
  });
  if (config.demoResources) registerDemoResources(server);

  const endpoints: DatagramEndpoint[] = [];
  const layers = new Map<DatagramEndpoint, MessageLayer>();
  const clients = new Map<string, CoapClient>();
  const closeAll = async (): Promise<void> => {
    for (const c of clients.values()) await c.close();
    server.close();
    await Promise.all(endpoints.map((e) => e.close()));
  };
  const add = (ep: DatagramEndpoint): MessageLayer => {
    endpoints.push(ep);
    const layer = server.attach(ep);
    layers.set(ep, layer);
    return layer;
  };

  try {
    if (config.listen.enabled) {
      const { address, port, mtu } = config.listen;
      try {
        add(await UdpEndpoint.bind({ address, port, mtu }));
      } catch (e) {
        throw new AgentError("bind-failed", `cannot bind coap://${address}:${port}: ${(e as Error).message}`);
      }
    }
    if (config.coaps.enabled) {
      if (!options.coapsListener) throw new AgentError("coaps-unavailable", "coaps is enabled but no DTLS listener is available");
      add(await options.coapsListener(config));
    }
  } catch (e) {
    await closeAll();
    throw e;
  }

  const agent: Agent = {
    config,
    server,
    endpoints,
    get urls() {
      return endpoints.map(urlOf);
    },
    addEndpoint: add,
    client(scheme = "coap") {
      const existing = clients.get(scheme);
      if (existing) return existing;
      const ep = endpoints.find((e) => e.scheme === scheme);
      const layer = ep && layers.get(ep);
      if (!layer) throw new AgentError("coaps-unavailable", `no ${scheme} listener`);
      const c = new CoapClient({ layer, clock: options.clock, transmission: config.transmission });
      clients.set(scheme, c);
      return c;
    },
    close: closeAll,
  };
  options.logger?.info({ urls: agent.urls, demo: config.demoResources }, "coaps-edge agent listening");
  return agent;
}
