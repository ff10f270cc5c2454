/**
 * libcoap's client endpoint API (man coap_endpoint_client): coap_new_client_session,
 * coap_new_client_session_psk2, coap_new_client_session_pki, coap_session_set_mtu,
 * coap_session_max_pdu_size, coap_session_reference / coap_session_release — as a
 * `CoapSession` over the edge agent's transports:
 *
 *   proto  server address        transport                                  set up by
 *   udp    IP + port (0: 5683)   UdpEndpoint (local_if: bind address/port)  newClientSession
 *   udp    { path } (AF_UNIX)    UnixDgramEndpoint on local_if's path       newClientSession
 *   dtls   IP + port (0: 5684)   DtlsClient over a UdpEndpoint              …Psk / …Pki / anonymous
 *   tcp    IP + port / { path }  RFC 8323 over node:net (Unix stream)       newClientSession
 *   tls    IP + port (0: 5684)   RFC 8323 over node:tls                     …Psk / …Pki
 *   ws/wss IP + port (80 / 443)  RFC 8323 §4 over `ws`                      newClientSession / …Pki
 *
 * As in libcoap, newClientSession* return the session at once and the connection (DNS, bind,
 * DTLS handshake / TCP connect + CSM) runs in the background: requests made meanwhile wait
 * and go out once it is up; if it fails, they — and later ones — fail with the
 * CoapSessionError (`handshake-failed`, `connect-failed`, `bind-failed`, `bad-address`), and
 * `connected()` rejects with it. What libcoap refuses at once (NULL) throws at once here:
 * a freed context, an unsupported protocol, inconsistent addresses, bad credentials, a bad MTU.
 *
 * MTU (coap_session_set_mtu, default 1152) is the largest datagram payload: the max PDU is the
 * MTU over UDP, the MTU minus the DTLS record overhead (29 bytes with CCM_8), and the MTU minus
 * the RFC 8323 length-field bytes over the reliable transports (libcoap's formula). Block-wise
 * transfers size their blocks to it.
 */
import { lookup as dnsLookup } from "node:dns/promises";
import { isIP } from "node:net";
import {
  MessageType,
  OptionNumber,
  codeToString,
  getUintOption,
  szxFromSize,
  type CoapOption,
} from "@coaps-edge/shared";
import { DEFAULT_BLOCKWISE } from "../../coap/blockwise.js";
import { DEFAULT_TOKEN_LENGTH, transmissionTimes, type TransmissionParameters } from "../../coap/constants.js";
import { MessageLayer } from "../../coap/message-layer.js";
import { TokenGenerator } from "../../coap/tokens.js";
import { blockwiseRequest } from "../../client/blockwise-transfer.js";
import type { CoapClientResponse } from "../../client/client.js";
import { CoapClientError } from "../../client/errors.js";
import { Exchanges } from "../../client/exchanges.js";
import { startObservation, type NotificationHandler, type Observation } from "../../client/observe.js";
import { checkTokenLength, methodCode, payloadBytes, requestOptions, transferResponse } from "../../client/request-parts.js";
import { DtlsClient, type DtlsClientOptions } from "../../dtls/client.js";
import type { SessionInfo } from "../../dtls/connection.js";
import { DtlsError } from "../../dtls/errors.js";
import { connectTcp } from "../../transport/tcp.js";
import { connectTls, type TlsConnectOptions } from "../../transport/tls.js";
import type { DatagramEndpoint, DatagramHandler, PeerAddress } from "../../transport/types.js";
import { UdpEndpoint } from "../../transport/udp.js";
import { connectUnix } from "../../transport/unix.js";
import { UnixDgramEndpoint } from "../../transport/unix-dgram.js";
import { connectWs } from "../../transport/ws.js";
import {
  certificateSuiteId,
  coapDtlsIsSupported,
  coapTcpIsSupported,
  coapTlsIsSupported,
  coapWsIsSupported,
  coapWssIsSupported,
} from "../support.js";
import { unixDgramIsSupported, unixStreamIsSupported } from "../../transport/support.js";
import type { CoapContext } from "./context.js";
import { cpskOptions, pkiOptions } from "./credentials.js";
import { CoapSessionError } from "./errors.js";
import {
  COAP_BLOCK_USE_LIBCOAP,
  defaultPortFor,
  type CoapAddress,
  type CoapDtlsCpsk,
  type CoapDtlsPki,
  type CoapProto,
  type CoapSessionRequest,
} from "./types.js";

