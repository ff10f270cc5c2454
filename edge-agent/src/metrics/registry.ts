/**
 * The agent's Prometheus metrics: one prom-client `Registry` per agent (never the global
 * default, so two agents in one process — tests — do not share counters). Every value is read
 * from the stats objects the layers already keep (`DtlsStats`, `MessageLayerStats`,
 * `CloudRoutesStats`, …) in `collect` callbacks at scrape time: the hot path only increments
 * plain numbers, never calls prom-client.
 */
import { Counter, Gauge, Registry, collectDefaultMetrics } from "prom-client";
import type { MessageLayer } from "../coap/message-layer.js";
import type { DtlsServer } from "../dtls/server.js";
import type { CloudRoutes } from "../forward/cloud-routes.js";
import type { CoapServer } from "../server/server.js";
import type { PeerAddress } from "../transport/types.js";
import { udpSocketDrops } from "./udp-drops.js";

/** Where the numbers come from; functions because listeners come and go. */
export interface MetricsSources {
  /** The coaps:// servers (sessions, handshakes, records). */
  dtls(): Iterable<DtlsServer>;
  /** Every message layer (coap:// and coaps://). */
  layers(): Iterable<MessageLayer>;
  readonly server?: CoapServer;
  readonly cloud?: CloudRoutes;
  /** Requests acknowledged (empty ACK) whose answer never reached the device, when counted. */
  unanswered?(): number;
  /** Local addresses of the agent's UDP sockets, for the kernel's per-socket drop counts. */
  udpSockets?(): Iterable<PeerAddress>;
}

const PREFIX = "coaps_edge_";

function sum<T>(items: Iterable<T>, f: (t: T) => number): number {
  let n = 0;
  for (const t of items) n += f(t);
  return n;
}

/** A counter whose value is `read()` at scrape time. */
function counter(reg: Registry, name: string, help: string, read: () => number): void {
  new Counter({
    name: PREFIX + name,
    help,
    registers: [reg],
    collect() {
      this.reset();
      this.inc(read());
    },
  });
}

/** A counter with one label whose values are `read()` at scrape time. */
function labelledCounter<L extends string>(reg: Registry, name: string, help: string, label: L, read: () => Iterable<[string, number]>): void {
  new Counter<L>({
    name: PREFIX + name,
    help,
    labelNames: [label],
    registers: [reg],
    collect() {
      this.reset();
      for (const [value, n] of read()) this.inc({ [label]: value } as Record<L, string>, n);
    },
  });
}

function gauge(reg: Registry, name: string, help: string, read: () => number): void {
  new Gauge({
    name: PREFIX + name,
    help,
    registers: [reg],
    collect() {
      this.set(read());
    },
  });
}

/**
 * Builds the registry for one agent. The metric names are listed in README.md ("Metrics").
 * `processMetrics` adds prom-client's process metrics (RSS, CPU, event-loop lag) under the same prefix.
 */
