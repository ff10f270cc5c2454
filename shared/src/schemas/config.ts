/**
 * The edge agent's config file (DESIGN.md §5): JSON, validated here, every field defaulted so
 * `{}` is a working loopback agent. Objects are strict, so a misspelt key is an error with its
 * path ("limits.maxBodyByte: unrecognized key") instead of a silently ignored setting.
 * Extending: add a section (e.g. `credentials`, `metrics`) as another strict object
 * with `z.prefault({}, …)` so old files stay valid.
 *
 *     { "listen": { "address": "127.0.0.1", "port": 5683 },
 *       "coaps": { "enabled": true, "psk": [{ "identity": "dev1", "key": "secretPSK" }], "hint": "CoAP",
 *                  "maxSessions": 1000 },
 *       "limits": { "maxBodyBytes": 1048576, "separateResponseDelayMs": 1000 },
 *       "logging": { "level": "info" },
 *       "cloud": { "mode": "remote", "url": "https://coaps-edge-cloud.example.workers.dev",
 *                  "keyFile": "/etc/coaps-edge/gateway-key.json" } }
 *
 * Written with `zod/mini` like the envelopes: shared/ is also bundled into the Worker.
 */
import * as z from "zod/mini";
import { GatewayIdSchema } from "./gateway-key.js";

const int = (min: number, max: number) => z.number().check(z.int(), z.minimum(min), z.maximum(max));
const port = int(0, 65535);

/** pino's levels; "silent" turns logging off. */
export const LOG_LEVELS = ["fatal", "error", "warn", "info", "debug", "trace", "silent"] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

/** Block sizes RFC 7959 allows over UDP (SZX 0..6). */
export const BLOCK_SIZES = [16, 32, 64, 128, 256, 512, 1024] as const;

const KEY_ENCODINGS = ["utf8", "hex", "base64"] as const;

/** One pre-shared key. `key` is text like libcoap's `-k` (utf8), or hex / base64 bytes. */
export const PskEntrySchema = z.strictObject({
  identity: z.string().check(z.minLength(1), z.maxLength(256)),
  key: z.string().check(z.minLength(1)),
  keyEncoding: z._default(z.enum(KEY_ENCODINGS), "utf8"),
  /**
   * Use this entry only while the listener sends this identity hint (libcoap coap-server `-i`
   * lines "hint,identity,key"); without it the entry matches whatever the hint.
   */
  hint: z.optional(z.string().check(z.maxLength(256))),
});
export type PskEntry = z.output<typeof PskEntrySchema>;

/** A key without an identity (libcoap coap-server `-k`: any identity not in the table gets it). */
export const PskKeySchema = z.strictObject({
  key: z.string().check(z.minLength(1)),
  keyEncoding: z._default(z.enum(KEY_ENCODINGS), "utf8"),
});

/** DTLS 1.2 cipher suites a listener may be limited to (preference order is the array's). */
export const DTLS_CIPHER_SUITES = [
  "TLS_PSK_WITH_AES_128_CCM_8",
  "TLS_PSK_WITH_AES_128_CCM",
  "TLS_PSK_WITH_AES_128_GCM_SHA256",
  "TLS_ECDHE_ECDSA_WITH_AES_128_CCM_8",
  "TLS_ECDHE_ECDSA_WITH_AES_128_CCM",
  "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256",
] as const;
export type DtlsCipherSuiteName = (typeof DTLS_CIPHER_SUITES)[number];

export const ListenSchema = z.strictObject({
  /** Local address of the coap:// (plain UDP) listener; "::" for all (dual-stack). */
  address: z._default(z.string().check(z.minLength(1)), "127.0.0.1"),
  /** UDP port; 0 picks a free one. */
  port: z._default(port, 5683),
  /** Path MTU for the largest datagram (libcoap's default 1152). */
  mtu: z._default(int(256, 65535), 1152),
  /** Serve plain coap:// at all (off: only coaps://). */
  enabled: z._default(z.boolean(), true),
  /**
   * Network interface to serve on (e.g. "wpan0", the OTBR's Thread interface): the agent binds
   * each IPv6 address of it (link-local ones with their scope, "fe80::1%wpan0") instead of
   * `address`, and joins the CoAP multicast groups there (see `multicast`).
   */
  interface: z.optional(z.string().check(z.minLength(1), z.maxLength(15))),
  /** With `interface`: also bind its IPv4 addresses (IPv6 first: off unless true). */
  ipv4: z.optional(z.boolean()),
  /**
   * SO_RCVBUF asked for every UDP socket of the agent (coap:// and coaps://), in bytes; 0 keeps
   * the OS default. A burst larger than the buffer is dropped by the kernel before the agent
   * sees it (metric `udp_receive_drops_total`). Linux caps the request at net.core.rmem_max
   * (raise it with sysctl for more) and reports twice the granted value; the agent logs it.
   */
  recvBufferSize: z._default(int(0, 1 << 30), 4 * 1024 * 1024),
  /** SO_SNDBUF for the same sockets, in bytes (0: OS default; capped by net.core.wmem_max). */
  sendBufferSize: z._default(int(0, 1 << 30), 1024 * 1024),
});