/** libcoap's COAP_DEFAULT_MTU. */
export const COAP_DEFAULT_MTU = 1152;

/** Where a session goes (coap_new_client_session's local_if, server, proto) and session-level settings. */
export interface CoapSessionSetup {
  /** local_if: the source address/port to bind; for AF_UNIX datagram sessions a unique socket path (required). */
  readonly local?: CoapAddress;
  /** The server; port 0 means the protocol's default port. */
  readonly server: CoapAddress;
  readonly proto: CoapProto;
  /** Session-level transmission parameters (override the context's). */
  readonly transmission?: Partial<TransmissionParameters>;
  /** Session-level block mode (overrides coap_context_set_block_mode's). */
  readonly blockMode?: number;
  /** Initial MTU (default 1152). */
  readonly mtu?: number;
}

type Credentials =
  | { readonly kind: "none" }
  | { readonly kind: "psk"; readonly setup: CoapDtlsCpsk }
  | { readonly kind: "pki"; readonly setup: CoapDtlsPki };

/**
 * coap_new_client_session: a session without credentials of its own. DTLS/TLS use the
 * context's PSK, else its PKI; with neither, DTLS is ANONYMOUS (ECDHE, no client certificate,
 * the server NOT verified — encrypted, not authenticated) and TLS fails "bad-credentials".
 * Returns at once, "connecting" (see the module header); throws CoapSessionError where
 * libcoap returns NULL.
 */
export function newClientSession(ctx: CoapContext, setup: CoapSessionSetup): CoapSession {
  const creds: Credentials = ctx.psk ? { kind: "psk", setup: ctx.psk } : ctx.pki ? { kind: "pki", setup: ctx.pki } : { kind: "none" };
  return openSession(ctx, setup, creds);
}

/** coap_new_client_session_psk2: identity + key, identity-hint callback, client SNI (DTLS or TLS). */
export function newClientSessionPsk(ctx: CoapContext, setup: CoapSessionSetup, psk: CoapDtlsCpsk): CoapSession {
  return openSession(ctx, setup, { kind: "psk", setup: psk });
}

/** coap_new_client_session_pki: certificates (PEM files, PEM buffers, DER) and the validation knobs. */
export function newClientSessionPki(ctx: CoapContext, setup: CoapSessionSetup, pki: CoapDtlsPki): CoapSession {
  return openSession(ctx, setup, { kind: "pki", setup: pki });
}

/** A datagram endpoint whose max message size is the session's MTU (coap_session_set_mtu). */
class MtuEndpoint implements DatagramEndpoint {
  onDatagram: DatagramHandler = () => {};

  constructor(
    readonly inner: DatagramEndpoint,
    readonly mtu: () => number,
  ) {
    inner.onDatagram = (d, p, i) => this.onDatagram(d, p, i);
  }

  get scheme(): "coap" | "coaps" {
    return this.inner.scheme;
  }

  get local(): PeerAddress {
    return this.inner.local;
  }

  send(peer: PeerAddress, data: Uint8Array): void {
    this.inner.send(peer, data);
  }

  maxMessageSize(): number {
    return this.mtu();
  }

  close(): Promise<void> {
    return this.inner.close();
  }
}

/** What a concrete transport gives the session. */
interface Transport {
  /** The server's resolved address. */
  readonly server: PeerAddress;
  readonly layer: MessageLayer;
  readonly local: PeerAddress;
  readonly dtls?: DtlsClient;
  /** Closes the transport (close_notify / Release / socket close). */
  close(): Promise<void>;
}

/** The server address when it is a literal (or a path); `{ host, port }` when a name must be resolved first. */
function literalServer(setup: CoapSessionSetup): PeerAddress | { host: string; port: number } {
  const s = setup.server;
  if ("path" in s) {
    if (s.path === "") throw new CoapSessionError("bad-address", "empty AF_UNIX path");
    return { address: s.path, port: 0, family: "Unix" };
  }
  if (!Number.isInteger(s.port) || s.port < 0 || s.port > 0xffff) throw new CoapSessionError("bad-address", `bad port ${s.port}`);
  const port = s.port === 0 ? defaultPortFor(setup.proto) : s.port;
  const host = s.address.startsWith("[") ? s.address.slice(1, -1) : s.address;
  const v = isIP(host.split("%")[0] ?? host);
  if (v !== 0) return { address: host, port, family: v === 6 ? "IPv6" : "IPv4" };
  return { host, port };
}

