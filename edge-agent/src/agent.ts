/**
 * The edge agent, assembled from a validated AgentConfig: a CoapServer, the coap:// UDP
 * listener, and the seams the rest of the agent plugs into:
 *
 *   - coaps:// listeners: `AgentOptions.coapsListener` builds the DTLS endpoint from the config
 *     (the DTLS engine implements DatagramEndpoint with scheme "coaps"; `dtlsListener()` in
 *     dtls-listener.ts is the one the CLI uses: a DtlsServer over UDP on coaps.port), or call
 *     `agent.addEndpoint(endpoint)` later;
 *   - cloud forwarding (forward/): every request without a local resource goes to the cloud of
 *     `config.cloud` (embedded app by default, or the remote Worker), through `agent.cloud`,
 *     which answers unknown paths 4.04 and missing methods 4.05 from the cloud registry without
 *     a round trip. Local resources (agent.server.addResource) shadow cloud ones.
 *     /.well-known/core lists both: local resources, then the registry's (RFC 6690);
 *   - downlink requests: `agent.client(scheme)` sends through the listener's own socket.
 */
import { readFile } from "node:fs/promises";
import { Code, ContentFormat, formatLinkFormat, parseAgentConfig, szxFromSize, type AgentConfig, type ConfigIssue } from "@coaps-edge/shared";
import type { DatagramEndpoint } from "./transport/types.js";
import { UdpEndpoint } from "./transport/udp.js";
import type { Clock } from "./util/clock.js";
import type { MessageLayer } from "./coap/message-layer.js";
import { CoapClient } from "./client/client.js";
import { CoapServer } from "./server/server.js";
import { registerDemoResources } from "./server/demo-resources.js";
import type { CoapResponse, ServerLogger } from "./server/types.js";
import { filterLinks, resourceLinks } from "./server/well-known.js";
import { CloudRoutes } from "./forward/cloud-routes.js";
import { forwarderFromConfig } from "./forward/from-config.js";
import { toForwardRequest } from "./forward/request.js";
import type { CloudForwarder, ForwardResult } from "./forward/types.js";

/** Builds the coaps:// listener for a config (supplied by the DTLS engine). */
export type CoapsListenerFactory = (config: AgentConfig) => Promise<DatagramEndpoint>;

export interface AgentOptions {
  readonly clock?: Clock;
  readonly logger?: ServerLogger & { info(obj: object, msg?: string): void };
  /** Required when config.coaps.enabled. */
  readonly coapsListener?: CoapsListenerFactory;
  /** The cloud to forward to instead of the one `config.cloud` describes (tests); the agent closes it. */
  readonly forwarder?: CloudForwarder;
}

export interface Agent {
  readonly config: AgentConfig;
  readonly server: CoapServer;
  /** The cloud behind the default handler: registry view, refresh, stats, the forwarder. */
  readonly cloud: CloudRoutes;
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

export type AgentErrorCode = "config-invalid" | "config-unreadable" | "coaps-unavailable" | "bind-failed" | "cloud-unavailable";

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
  const cloud = await startCloud(config, server, options);

  const endpoints: DatagramEndpoint[] = [];
  const layers = new Map<DatagramEndpoint, MessageLayer>();
  const clients = new Map<string, CoapClient>();
  const closeAll = async (): Promise<void> => {
    for (const c of clients.values()) await c.close();
    server.close();
    await Promise.all(endpoints.map((e) => e.close()));
    await cloud.close();
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
    cloud,
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
  options.logger?.info({ urls: agent.urls, demo: config.demoResources, cloud: config.cloud.mode }, "coaps-edge agent listening");
  return agent;
}

/**
 * Builds the cloud side of the agent: forwarder (AgentOptions.forwarder or config.cloud), the
 * registry (fetched before any endpoint is bound), the default handler and /.well-known/core.
 */
async function startCloud(config: AgentConfig, server: CoapServer, options: AgentOptions): Promise<CloudRoutes> {
  let forwarder = options.forwarder;
  if (!forwarder) {
    try {
      const built = await forwarderFromConfig(config.cloud);
      forwarder = built.forwarder;
      if (built.warning) options.logger?.warn({}, built.warning);
      options.logger?.info({ mode: built.mode, gatewayId: built.gatewayId, publicKey: built.publicKey, url: config.cloud.url }, "cloud");
    } catch (e) {
      throw new AgentError("cloud-unavailable", (e as Error).message);
    }
  }
  const remote = config.cloud.mode === "remote";
  const cloud = new CloudRoutes({
    forwarder,
    // The embedded app's registry is fixed at start; a remote Worker may be redeployed.
    refreshIntervalMs: remote ? config.cloud.registryRefreshSeconds * 1000 : 0,
    missRefreshMs: remote ? 10_000 : 0,
    clock: options.clock,
    logger: options.logger,
  });
  await cloud.start();
  server.setDefaultHandler(async (req) => toCoapResponse(await cloud.route(toForwardRequest(req, { receivedAt: Date.now() }))));
  // RFC 6690 §4: one document for everything this endpoint serves. Local links first (a local
  // resource shadows a cloud one at the same path), then the registry's; the query filter
  // (§4.1) applies to the merged list. Hidden itself, so it does not list itself.
  server.addResource("/.well-known/core", {
    hidden: true,
    get: async (req) => {
      const local = resourceLinks(server.resources());
      const shadowed = new Set(local.map((l) => l.href));
      const links = [...local, ...(await cloud.links()).filter((l) => !shadowed.has(l.href))];
      return { code: Code.Content, payload: formatLinkFormat(filterLinks(links, req.query)), contentFormat: ContentFormat.linkFormat };
    },
  });
  return cloud;
}

/** A cloud (or edge-made) answer as the server's response. */
function toCoapResponse(r: ForwardResult): CoapResponse {
  return {
    code: r.code,
    payload: r.payload,
    options: r.options,
    contentFormat: r.contentFormat,
    maxAge: r.maxAge,
    etag: r.etag,
    locationPath: r.locationPath,
  };
}