/**
 * CoAP multicast discovery (RFC 7252 §12.8, §8): with `listen.interface`, join the "All CoAP
 * Nodes" groups on it and answer multicast requests (GET /.well-known/core) with NON responses
 * after a random leisure delay (§8.2); errors and empty answers are never sent to a multicast request.
 */
export const MulticastSchema = z.strictObject({
  /** Join the groups (only where `listen.interface` is set). */
  enabled: z._default(z.boolean(), true),
  /** Groups to join: link-local and realm-local All CoAP Nodes. */
  groups: z._default(z.array(z.string().check(z.refine((g) => /^ff[0-9a-f]{2}:[0-9a-f:]*$/i.test(g), "must be an IPv6 multicast address (ffXX::…)"))), ["ff02::fd", "ff03::fd"]),
  /** Upper bound of the random delay before a multicast response (RFC 7252 §8.2 DEFAULT_LEISURE: 5 s). */
  leisureMs: z._default(int(0, 60_000), 5000),
});

/**
 * Gateway health reports (POST /v1/health on the Worker, remote mode): sessions, handshakes,
 * errors, uptime, version, and the Thread status from the OTBR REST API when it answers.
 */
export const HealthSchema = z.strictObject({
  /** Report at all (remote cloud mode only; embedded mode keeps the report in process). */
  enabled: z._default(z.boolean(), true),
  /** Seconds between reports. */
  intervalSeconds: z._default(int(5, 86_400), 60),
  /** Base URL of the OpenThread Border Router REST API ("" turns the Thread part off). */
  otbrUrl: z._default(z.string(), "http://127.0.0.1:8081"),
});

/**
 * Certificates for the ECDHE_ECDSA suites, as libcoap coap-server's PKI flags: `cert`/`key`
 * (-c/-j), `ca` (-C: client certificates required, chained to these CAs, common-CA check),
 * `roots` (-R: trusted roots, no common-CA requirement), `verifyPeer: false` (-n). File paths
 * are PEM (or DER) files, relative to the agent's working directory.
 */
export const CoapsPkiSchema = z.strictObject({
  /** Our certificate (leaf first, then intermediates). */
  cert: z.string().check(z.minLength(1)),
  /** Its private key (P-256, PKCS#8 or SEC1, unencrypted); default: the `cert` file. */
  key: z.optional(z.string().check(z.minLength(1))),
  /** CA certificates client chains must end at (coap-server -C). */
  ca: z.optional(z.string().check(z.minLength(1))),
  /** Trusted root CAs for client chains, without the common-CA check (coap-server -R). */
  roots: z.optional(z.string().check(z.minLength(1))),
  /** Request, require and validate client certificates; default: when `ca` or `roots` is given. */
  verifyPeer: z.optional(z.boolean()),
  /** Accept a self-signed client certificate (only without the common-CA check). */
  allowSelfSigned: z._default(z.boolean(), false),
  /** Accept expired and not-yet-valid client certificates. */
  allowExpiredCerts: z._default(z.boolean(), false),
  /** Intermediate CAs allowed between a client leaf and our CA. */
  certChainVerifyDepth: z._default(int(0, 9), 3),
});

/**
 * The coaps:// (DTLS 1.2) listener: same resources as coap://. Credentials: the PSK table,
 * `defaultPsk` for any other identity, certificates (`pki`), or any mix (as libcoap, a client
 * gets the suites its own credentials allow). Limits bound the state an attacker can make
 * the agent keep (half-open handshakes only exist after the stateless cookie exchange).
 */
