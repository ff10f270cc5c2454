/**
 * The agent's coaps:// listener: a DtlsServer over a UdpEndpoint, built from `config.coaps`
 * (plug it into `createAgent(config, { coapsListener: dtlsListener() })`). The CoAP layers on
 * top see plaintext datagrams and the peer identity (`req.identity`), as on coap://.
 *
 * PSK lookup follows libcoap's coap-server (examples/coap-server.c, verify_id_callback):
 *   1. a table entry with this identity whose `hint` is unset or equals the hint we send
 *      (`-i` lines "hint,identity,key"; config `coaps.psk`);
 *   2. otherwise `defaultPsk` for any identity (`-k KEY`);
 *   3. otherwise unknown_psk_identity (RFC 4279 §2).
 *
 * Certificates follow coap-server's PKI flags (config `coaps.pki`): `ca` (-C) requires client
 * certificates chained to those CAs with the common-CA check; `roots` (-R) trusts roots without
 * it; `verifyPeer: false` (-n) requests none. Without `ca`/`roots` no client certificate is
 * asked for. Peers authenticated by certificate reach handlers as identity kind "x509" with the
 * subject CN and the SHA-256 of the certificate.
 *
 * Datagram size: the UDP endpoint's MTU minus IP/UDP headers is the DTLS datagram budget; the
 * CoAP max PDU is that minus the negotiated suite's record overhead (DtlsServer.maxMessageSize).
 */
import type { AgentConfig, DtlsCipherSuiteName } from "@coaps-edge/shared";
import { AgentError, type CoapsListenerFactory } from "./agent.js";
import { CIPHER_SUITES, DtlsServer, type DtlsServerOptions, type DtlsServerPki, type PskServerCredentials } from "./dtls/index.js";
import { PkiError, loadCredentials, loadTrustStore, type CertificateInput } from "./pki/index.js";
import type { ServerLogger } from "./server/types.js";
import { UdpEndpoint } from "./transport/udp.js";
import type { Clock } from "./util/clock.js";

export type CoapsConfig = AgentConfig["coaps"];

/** The listener's logger; `isLevelEnabled` (pino's) lets it skip hooks whose level is off. */
export type DtlsListenerLogger = ServerLogger & { info(obj: object, msg?: string): void; isLevelEnabled?(level: string): boolean };

export interface DtlsListenerOptions {
  readonly logger?: DtlsListenerLogger;
  readonly clock?: Clock;
  /** More DtlsServer options (e.g. certificate credentials), merged over those from the config. */
  readonly server?: (config: AgentConfig) => Partial<DtlsServerOptions> | Promise<Partial<DtlsServerOptions>>;
}

/** Bytes of a key as the config encodes it (utf8 as libcoap's `-k`, or hex / base64). */
export function decodePskKey(key: string, encoding: "utf8" | "hex" | "base64"): Uint8Array {
  if (encoding === "utf8") return new TextEncoder().encode(key);
  if (encoding === "hex") {
    if (!/^(?:[0-9a-f]{2})+$/i.test(key)) throw new AgentError("config-invalid", "coaps: a hex PSK must be an even number of hex digits");
    return Uint8Array.from(Buffer.from(key, "hex"));
  }
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(key)) throw new AgentError("config-invalid", "coaps: a base64 PSK is not valid base64");
  return Uint8Array.from(Buffer.from(key, "base64"));
}

/**
 * Server PSK credentials for `coaps` (see the module comment for the lookup order), or
 * undefined when no PSK is configured. Keys are decoded once, here.
 */
export function pskCredentials(coaps: Pick<CoapsConfig, "psk" | "defaultPsk" | "hint">): PskServerCredentials | undefined {
  const hint = coaps.hint;
  const table = new Map<string, Uint8Array>();
  for (const e of coaps.psk) {
    if (e.hint !== undefined && e.hint !== hint) continue; // a libcoap -i line for another hint
    // The first matching line wins, as libcoap scans its list in file order.
    if (!table.has(e.identity)) table.set(e.identity, decodePskKey(e.key, e.keyEncoding));
  }
  const fallback = coaps.defaultPsk && decodePskKey(coaps.defaultPsk.key, coaps.defaultPsk.keyEncoding);
  if (table.size === 0 && !fallback) return undefined;
  return {
    ...(hint === "" ? {} : { hint }),
    lookup: (identity) => table.get(identity) ?? fallback,
  };
}

/** Suite ids for configured names; a name the engine does not implement is a config error. */
export function cipherSuiteIds(names: readonly DtlsCipherSuiteName[] | undefined): number[] | undefined {
  if (names === undefined) return undefined;
  return names.map((name) => {
    const suite = CIPHER_SUITES.find((s) => s.name === name);
    if (!suite) throw new AgentError("config-invalid", `coaps.cipherSuites: ${name} is not implemented by this DTLS engine`);
    return suite.id;
  });
}

