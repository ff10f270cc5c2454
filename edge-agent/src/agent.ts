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
 *   - downlink requests: `agent.client(scheme)` sends through the listener's own socket;
 *   - RFC 8323 and Unix-domain listeners (stream-listeners.ts): coap+tcp on the UDP port and
 *     coaps+tcp on the DTLS port by default (TLS only with coaps credentials), coap+ws /
 *     coaps+ws and a Unix socket when configured; `agent.streams`, listed in `agent.urls`.
 */
import { readFile } from "node:fs/promises";
import { Code, ContentFormat, formatLinkFormat, parseAgentConfig, szxFromSize, type AgentConfig, type ConfigIssue } from "@coaps-edge/shared";
import type { DatagramEndpoint } from "./transport/types.js";
import { UdpEndpoint } from "./transport/udp.js";
import { interfaceAddresses, interfaceExists } from "./transport/interfaces.js";
import { MulticastEndpoint } from "./transport/multicast.js";
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
import type { Registry } from "prom-client";
import { DtlsServer } from "./dtls/server.js";
import { createAgentRegistry, startMetricsServer, type MetricsServer } from "./metrics/index.js";
import type { StreamListener } from "./transport/stream-socket.js";
import { startStreamListeners } from "./stream-listeners.js";

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
  /** The RFC 8323 / Unix stream listeners (coap+tcp, coaps+tcp, coap+ws, coaps+ws, unix). */
  readonly streams: readonly StreamListener[];
  /** "coap://127.0.0.1:5683", "coap+tcp://127.0.0.1:5683" etc., with the bound ports (datagram listeners first). */
  readonly urls: readonly string[];
  /** This agent's Prometheus registry (metrics/registry.ts); served over HTTP when config.metrics.enabled. */
  readonly metricsRegistry: Registry;
  /** The /metrics HTTP server, when config.metrics.enabled. */
  readonly metrics: MetricsServer | undefined;
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
  // A Unix socket path is the URI host, percent-encoded (libcoap's coap://%2Fpath form).
  if (ep.local.family === "Unix") return `${ep.scheme}://${encodeURIComponent(ep.local.address)}`;
  const host = ep.local.family === "IPv6" ? `[${ep.local.address}]` : ep.local.address;
  return `${ep.scheme}://${host}:${ep.local.port}`;
}

/** "coap+tcp://…", "coaps+tcp://…", "coap+ws://…", "coaps+ws://…" of a stream listener (Unix: coap+tcp://%2Fpath). */
function streamUrlOf(l: StreamListener): string {
  const scheme = { tcp: "coap+tcp", tls: "coaps+tcp", ws: "coap+ws", wss: "coaps+ws", unix: "coap+tcp" }[l.transport];
  if (l.local.family === "Unix") return `${scheme}://${encodeURIComponent(l.local.address)}`;
  const host = l.local.family === "IPv6" ? `[${l.local.address}]` : l.local.address;
  return `${scheme}://${host}:${l.local.port}`;
}