export const CoapsSchema = z.strictObject({
  enabled: z._default(z.boolean(), false),
  /** Local address of the DTLS listener (default: listen.address; "::" with listen.interface). */
  address: z.optional(z.string().check(z.minLength(1))),
  /** DTLS port (default: listen.port + 1, as libcoap's coap-server). */
  port: z.optional(port),
  /** Path MTU of the DTLS listener (default: listen.mtu); the CoAP max PDU is this minus IP/UDP and record overhead. */
  mtu: z.optional(int(256, 65535)),
  /** PSK table: identity → key. */
  psk: z._default(z.array(PskEntrySchema), []),
  /** The key for any identity not in `psk` (libcoap coap-server `-k`). */
  defaultPsk: z.optional(PskKeySchema),
  /** Certificates (TLS_ECDHE_ECDSA_WITH_AES_128_CCM_8 …). */
  pki: z.optional(CoapsPkiSchema),
  /** PSK identity hint sent in ServerKeyExchange (RFC 4279 §2); libcoap's default "CoAP", "" for none. */
  hint: z._default(z.string().check(z.maxLength(256)), "CoAP"),
  /** Cipher suites in preference order (default: the engine's, CCM_8 first). */
  cipherSuites: z.optional(z.array(z.enum(DTLS_CIPHER_SUITES)).check(z.minLength(1))),
  /** Established sessions at most; further handshakes are refused. */
  maxSessions: z._default(int(1, 10_000_000), 10_000),
  /** Handshakes in progress at most (counted after the cookie exchange). */
  maxHalfOpen: z._default(int(1, 1_000_000), 100),
  /** Close a session after this long without input (libcoap: 300 s; 0: never). */
  idleTimeoutMs: z._default(int(0, 86_400_000), 300_000),
  /** A handshake not complete after this long fails. */
  handshakeTimeoutMs: z._default(int(1000, 600_000), 60_000),
});

/**
 * CoAP over TCP (RFC 8323, `coap+tcp://`): on by default next to UDP, as libcoap's coap-server
 * (same address, same port number: TCP and UDP ports are separate namespaces).
 */
export const TcpSchema = z.strictObject({
  enabled: z._default(z.boolean(), true),
  /** Local address (default: listen.address). */
  address: z.optional(z.string().check(z.minLength(1))),
  /** TCP port (default: listen.port; 0 picks a free one). */
  port: z.optional(port),
  /** Connections beyond this are refused. */
  maxConnections: z._default(int(1, 1_000_000), 1024),
});

/**
 * CoAP over TLS (RFC 8323, `coaps+tcp://`): on by default, served only when `coaps` has
 * credentials (PSK table, defaultPsk or pki: the same ones the DTLS listener uses).
 */
export const TlsSchema = z.strictObject({
  enabled: z._default(z.boolean(), true),
  /** Local address (default: coaps.address). */
  address: z.optional(z.string().check(z.minLength(1))),
  /** TCP port (default: coaps.port, i.e. listen.port + 1). */
  port: z.optional(port),
  maxConnections: z._default(int(1, 1_000_000), 1024),
});

/**
 * CoAP over WebSockets (RFC 8323 §4, `coap+ws://` / `coaps+ws://` at /.well-known/coap): off
 * unless the section is given (80/443 belong to HTTP, so there is no default port). `wss` uses
 * the `coaps` credentials.
 */
export const WsSchema = z.strictObject({
  enabled: z._default(z.boolean(), true),
  /** Local address (default: listen.address). */
  address: z.optional(z.string().check(z.minLength(1))),
  /** TCP port (0 picks a free one). */
  port,
  maxConnections: z._default(int(1, 1_000_000), 1024),
});

/**
 * A Unix-domain socket (libcoap's AF_UNIX sessions): a stream socket with RFC 8323 TCP framing
 * (`coap+tcp://%2Fpath…`), or with `datagram` a datagram socket with the UDP message layer
 * (`coap://%2Fpath…`, needs the optional unix-dgram module). The path is removed on close.
 */
export const UnixSchema = z.strictObject({
  enabled: z._default(z.boolean(), true),
  path: z.string().check(z.minLength(1), z.maxLength(107)),
  datagram: z._default(z.boolean(), false),
});