export function createAgentRegistry(src: MetricsSources, options: { processMetrics?: boolean } = {}): Registry {
  const reg = new Registry();
  const dtls = () => [...src.dtls()];
  const layers = () => [...src.layers()];

  gauge(reg, "dtls_sessions", "Established DTLS sessions.", () => sum(dtls(), (d) => d.sessionCount));
  gauge(reg, "dtls_half_open", "DTLS handshakes in progress (past the cookie exchange).", () => sum(dtls(), (d) => d.halfOpenCount));
  gauge(reg, "dtls_rate_limit_addresses", "Source addresses tracked by the handshake rate limiter.", () => sum(dtls(), (d) => d.rateLimitedAddresses));
  counter(reg, "dtls_handshakes_ok_total", "DTLS handshakes completed.", () => sum(dtls(), (d) => d.stats.handshakesOk));
  labelledCounter(reg, "dtls_handshakes_failed_total", "DTLS handshakes failed, by reason (error code or peer_<alert>).", "reason", () => {
    const m = new Map<string, number>();
    for (const d of dtls()) for (const [k, v] of d.limitStats.handshakeFailures) m.set(k, (m.get(k) ?? 0) + v);
    return m;
  });
  labelledCounter(reg, "dtls_records_dropped_total", "DTLS records dropped, by reason.", "reason", () => [
    ["decrypt", sum(dtls(), (d) => d.stats.decryptFailures)],
    ["replay", sum(dtls(), (d) => d.stats.replaysDropped)],
    ["malformed", sum(dtls(), (d) => d.stats.recordsDropped)],
  ]);
  counter(reg, "dtls_cookies_sent_total", "HelloVerifyRequests sent.", () => sum(dtls(), (d) => d.stats.cookiesSent));
  counter(reg, "dtls_handshakes_rate_limited_total", "ClientHellos dropped by the per-address handshake rate limit.", () => sum(dtls(), (d) => d.limitStats.rateLimited));
  counter(reg, "dtls_sessions_evicted_total", "Idle sessions closed to admit a new one at maxSessions.", () => sum(dtls(), (d) => d.limitStats.sessionsEvicted));
  counter(reg, "dtls_idle_timeouts_total", "Sessions closed for inactivity.", () => sum(dtls(), (d) => d.stats.idleTimeouts));
  counter(reg, "dtls_retransmissions_total", "DTLS handshake flights retransmitted.", () => sum(dtls(), (d) => d.stats.retransmits));
  labelledCounter(reg, "rejected_by_limit_total", "Inputs refused by a limit, by limit.", "limit", () => [
    ["dtls_half_open", sum(dtls(), (d) => d.stats.halfOpenRejected)],
    ["dtls_max_sessions", sum(dtls(), (d) => d.stats.sessionsRejected)],
    ["dtls_rate", sum(dtls(), (d) => d.limitStats.rateLimited)],
    ["dtls_amplification", sum(dtls(), (d) => d.stats.amplificationDropped)],
    ["forward_per_peer", src.cloud?.outcomes.peerLimited ?? 0],
    ["block1_body_size", src.server?.blockStats.uploadsTooLarge ?? 0],
    ["block1_per_peer", src.server?.blockStats.uploadsPerPeerRejected ?? 0],
    ["observers", src.server?.observe.stats.rejectedByLimit ?? 0],
  ]);

  labelledCounter(reg, "coap_messages_total", "CoAP messages, by direction.", "direction", () => [
    ["in", sum(layers(), (l) => l.stats.received)],
    ["out", sum(layers(), (l) => l.stats.sent)],
  ]);
  counter(reg, "coap_malformed_total", "Datagrams that were not valid CoAP (dropped).", () => sum(layers(), (l) => l.stats.malformed));
  counter(reg, "coap_dedup_hits_total", "Duplicate CON/NON messages answered from the dedup cache or ignored.", () => sum(layers(), (l) => l.stats.duplicates));
  counter(reg, "coap_retransmissions_total", "CoAP CON retransmissions.", () => sum(layers(), (l) => l.stats.retransmissions));
  counter(reg, "coap_con_timeouts_total", "CONs given up after MAX_RETRANSMIT (separate responses and downlink requests).", () => sum(layers(), (l) => l.stats.timeouts));
  gauge(reg, "coap_dedup_entries", "Entries in the dedup caches.", () => sum(layers(), (l) => l.dedupStats.entries));
  if (src.server) {
    const s = src.server;
    counter(reg, "coap_requests_total", "CoAP requests dispatched by the server.", () => s.stats.requests);
    counter(reg, "coap_separate_responses_total", "Requests acknowledged with an empty ACK and answered separately.", () => s.stats.separateResponses);
    counter(reg, "coap_block2_blocks_from_cache_total", "Block2 blocks served from the body cache (block-wise transfers).", () => s.stats.blocksFromCache);
    gauge(reg, "coap_block1_uploads", "Block1 uploads being reassembled.", () => s.blockStats.uploads);
    labelledCounter(reg, "coap_block1_refused_total", "Block1 uploads refused, by reason.", "reason", () => [
      ["too_large", s.blockStats.uploadsTooLarge],
      ["incomplete", s.blockStats.uploadsIncomplete],
      ["per_peer", s.blockStats.uploadsPerPeerRejected],
    ]);
    gauge(reg, "coap_observers", "Observers (RFC 7641) of local resources.", () => s.observe.size);
    counter(reg, "coap_notifications_total", "Observe notifications sent.", () => s.observe.stats.notifications);
    labelledCounter(reg, "coap_observers_removed_total", "Observers removed, by reason.", "reason", () => [
      ["deregistered", s.observe.stats.deregistrations],
      ["reset", s.observe.stats.removedByReset],
      ["timeout", s.observe.stats.removedByTimeout],
      ["session_end", s.observe.stats.removedBySessionEnd],
      ["error", s.observe.stats.removedByError],
    ]);
  }
  if (src.unanswered) {
    const read = src.unanswered;
    counter(reg, "coap_acknowledged_unanswered_total", "Requests acknowledged by the edge whose answer never reached the device.", read);
  }
  if (src.cloud) {
    const cloud = src.cloud;
    const c = { outcomes: cloud.outcomes };
    labelledCounter(reg, "forward_requests_total", "Requests forwarded to the cloud, by the answer the device got.", "outcome", () => [
      ["ok", c.outcomes.ok],
      ["5.03", c.outcomes.serviceUnavailable],
      ["5.04", c.outcomes.gatewayTimeout],
      ["5.02", c.outcomes.badGateway],
      ["other", c.outcomes.other],
    ]);
    counter(reg, "forward_peer_limited_total", "Requests answered 5.03 because their peer had maxForwardsPerPeer in flight.", () => cloud.outcomes.peerLimited);
    counter(reg, "forward_failures_total", "Cloud exchanges that failed (the edge answered).", () => cloud.stats.failures);
  }
  if (src.udpSockets) {
    const sockets = src.udpSockets;
    labelledCounter(reg, "udp_receive_drops_total", "Datagrams the kernel dropped at a full socket receive buffer, by local socket (/proc/net/udp).", "socket", () => udpSocketDrops(sockets()) ?? []);
  }
  if (options.processMetrics) collectDefaultMetrics({ register: reg, prefix: PREFIX });
  return reg;
}