/** Starts an agent: binds the listeners of `config` and serves them. */
export async function createAgent(config: AgentConfig, options: AgentOptions = {}): Promise<Agent> {
  const server = new CoapServer({
    clock: options.clock,
    logger: options.logger,
    transmission: config.transmission,
    dedup: { maxEntries: config.limits.dedupEntries, maxBytes: config.limits.dedupBytes },
    separateResponseDelayMs: config.limits.separateResponseDelayMs,
    observe: {
      maxObservers: config.limits.maxObservers,
      maxObserversPerPeer: config.limits.maxObserversPerPeer,
      conEvery: config.limits.observeConEvery,
      conIntervalMs: config.limits.observeConIntervalMs,
    },
    blockwise: {
      preferredSzx: szxFromSize(config.limits.blockSize),
      maxBodyBytes: config.limits.maxBodyBytes,
      maxTransfers: config.limits.maxBlockTransfers,
      transferIdleMs: config.limits.blockTransferTimeoutMs,
      maxTransfersPerPeer: config.limits.maxBlockTransfersPerPeer,
    },
  });
  if (config.demoResources) registerDemoResources(server);
  const cloud = await startCloud(config, server, options);

  const endpoints: DatagramEndpoint[] = [];
  const layers = new Map<DatagramEndpoint, MessageLayer>();
  const clients = new Map<string, CoapClient>();
  const streams: StreamListener[] = [];
  let metrics: MetricsServer | undefined;
  const closeAll = async (): Promise<void> => {
    await metrics?.close();
    for (const c of clients.values()) await c.close();
    await Promise.all(streams.map((l) => l.close())); // Release to each connection before the server goes
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
    if (config.listen.enabled && config.listen.interface !== undefined) {
      await bindInterface(config, add);
    } else if (config.listen.enabled) {
      const { address, port, mtu, recvBufferSize, sendBufferSize } = config.listen;
      try {
        add(await UdpEndpoint.bind({ address, port, mtu, recvBufferSize, sendBufferSize }));
      } catch (e) {
        throw new AgentError("bind-failed", `cannot bind coap://${address}:${port}: ${(e as Error).message}`);
      }
    }
    if (config.coaps.enabled) {
      if (!options.coapsListener) throw new AgentError("coaps-unavailable", "coaps is enabled but no DTLS listener is available");
      add(await options.coapsListener(config));
    }
    const extra = await startStreamListeners(config, server, options.clock);
    streams.push(...extra.streams);
    if (extra.datagram) add(extra.datagram);
  } catch (e) {
    await closeAll();
    throw e;
  }

  const metricsRegistry = createAgentRegistry(
    {
      dtls: () => endpoints.filter((e): e is DtlsServer => e instanceof DtlsServer),
      layers: () => layers.values(),
      server,
      cloud,
      unanswered: () => [...layers.values()].reduce((n, l) => n + l.stats.separateResponsesLost, 0),
      udpSockets: () => endpoints.map((e) => e.local),
    },
    { processMetrics: config.metrics.enabled }, // process metrics start monitors: only when served
  );
  if (config.metrics.enabled) {
    try {
      metrics = await startMetricsServer(metricsRegistry, config.metrics.address, config.metrics.port);
    } catch (e) {
      await closeAll();
      throw new AgentError("bind-failed", `cannot bind metrics http://${config.metrics.address}:${config.metrics.port}: ${(e as Error).message}`);
    }
  }
  const agent: Agent = {
    config,
    server,
    cloud,
    metricsRegistry,
    get metrics() {
      return metrics;
    },
    endpoints,
    streams,
    get urls() {
      return [...endpoints.map(urlOf), ...streams.map(streamUrlOf)];
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
  // What the kernel granted of listen.recvBufferSize/sendBufferSize (Linux: min(asked, rmem_max) × 2).
  const udp = endpoints.find((e): e is UdpEndpoint => e instanceof UdpEndpoint);
  if (udp) options.logger?.info({ asked: { recv: config.listen.recvBufferSize, send: config.listen.sendBufferSize }, granted: udp.bufferSizes() }, "udp socket buffers");
  return agent;
}

/**
 * `listen.interface`: one coap:// socket per address of the interface (IPv6 first, link-local
 * with its zone; IPv4 with listen.ipv4), all on one port, then the CoAP multicast groups on it
 * (transport/multicast.ts) answering from those unicast sockets.
 */
async function bindInterface(config: AgentConfig, add: (ep: DatagramEndpoint) => MessageLayer): Promise<void> {
  const { interface: ifname = "", port, mtu, ipv4, recvBufferSize, sendBufferSize } = config.listen;
  const addrs = interfaceAddresses(ifname, { ipv4: ipv4 === true });
  if (addrs.length === 0) {
    throw new AgentError("bind-failed", interfaceExists(ifname) ? `interface ${ifname} has no usable address` : `interface ${ifname} not found`);
  }
  const unicast: UdpEndpoint[] = [];
  let bound = port;
  for (const a of addrs) {
    try {
      const ep = await UdpEndpoint.bind({ address: a.address, port: bound, mtu, ipv6Only: a.family === "IPv6", recvBufferSize, sendBufferSize });
      bound = ep.local.port;
      unicast.push(ep);
      add(ep);
    } catch (e) {
      throw new AgentError("bind-failed", `cannot bind coap://${a.family === "IPv6" ? `[${a.address}]` : a.address}:${bound} on ${ifname}: ${(e as Error).message}`);
    }
  }
  if (!config.multicast.enabled) return;
  try {
    add(await MulticastEndpoint.join({ interface: ifname, port: bound, groups: config.multicast.groups, replyVia: unicast, leisureMs: config.multicast.leisureMs }));
  } catch (e) {
    throw new AgentError("bind-failed", (e as Error).message);
  }
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
    maxPerPeer: config.limits.maxForwardsPerPeer,
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