export const LimitsSchema = z.strictObject({
  /** Largest request body reassembled from Block1 (4.13 beyond). */
  maxBodyBytes: z._default(int(1, 1 << 30), 1024 * 1024),
  /** Dedup cache bounds per listener (RFC 7252 §4.5). */
  dedupEntries: z._default(int(1, 10_000_000), 10_000),
  dedupBytes: z._default(int(1024, 1 << 30), 4 * 1024 * 1024),
  /** Delay before an unanswered CON gets an empty ACK and a separate response (must be < ackTimeoutMs). */
  separateResponseDelayMs: z._default(int(0, 60_000), 1000),
  /** Preferred block size (the smaller of ours and the peer's wins). */
  blockSize: z._default(
    z.number().check(z.refine((n) => (BLOCK_SIZES as readonly number[]).includes(n), "must be one of 16, 32, 64, 128, 256, 512, 1024")),
    1024,
  ),
  /** Concurrent block-wise transfers kept, and their idle timeout. */
  maxBlockTransfers: z._default(int(1, 1_000_000), 256),
  blockTransferTimeoutMs: z._default(int(1000, 3_600_000), 60_000),
  /** DTLS handshakes one source IP may start per second (token bucket after the cookie exchange; 0: no limit). */
  handshakesPerSecond: z._default(z.number().check(z.minimum(0), z.maximum(1_000_000)), 10),
  /** The bucket size: handshakes one IP may start back to back. */
  handshakeBurst: z._default(int(1, 1_000_000), 20),
  /** Source IPs the handshake rate limiter tracks (least recently used forgotten beyond it). */
  rateLimitAddresses: z._default(int(1, 10_000_000), 10_000),
  /** At coaps.maxSessions, a session idle this long (ms) is closed to admit a new one (0: any; -1: never evict). */
  evictIdleAfterMs: z._default(int(-1, 86_400_000), 10_000),
  /** Block1 uploads one peer may have in progress (its reassembly memory ≤ this × maxBodyBytes; 5.03 beyond). */
  maxBlockTransfersPerPeer: z._default(int(1, 1_000_000), 4),
  /** Cloud requests one peer may have in flight; beyond it the device gets 5.03 with Max-Age. */
  maxForwardsPerPeer: z._default(int(1, 100_000), 8),
  /** Observers (RFC 7641) of local resources in total; a registration beyond is served without Observe (0: Observe off). */
  maxObservers: z._default(int(0, 1_000_000), 1000),
  /** Observers one peer (address and port) may hold. */
  maxObserversPerPeer: z._default(int(0, 100_000), 16),
  /** Every n-th notification to an observer is CON, the others NON (libcoap: 5; 0: only by the interval). */
  observeConEvery: z._default(int(0, 100_000), 5),
  /** An observer gets a CON notification at least this often (RFC 7641 §4.5: at least every 24 hours). */
  observeConIntervalMs: z._default(int(1000, 86_400_000), 86_400_000),
});

/** Prometheus metrics (text exposition) over HTTP on a local port: GET /metrics. */
export const MetricsSchema = z.strictObject({
  enabled: z._default(z.boolean(), false),
  /** Local by default: the counters describe the gateway's peers. */
  address: z._default(z.string().check(z.minLength(1)), "127.0.0.1"),
  port: z._default(port, 9464),
});

/** RFC 7252 §4.8 transmission parameters (derived values follow by the §4.8.2 formulas). */
export const TransmissionSchema = z.strictObject({
  ackTimeoutMs: z._default(int(100, 600_000), 2000),
  ackRandomFactor: z._default(z.number().check(z.minimum(1), z.maximum(4)), 1.5),
  maxRetransmit: z._default(int(0, 20), 4),
  nstart: z._default(int(1, 1000), 1),
});

/** Where requests without a local resource go (DESIGN.md §3). */
export const CLOUD_MODES = ["embedded", "remote"] as const;

/** True for an absolute http(s) URL. */
function isHttpUrl(s: string): boolean {
  try {
    const u = new URL(s);
    return u.protocol === "https:" || u.protocol === "http:";
  } catch {
    return false;
  }
}

/**
 * The cloud the agent forwards to. "embedded" (default) runs the cloud app in process; without
 * `keyFile` it signs with a throwaway in-memory gateway key (the app trusts exactly that key).
 * "remote" POSTs to the Worker at `url`, signing with the key file made by `coaps-edge keys`
 * (its public key must be in the Worker's GATEWAY_KEYS).
 */