async function resolveName(ctx: CoapContext, host: string, port: number): Promise<PeerAddress> {
  try {
    const r = await (ctx.lookup ?? dnsLookup)(host);
    return { address: r.address, port, family: r.family === 6 ? "IPv6" : "IPv4" };
  } catch (e) {
    throw new CoapSessionError("bad-address", `cannot resolve ${host}`, { cause: e });
  }
}

function checkLocal(local: CoapAddress | undefined, server: PeerAddress, proto: CoapProto): void {
  if (!local) {
    // A datagram socket needs a path of its own for the server to answer to (a stream does not).
    if (server.family === "Unix" && proto === "udp") throw new CoapSessionError("bad-address", "an AF_UNIX datagram session needs local_if: a unique path of its own");
    return;
  }
  const localUnix = "path" in local;
  if (localUnix !== (server.family === "Unix")) throw new CoapSessionError("bad-address", "local_if and server must be of the same address family");
  if (!localUnix) {
    const v = isIP(local.address.split("%")[0] ?? local.address);
    if (v === 0) throw new CoapSessionError("bad-address", `local_if ${local.address} is not an address literal`);
    if ((v === 6) !== (server.family === "IPv6")) throw new CoapSessionError("bad-address", "local_if and server must be of the same address family");
  }
}

function supported(proto: CoapProto, server: PeerAddress): void {
  const unix = server.family === "Unix";
  const ok =
    proto === "udp"
      ? !unix || unixDgramIsSupported()
      : proto === "dtls"
        ? !unix && coapDtlsIsSupported()
        : proto === "tcp"
          ? (unix ? unixStreamIsSupported() : coapTcpIsSupported())
          : proto === "tls"
            ? !unix && coapTlsIsSupported()
            : proto === "ws"
              ? !unix && coapWsIsSupported()
              : !unix && coapWssIsSupported();
  if (!ok) throw new CoapSessionError("not-supported", `COAP_PROTO_${proto.toUpperCase()}${unix ? " over AF_UNIX" : ""} is not supported in this build`);
}

/** Checks what can be checked at once (libcoap's NULL cases), then connects in the background. */
function openSession(ctx: CoapContext, setup: CoapSessionSetup, creds: Credentials): CoapSession {
  if (ctx.freed) throw new CoapSessionError("released", "the context was freed");
  const target = literalServer(setup);
  const known = "family" in target ? target : undefined;
  if (known) {
    supported(setup.proto, known);
    checkLocal(setup.local, known, setup.proto);
  } else supported(setup.proto, { address: (target as { host: string }).host, port: target.port, family: "IPv4" });
  if (creds.kind !== "none" && (setup.proto === "udp" || setup.proto === "tcp" || setup.proto === "ws")) {
    // libcoap ignores credentials for unencrypted protocols; so do we.
    creds = { kind: "none" };
  }
  const mtu = setup.mtu ?? COAP_DEFAULT_MTU;
  if (!(mtu >= 64 && mtu <= 65535)) throw new CoapSessionError("bad-address", `MTU ${mtu} is not 64..65535`);
  // Credentials load now: files that do not load are a NULL session in libcoap too.
  const security: Security =
    setup.proto === "dtls" ? { dtls: dtlsOptions(ctx, creds) } : setup.proto === "tls" || setup.proto === "wss" ? { tls: tlsOptions(ctx, creds, setup.proto) } : {};
  const transmission = { ...ctx.transmission, ...setup.transmission };
  const provisional: PeerAddress = known ?? { address: (target as { host: string }).host, port: target.port, family: "IPv4" };
  const session = new CoapSession(ctx, setup.proto, provisional, mtu, setup.blockMode ?? ctx.blockMode, transmission);
  ctx.addSession(session);
  session.connecting(
    (async () => {
      let server = known;
      if (!server) {
        const t = target as { host: string; port: number };
        server = await resolveName(ctx, t.host, t.port);
        supported(setup.proto, server);
        checkLocal(setup.local, server, setup.proto);
      }
      return connect(ctx, setup, server, security, session, transmission);
    })(),
  );
  return session;
}