/**
 * Server certificate options for `coaps.pki` (files are read and parsed once, here), or
 * undefined without it. A file that cannot be used is an AgentError "config-invalid".
 */
export function serverPki(pki: CoapsConfig["pki"]): DtlsServerPki | undefined {
  if (!pki) return undefined;
  try {
    const credentials = loadCredentials({ path: pki.cert }, { path: pki.key ?? pki.cert });
    const cas: CertificateInput[] = [];
    if (pki.ca !== undefined) cas.push({ path: pki.ca });
    if (pki.roots !== undefined) cas.push({ path: pki.roots });
    const verifyPeer = pki.verifyPeer ?? cas.length > 0;
    return {
      credentials,
      ...(cas.length > 0 ? { trust: loadTrustStore(...cas) } : {}),
      policy: {
        // libcoap: -R (trusted roots) turns the common-CA requirement of -C off.
        checkCommonCa: pki.ca !== undefined && pki.roots === undefined,
        allowSelfSigned: pki.allowSelfSigned,
        allowExpiredCerts: pki.allowExpiredCerts,
        certChainVerifyDepth: pki.certChainVerifyDepth,
      },
      verifyPeer,
    };
  } catch (e) {
    if (e instanceof PkiError) throw new AgentError("config-invalid", `coaps.pki: ${e.message}`);
    throw e;
  }
}

/** DtlsServer options from the config (without the lower endpoint). */
export function dtlsServerOptions(config: AgentConfig, clock?: Clock): DtlsServerOptions {
  const c = config.coaps;
  const psk = pskCredentials(c);
  const pki = serverPki(c.pki);
  const suites = cipherSuiteIds(c.cipherSuites);
  return {
    ...(psk ? { psk } : {}),
    ...(pki ? { pki } : {}),
    ...(suites ? { cipherSuites: suites } : {}),
    ...(clock ? { clock } : {}),
    maxSessions: c.maxSessions,
    maxHalfOpen: c.maxHalfOpen,
    idleTimeoutMs: c.idleTimeoutMs,
    handshakeTimeoutMs: c.handshakeTimeoutMs,
    // issue 8 limits (config.limits): per-IP handshake rate and idle-session eviction.
    handshakeRate: config.limits.handshakesPerSecond > 0
      ? { perSecond: config.limits.handshakesPerSecond, burst: config.limits.handshakeBurst, maxAddresses: config.limits.rateLimitAddresses }
      : false,
    evictIdleAfterMs: config.limits.evictIdleAfterMs < 0 ? false : config.limits.evictIdleAfterMs,
  };
}

/** The listener factory for `createAgent`: binds `coaps.address:coaps.port` and serves DTLS on it. */
export function dtlsListener(options: DtlsListenerOptions = {}): CoapsListenerFactory {
  return async (config) => {
    const c = config.coaps;
    const base = dtlsServerOptions(config, options.clock);
    const extra = options.server ? await options.server(config) : {};
    let udp: UdpEndpoint;
    try {
      const { recvBufferSize, sendBufferSize } = config.listen;
      udp = await UdpEndpoint.bind({ address: c.address, port: c.port, mtu: c.mtu, recvBufferSize, sendBufferSize });
    } catch (e) {
      throw new AgentError("bind-failed", `cannot bind coaps://${c.address}:${c.port}: ${(e as Error).message}`);
    }
    let server: DtlsServer;
    try {
      server = new DtlsServer(udp, { ...base, ...extra });
    } catch (e) {
      await udp.close();
      throw new AgentError("config-invalid", `coaps: ${(e as Error).message}`);
    }
    const log = options.logger;
    // A hook only for a level that is on: each builds its log object per session, and a gateway
    // taking thousands of new sessions a second would build them for nothing (the level is fixed
    // for the agent's life).
    const on = (level: "info" | "warn" | "debug"): boolean => log !== undefined && (log.isLevelEnabled?.(level) ?? true);
    if (log && on("info")) {
      server.onSessionEstablished = (peer, info) =>
        log.info(
          { peer: `${peer.address}:${peer.port}`, suite: info.cipherSuite.name, identity: info.identity.identity, auth: info.identity.kind, sni: info.sni },
          "dtls session established",
        );
    }
    if (log && on("warn")) {
      server.onHandshakeFailed = (peer, err) =>
        log.warn({ peer: `${peer.address}:${peer.port}`, code: err.code, alert: err.alert?.description }, `dtls handshake failed: ${err.message}`);
    }
    if (log && on("debug")) server.onSessionClosed = (peer, reason) => log.debug({ peer: `${peer.address}:${peer.port}`, reason }, "dtls session closed");
    return server;
  };
}