export const CloudSchema = z.strictObject({
  mode: z._default(z.enum(CLOUD_MODES), "embedded"),
  /** Base URL of the Worker (remote mode), e.g. "https://coaps-edge-cloud.example.workers.dev". */
  url: z.optional(z.string().check(z.refine(isHttpUrl, "must be an http(s) URL"))),
  /** The gateway id tokens are signed as (default: the key file's, or "embedded"). */
  gatewayId: z.optional(GatewayIdSchema),
  /** Gateway key file ({gatewayId, privateKey, publicKey}, mode 0600); required in remote mode. */
  keyFile: z.optional(z.string().check(z.minLength(1))),
  /** A cloud answer slower than this is a 5.04 for the device. */
  timeoutMs: z._default(int(100, 600_000), 10_000),
  /** Cloud exchanges in flight at once (remote mode). */
  maxConcurrent: z._default(int(1, 100_000), 32),
  /** Max-Age (seconds) of the 5.03 a device gets while the cloud is unreachable. */
  unavailableMaxAge: z._default(int(0, 86_400), 10),
  /** Remote mode: re-fetch the registry this often (0: only at start and on a miss). */
  registryRefreshSeconds: z._default(int(0, 86_400), 300),
});

/**
 * JSON lines (pino) on stderr, kept by the journal under systemd. The agent writes them in
 * batches, at most 200 ms after a line is logged, and flushes them when it exits. At "info" it
 * logs every DTLS session established; "warn" keeps failures only (libcoap's default verbosity).
 */
export const LoggingSchema = z.strictObject({
  level: z._default(z.enum(LOG_LEVELS), "info"),
});

const AgentConfigObject = z.strictObject({
  listen: z.prefault(ListenSchema, {}),
  coaps: z.prefault(CoapsSchema, {}),
  limits: z.prefault(LimitsSchema, {}),
  transmission: z.prefault(TransmissionSchema, {}),
  logging: z.prefault(LoggingSchema, {}),
  cloud: z.prefault(CloudSchema, {}),
  multicast: z.prefault(MulticastSchema, {}),
  health: z.prefault(HealthSchema, {}),
  metrics: z.prefault(MetricsSchema, {}),
  tcp: z.prefault(TcpSchema, {}),
  tls: z.prefault(TlsSchema, {}),
  ws: z.optional(WsSchema),
  wss: z.optional(WsSchema),
  unix: z.optional(UnixSchema),
  /** Serve the local demo resources /hello, /echo, /large (they shadow the cloud's). */
  demoResources: z._default(z.boolean(), false),
});

/** The agent config schema: parse a JSON value into a complete AgentConfig (coaps.port/address resolved). */
export const AgentConfigSchema = z.pipe(
  AgentConfigObject.check(
    z.superRefine((c, ctx) => {
      if (c.limits.separateResponseDelayMs >= c.transmission.ackTimeoutMs) {
        ctx.addIssue({
          code: "custom",
          path: ["limits", "separateResponseDelayMs"],
          message: `must be below transmission.ackTimeoutMs (${c.transmission.ackTimeoutMs}) so the empty ACK beats the client's retransmission`,
          input: c.limits.separateResponseDelayMs,
        });
      }
      const coapsPort = c.coaps.port ?? (c.listen.port === 0 ? 0 : c.listen.port + 1);
      if (c.coaps.enabled && c.listen.enabled && coapsPort !== 0 && coapsPort === c.listen.port && (c.coaps.address ?? c.listen.address) === c.listen.address) {
        ctx.addIssue({ code: "custom", path: ["coaps", "port"], message: "must differ from listen.port", input: c.coaps.port });
      }
      const pki = c.coaps.pki;
      if (pki?.verifyPeer === true && pki.ca === undefined && pki.roots === undefined) {
        ctx.addIssue({ code: "custom", path: ["coaps", "pki", "verifyPeer"], message: "client certificates need `ca` or `roots` to be validated against", input: true });
      }
      if (c.coaps.enabled && c.coaps.psk.length === 0 && c.coaps.defaultPsk === undefined && pki === undefined) {
        ctx.addIssue({ code: "custom", path: ["coaps", "psk"], message: "coaps is enabled but no credentials are configured", input: c.coaps.psk });
      }
      if (c.cloud.mode === "remote") {
        if (c.cloud.url === undefined) ctx.addIssue({ code: "custom", path: ["cloud", "url"], message: "remote mode needs the Worker URL", input: undefined });
        if (c.cloud.keyFile === undefined) ctx.addIssue({ code: "custom", path: ["cloud", "keyFile"], message: "remote mode needs a gateway key file (coaps-edge keys --out FILE)", input: undefined });
      }
      const coapsCredentials = c.coaps.psk.length > 0 || c.coaps.defaultPsk !== undefined || pki !== undefined;
      if (c.wss?.enabled && !coapsCredentials) {
        ctx.addIssue({ code: "custom", path: ["wss", "enabled"], message: "wss needs coaps credentials (coaps.psk, coaps.defaultPsk or coaps.pki)", input: true });
      }
      const streams = c.tcp.enabled || (c.tls.enabled && coapsCredentials) || c.ws?.enabled === true || c.wss?.enabled === true || c.unix?.enabled === true;
      if (!c.coaps.enabled && !c.listen.enabled && !streams) {
        ctx.addIssue({ code: "custom", path: ["listen", "enabled"], message: "nothing to listen on: enable listen, coaps, tcp, tls, ws, wss or unix", input: false });
      }
    }),
  ),
  z.transform((c) => ({
    ...c,
    coaps: {
      ...c.coaps,
      // On an interface the DTLS listener (one socket) takes "::"; coaps.address narrows it.
      address: c.coaps.address ?? (c.listen.interface !== undefined ? "::" : c.listen.address),
      port: c.coaps.port ?? (c.listen.port === 0 ? 0 : Math.min(65535, c.listen.port + 1)),
      mtu: c.coaps.mtu ?? c.listen.mtu,
    },
    tcp: { ...c.tcp, address: c.tcp.address ?? c.listen.address, port: c.tcp.port ?? c.listen.port },
    tls: {
      ...c.tls,
      address: c.tls.address ?? c.coaps.address ?? c.listen.address,
      port: c.tls.port ?? c.coaps.port ?? (c.listen.port === 0 ? 0 : Math.min(65535, c.listen.port + 1)),
    },
    ...(c.ws ? { ws: { ...c.ws, address: c.ws.address ?? c.listen.address } } : {}),
    ...(c.wss ? { wss: { ...c.wss, address: c.wss.address ?? c.coaps.address ?? c.listen.address } } : {}),
  })),
);