/** The DTLS or TLS options of a session, computed (and checked) when it is created. */
interface Security {
  readonly dtls?: DtlsClientOptions;
  readonly tls?: Pick<TlsConnectOptions, "psk" | "certificate" | "trust" | "policy" | "sni">;
}

async function bindUdp(local: CoapAddress | undefined, server: PeerAddress): Promise<DatagramEndpoint> {
  try {
    if (server.family === "Unix") return await UnixDgramEndpoint.bind({ path: (local as { path: string }).path });
    const l = local as { address: string; port: number } | undefined;
    return await UdpEndpoint.bind({ address: l?.address ?? (server.family === "IPv6" ? "::" : "0.0.0.0"), port: l?.port ?? 0 });
  } catch (e) {
    throw new CoapSessionError("bind-failed", `cannot bind local_if: ${(e as Error).message}`, { cause: e });
  }
}

async function connect(
  ctx: CoapContext,
  setup: CoapSessionSetup,
  server: PeerAddress,
  security: Security,
  session: CoapSession,
  transmission: Partial<TransmissionParameters>,
): Promise<Transport> {
  const clock = ctx.clock;
  const local = setup.local && !("path" in setup.local) ? setup.local : undefined;
  const host = "address" in setup.server ? setup.server.address : undefined;
  switch (setup.proto) {
    case "udp": {
      const ep = new MtuEndpoint(await bindUdp(setup.local, server), () => session.mtu);
      return { server, layer: new MessageLayer(ep, { clock, transmission }), local: ep.local, close: () => ep.close() };
    }
    case "dtls": {
      const options = security.dtls ?? {};
      const udp = new MtuEndpoint(await bindUdp(setup.local, server), () => session.mtu);
      let dtls: DtlsClient;
      try {
        dtls = await DtlsClient.connect(udp, server, { ...options, clock, handshakeTimeoutMs: ctx.connectTimeoutMs });
      } catch (e) {
        await udp.close();
        if (e instanceof DtlsError) throw new CoapSessionError("handshake-failed", `DTLS handshake with ${server.address}:${server.port} failed: ${e.message}`, { cause: e });
        throw new CoapSessionError("bad-credentials", (e as Error).message, { cause: e });
      }
      dtls.onClose = () => session.transportClosed();
      return { server, layer: new MessageLayer(dtls, { clock, transmission }), local: dtls.local, dtls, close: () => dtls.close() };
    }
    default: {
      const common = {
        address: server,
        ...(local ? { localAddress: local.address, localPort: local.port } : {}),
        clock,
        connectTimeoutMs: ctx.connectTimeoutMs,
        onClosed: () => session.transportClosed(),
      };
      const tlsCreds = security.tls ?? {};
      try {
        const layer =
          setup.proto === "tcp"
            ? server.family === "Unix"
              ? await connectUnix(common)
              : await connectTcp(common)
            : setup.proto === "tls"
              ? await connectTls({ ...common, ...tlsCreds, ...(host !== undefined ? { host } : {}) })
              : await connectWs({ ...common, ...tlsCreds, ...(host !== undefined ? { host } : {}), secure: setup.proto === "wss" });
        return { server, layer, local: layer.endpoint.local, close: () => layer.endpoint.close() };
      } catch (e) {
        if (e instanceof CoapSessionError) throw e;
        throw new CoapSessionError("connect-failed", `cannot connect COAP_PROTO_${setup.proto.toUpperCase()} to ${server.address}:${server.port}: ${(e as Error).message}`, { cause: e });
      }
    }
  }
}

function dtlsOptions(ctx: CoapContext, creds: Credentials): DtlsClientOptions {
  switch (creds.kind) {
    case "psk":
      return cpskOptions(creds.setup);
    case "pki":
      return pkiOptions(creds.setup, ctx.rootCas);
    case "none":
      // No psk, no pki: the DTLS engine's anonymous ECDHE client (needs the certificate suites).
      if (certificateSuiteId() === undefined) {
        throw new CoapSessionError("not-supported", "anonymous DTLS needs the ECDHE key exchange, which this DTLS engine does not have yet");
      }
      return {};
  }
}

