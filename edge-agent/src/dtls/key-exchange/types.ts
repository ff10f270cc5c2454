/**
 * A key exchange as a pluggable module. The flights own ServerHello, ServerHelloDone,
 * ChangeCipherSpec and Finished; a key exchange fills in what goes between:
 *
 *   server flight 4:  ServerHello  [ serverFlight: Certificate, ServerKeyExchange, CertificateRequest ]  ServerHelloDone
 *   client flight 5:  [ clientFlight: Certificate, ClientKeyExchange, CertificateVerify ]  ChangeCipherSpec  Finished
 *
 * PSK (RFC 4279, psk.ts) uses only ServerKeyExchange (the optional hint) and ClientKeyExchange
 * (the identity). ECDHE_ECDSA (ecdhe-ecdsa.ts) puts the certificate messages in the same slots
 * and negotiates groups, point formats and signature algorithms through the hello hooks.
 */
import type { HandshakeMessage } from "../handshake/header.js";
import type { Extension } from "../handshake/messages/extensions.js";
import type { ServerHello } from "../handshake/messages/server-hello.js";
import type { HandshakeContext } from "../flights/context.js";
import type { ExpectedMessage } from "../flights/types.js";
import type { KeyExchangeName } from "../suites/cipher-suites.js";

export interface KeyExchange {
  readonly name: KeyExchangeName;
  /**
   * Whether this side can run it: the credentials exist, and (server) the client's hello in
   * `ctx.clientHello` allows it (e.g. a common curve). Suites whose key exchange is not available
   * are neither offered nor chosen.
   */
  available(ctx: HandshakeContext): boolean;

  /** Client: extensions this key exchange needs in the ClientHello (ECDHE: supported_groups, ...). */
  clientHelloExtensions?(ctx: HandshakeContext): readonly Extension[];
  /** Server: extensions to answer in the ServerHello once this key exchange is chosen. */
  serverHelloExtensions?(ctx: HandshakeContext): readonly Extension[];
  /** Client: inspects the ServerHello that chose this key exchange (throw DtlsError to abort). */
  onServerHello?(ctx: HandshakeContext, hello: ServerHello): void;

  /** Server, flight 4: emits the messages between ServerHello and ServerHelloDone. */
  serverFlight(ctx: HandshakeContext): void;
  /** Client: what may arrive between ServerHello and ServerHelloDone. */
  expectFromServer(ctx: HandshakeContext): readonly ExpectedMessage[];
  handleServerMessage(ctx: HandshakeContext, msg: HandshakeMessage): void;

  /** Client, flight 5: emits the messages before ChangeCipherSpec and sets `ctx.preMasterSecret`. */
  clientFlight(ctx: HandshakeContext): void;
  /**
   * Server: what arrives before the client's ChangeCipherSpec and Finished. Return one of a few
   * constant lists (flight 4 appends Finished once per list, not per message received).
   */
  expectFromClient(ctx: HandshakeContext): readonly ExpectedMessage[];
  /** Server: handles them; sets `ctx.preMasterSecret` (on ClientKeyExchange) and `ctx.peerIdentity`. */
  handleClientMessage(ctx: HandshakeContext, msg: HandshakeMessage): void;
}