/** A complete, validated agent config. */
export type AgentConfig = z.output<typeof AgentConfigSchema>;
/** What a config file may contain (everything optional). */
export type AgentConfigInput = z.input<typeof AgentConfigSchema>;

/** One problem in a config file: the dotted path of the bad field and what is wrong. */
export interface ConfigIssue {
  readonly path: string;
  readonly message: string;
}

export type ConfigParseResult = { readonly ok: true; readonly config: AgentConfig } | { readonly ok: false; readonly issues: ConfigIssue[] };

/** Validates a parsed JSON value; never throws. */
export function parseAgentConfig(input: unknown): ConfigParseResult {
  const r = AgentConfigSchema.safeParse(input);
  if (r.success) return { ok: true, config: r.data };
  const issues: ConfigIssue[] = [];
  for (const i of r.error.issues) {
    const path = i.path.map(String);
    if (i.code === "unrecognized_keys") {
      // One line per misspelt key, at the key's own path.
      for (const k of i.keys) issues.push({ path: dotted([...path, k]), message: "unrecognized key" });
    } else {
      issues.push({ path: dotted(path), message: describeIssue(i) });
    }
  }
  return { ok: false, issues };
}

function dotted(path: readonly string[]): string {
  return path.length ? path.join(".") : "(root)";
}

/**
 * English text for an issue. zod/mini ships no locale (its default message is "Invalid input"),
 * and loading one globally would change every other schema's messages, so the config words its own.
 */
function describeIssue(i: z.core.$ZodIssue): string {
  switch (i.code) {
    case "invalid_type":
      return i.expected === "int" ? "must be an integer" : `expected ${i.expected}`;
    case "too_big":
      return i.origin === "string" ? `must be at most ${String(i.maximum)} characters` : `must be at most ${String(i.maximum)}`;
    case "too_small":
      if (i.origin === "string") return Number(i.minimum) === 1 ? "must not be empty" : `must be at least ${String(i.minimum)} characters`;
      return `must be at least ${String(i.minimum)}`;
    case "invalid_value":
      return `must be one of ${i.values.map((v) => JSON.stringify(v)).join(", ")}`;
    default:
      return i.message;
  }
}

/** "listen.port: Too big …" lines, one per issue. */
export function formatConfigIssues(issues: readonly ConfigIssue[]): string {
  return issues.map((i) => `${i.path}: ${i.message}`).join("\n");
}