function tlsOptions(ctx: CoapContext, creds: Credentials, proto: CoapProto): Pick<TlsConnectOptions, "psk" | "certificate" | "trust" | "policy" | "sni"> {
  switch (creds.kind) {
    case "psk": {
      // validate_ih_call_back is consulted over TLS/WSS as over DTLS (node:tls hands the hint to pskCallback).
      const o = cpskOptions(creds.setup);
      return { psk: { ...o.psk, ...(o.pskHintCallback ? { hintCallback: o.pskHintCallback } : {}) }, ...(o.sni !== undefined ? { sni: o.sni } : {}) };
    }
    case "pki": {
      const { pki, sni } = pkiOptions(creds.setup, ctx.rootCas);
      return {
        ...(pki.credentials ? { certificate: pki.credentials } : {}),
        ...(pki.trust ? { trust: pki.trust } : {}),
        ...(pki.policy ? { policy: pki.policy } : {}),
        ...(sni !== undefined ? { sni } : {}),
      };
    }
    case "none":
      // Like anonymous DTLS: encrypted, the server's certificate not verified.
      if (proto === "wss" || proto === "tls") return { policy: { verifyPeerCert: false } };
      return {};
  }
}

/** libcoap's COAP_MAX_MESSAGE_SIZE_TCP0/8/16: where the RFC 8323 Len field grows. */
const TCP0 = 12;
const TCP8 = 268;
const TCP16 = 65804;

/** Where a session is in its life. */
export type CoapSessionState = "connecting" | "established" | "failed" | "closed" | "released";

/**
 * A client session (coap_session_t). Created with a reference count of 1; `reference()` adds
 * one, `release()` drops one and at 0 closes the session (close_notify for DTLS/TLS, Release
 * for TCP, socket closed, an AF_UNIX local path removed) and frees all its state.
 */
export class CoapSession {
  readonly #exchanges: Exchanges;
  readonly #tokens = new TokenGenerator();
  #transport: Transport | undefined;
  #refs = 1;
  #mtu: number;
  #state: CoapSessionState = "connecting";
  #closing: Promise<void> | undefined;
  /** Settles when the background connect is done: resolves once established, rejects with its CoapSessionError. */
  #ready: Promise<void> | undefined;
  #failure: CoapSessionError | undefined;
  readonly #server: PeerAddress;

  /** @internal use newClientSession*. */
  constructor(
    readonly context: CoapContext,
    readonly proto: CoapProto,
    server: PeerAddress,
    mtu: number,
    readonly blockMode: number,
    readonly transmission: Partial<TransmissionParameters>,
  ) {
    this.#server = server;
    this.#mtu = mtu;
    this.#exchanges = new Exchanges(context.clock);
  }

  /** The server's transport address (default port filled in; a host name is resolved once connected). */
  get server(): PeerAddress {
    return this.#transport?.server ?? this.#server;
  }

  /** @internal The background connect of newClientSession*. */
  connecting(transport: Promise<Transport>): void {
    this.#ready = transport.then(
      async (t) => {
        if (this.#state === "released") {
          // Released while connecting: the transport goes at once.
          t.layer.close();
          await t.close();
          throw new CoapSessionError("released", "the session was released");
        }
        this.#transport = t;
        t.layer.responseSink = this.#exchanges;
        this.#state = "established";
      },
      (e: unknown) => {
        const err = e instanceof CoapSessionError ? e : new CoapSessionError("connect-failed", (e as Error).message, { cause: e });
        if (this.#state === "connecting") {
          this.#state = "failed";
          this.#failure = err;
          this.context.removeSession(this);
        }
        throw err;
      },
    );
    this.#ready.catch(() => {}); // observed through connected() and request(); never unhandled
  }

  /**
   * Resolves with the session once it can carry requests (handshake / connect done); rejects
   * with the CoapSessionError that failed it (libcoap reports this through the event handler:
   * COAP_EVENT_DTLS_CONNECTED / COAP_EVENT_DTLS_ERROR, COAP_EVENT_TCP_FAILED …).
   */
  async connected(): Promise<this> {
    if (this.#failure) throw this.#failure;
    await this.#ready;
    if (this.#state === "released") throw new CoapSessionError("released", "the session was released");
    return this;
  }

  /** @internal The transport went away (peer close_notify, connection closed). */
  transportClosed(): void {
    if (this.#state !== "established") return;
    this.#state = "closed";
    const t = this.#transport;
    if (t) this.#exchanges.abortAll(t.layer);
  }

  /** "connecting" (handshake in the background), "established", "failed" (the connect failed), "closed" (the peer ended it), or "released". */
  get state(): CoapSessionState {
    return this.#state;
  }

  /** The bound local address (for AF_UNIX: the session's own path). */
  get local(): PeerAddress | undefined {
    return this.#transport?.local;
  }

  /** What the DTLS handshake negotiated (DTLS sessions only). */
  get dtlsSession(): SessionInfo | undefined {
    return this.#transport?.dtls?.sessionInfo();
  }

  /** The current reference count. */
  get refCount(): number {
    return this.#refs;
  }

  /** coap_session_reference: one more reference; returns the session. */
  reference(): this {
    if (this.#state === "released") throw new CoapSessionError("released", "the session was released");
    this.#refs++;
    return this;
  }

  /**
   * coap_session_release: one reference less; at 0 the session is closed and freed (see the
   * class comment) and its requests in flight fail with CoapClientError "closed". Resolves
   * once closed (at once while references remain); a no-op after the last release.
   */
  async release(): Promise<void> {
    if (this.#state === "released") return;
    if (--this.#refs > 0) return;
    await this.close();
  }

  /** @internal Closes regardless of references (coap_free_context). */
  close(): Promise<void> {
    if (this.#closing) return this.#closing;
    this.#refs = 0;
    this.#state = "released";
    this.context.removeSession(this);
    const t = this.#transport;
    this.#exchanges.abortAll();
    this.#closing = (async () => {
      if (!t) {
        await this.#ready?.catch(() => {}); // a connect in progress closes its transport when done
        return;
      }
      t.layer.close();
      await t.close();
    })();
    return this.#closing;
  }

  /** The MTU: the largest datagram payload (UDP/DTLS) or the block-sizing limit (reliable). */
  get mtu(): number {
    return this.#mtu;
  }

  /** coap_session_set_mtu (default 1152); takes effect for the next message. */
  setMtu(mtu: number): void {
    if (!Number.isInteger(mtu) || mtu < 64 || mtu > 65535) throw new RangeError("MTU must be an integer 64..65535");
    this.#mtu = mtu;
  }

  /** coap_session_max_pdu_size: the largest CoAP message this session sends. */
  maxPduSize(): number {
    const t = this.#transport;
    switch (this.proto) {
      case "udp":
        return this.#mtu;
      case "dtls":
        return t?.dtls ? t.dtls.maxMessageSize() : this.#mtu;
      default: {
        // libcoap coap_session_max_pdu_size for reliable protocols: the MTU less the Len field.
        const m = this.#mtu;
        const framed = m <= 2 ? 0 : m <= TCP0 + 2 ? m - 2 : m <= TCP8 + 3 ? m - 3 : m <= TCP16 + 4 ? m - 4 : m - 6;
        const peerMax = t ? t.layer.maxMessageSize(this.server) : framed;
        return Math.min(framed, peerMax);
      }
    }
  }

  /**
   * Sends a request and resolves with the response. With COAP_BLOCK_USE_LIBCOAP in the block
   * mode, bodies larger than the PDU go out in Block1 blocks and a Block2 response is fetched
   * whole (COAP_BLOCK_SINGLE_BODY); without it, one message goes out and the response comes
   * back as it is. Rejects with CoapSessionError "released" after release, CoapClientError
   * otherwise ("timeout", "reset", "closed", "bad-request").
   */
  /**
   * Observes a resource (RFC 7641; in libcoap a GET with the Observe option whose response
   * handler keeps receiving the notifications): `onNotification` gets the registration response
   * and every newer notification with its whole body (Block2 completed); `cancel()` on the
   * returned Observation deregisters. Waits for the connect like `request()`.
   */
  async observe(req: CoapSessionRequest, onNotification: NotificationHandler): Promise<Observation> {
    if (this.#state === "connecting") await this.#ready;
    if (this.#failure) throw this.#failure;
    const t = this.#transport;
    if (this.#state === "released" || !t) throw new CoapSessionError("released", "the session was released");
    if (this.#state === "closed") throw new CoapClientError("closed", "the session was closed by the peer");
    const path = req.path === undefined ? [] : typeof req.path === "string" ? req.path.split("/").filter((s) => s !== "") : req.path;
    const query = req.query === undefined ? [] : typeof req.query === "string" ? req.query.replace(/^\?/, "").split("&").filter((q) => q !== "") : req.query;
    const tokenLength = Math.max(1, req.token?.length ?? DEFAULT_TOKEN_LENGTH);
    checkTokenLength(tokenLength);
    return startObservation(
      {
        exchanges: this.#exchanges,
        layer: t.layer,
        peer: this.server,
        clock: this.context.clock,
        type: req.confirmable === false ? MessageType.NON : MessageType.CON,
        token: req.token ?? this.#tokens.next(tokenLength),
        newToken: () => this.#tokens.next(tokenLength),
        plan: {
          method: methodCode(req.method),
          options: requestOptions({ uriHost: req.uriHost, path, query, contentFormat: req.contentFormat, accept: req.accept, extra: req.options }),
          payload: payloadBytes(req.payload),
          tokenLength,
          maxMessageSize: this.maxPduSize(),
          szx: DEFAULT_BLOCKWISE.preferredSzx,
          explicitBlockSize: false,
          block2Start: 0,
          maxBodyBytes: 16 * 1024 * 1024,
        },
        timeoutMs: req.timeoutMs ?? this.context.requestTimeoutMs ?? transmissionTimes(this.transmission).maxTransmitWaitMs,
      },
      onNotification,
    );
  }

  async request(req: CoapSessionRequest): Promise<CoapClientResponse> {
    // libcoap queues what is sent before the session is up; here the request waits for the connect.
    if (this.#state === "connecting") await this.#ready;
    if (this.#failure) throw this.#failure;
    const t = this.#transport;
    if (this.#state === "released" || !t) throw new CoapSessionError("released", "the session was released");
    if (this.#state === "closed") throw new CoapClientError("closed", "the session was closed by the peer");
    const method = methodCode(req.method);
    const path = req.path === undefined ? [] : typeof req.path === "string" ? req.path.split("/").filter((s) => s !== "") : req.path;
    const query = req.query === undefined ? [] : typeof req.query === "string" ? req.query.replace(/^\?/, "").split("&").filter((q) => q !== "") : req.query;
    const options = requestOptions({ uriHost: req.uriHost, path, query, contentFormat: req.contentFormat, accept: req.accept, extra: req.options });
    const payload = payloadBytes(req.payload);
    const tokenLength = req.token?.length ?? DEFAULT_TOKEN_LENGTH;
    checkTokenLength(tokenLength);
    const type = req.confirmable === false ? MessageType.NON : MessageType.CON;
    const timeoutMs = req.timeoutMs ?? this.context.requestTimeoutMs ?? transmissionTimes(this.transmission).maxTransmitWaitMs;
    const deadline = this.context.clock.now() + timeoutMs;
    const send = (opts: CoapOption[], body: Uint8Array) =>
      this.#exchanges.send(t.layer, this.server, { type, code: method, token: req.token ?? this.#tokens.next(tokenLength), options: opts, payload: body }, deadline);

    if ((this.blockMode & COAP_BLOCK_USE_LIBCOAP) === 0) {
      if (payload.length + 64 > this.maxPduSize() && payload.length > 0) {
        throw new CoapClientError("bad-request", `the body (${payload.length} bytes) does not fit one PDU of ${this.maxPduSize()}; set COAP_BLOCK_USE_LIBCOAP`);
      }
      const r = await send(options, payload);
      return {
        code: r.message.code,
        codeText: codeToString(r.message.code),
        options: r.message.options,
        payload: r.message.payload,
        contentFormat: getUintOption(r.message, OptionNumber.ContentFormat),
        peer: r.peer,
        identity: r.identity,
        messages: 1,
      };
    }
    let szx = DEFAULT_BLOCKWISE.preferredSzx;
    if (req.blockSize !== undefined) {
      try {
        szx = szxFromSize(req.blockSize);
      } catch {
        throw new CoapClientError("bad-request", `block size ${req.blockSize} is not 16..1024, a power of two`);
      }
    }
    const result = await blockwiseRequest(
      {
        method,
        options,
        payload,
        tokenLength,
        maxMessageSize: this.maxPduSize(),
        szx,
        explicitBlockSize: req.blockSize !== undefined,
        block2Start: 0,
        maxBodyBytes: 16 * 1024 * 1024,
      },
      send,
    );
    return transferResponse(result);
  }
}
