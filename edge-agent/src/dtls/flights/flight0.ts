/**
 * Server flight 0: waiting for a ClientHello. The server endpoint has already checked its cookie
 * statelessly (flight 2); here the hello is negotiated: version, cipher suite (server preference
 * among those the client offers and we hold credentials for), compression, extensions.
 */
import { DecodeError } from "../codec/bytes.js";
import { ExtensionType, HandshakeType, ProtocolVersion, TLS_EMPTY_RENEGOTIATION_INFO_SCSV } from "../constants.js";
import { DtlsError } from "../errors.js";
import { decodeClientHello } from "../handshake/messages/client-hello.js";
import { decodeRenegotiationInfo, decodeServerName, findExtension } from "../handshake/messages/extensions.js";
import { keyExchangeFor } from "../key-exchange/index.js";
import type { ExpectedMessage, Flight } from "./types.js";

const CLIENT_HELLO: readonly ExpectedMessage[] = Object.freeze([{ type: HandshakeType.client_hello }]);

export const flight0: Flight = {
  name: "flight0",
  generate() {
    // Nothing: the server speaks first only in flight 2 (stateless) and flight 4.
  },
  expect: () => CLIENT_HELLO,
  handle(ctx, msg) {
    // The server endpoint hands over the hello it decoded for the cookie check (server.ts):
    // the message this flight receives is that hello (the first one of the connection).
    let ch = ctx.clientHello;
    try {
      ch ??= decodeClientHello(msg.body);
    } catch (err) {
      throw DtlsError.fatal("decode_error", (err as DecodeError).message, err);
    }
    // DTLS versions count down: 0xfefd (1.2) < 0xfeff (1.0). A client whose best is above 1.2 numerically is too old.
    if (ch.version > ProtocolVersion.DTLS1_2) {
      throw DtlsError.fatal("protocol_version", `client offers at most 0x${ch.version.toString(16)}`);
    }
    if (!ch.compressionMethods.includes(0)) throw DtlsError.fatal("illegal_parameter", "client does not offer null compression");

    const sniExt = findExtension(ch.extensions, ExtensionType.server_name);
    try {
      if (sniExt) ctx.sni = decodeServerName(sniExt.data);
    } catch (err) {
      throw DtlsError.fatal("decode_error", `bad server_name: ${(err as Error).message}`, err);
    }
    ctx.clientHello = ch;
    ctx.clientRandom = Uint8Array.from(ch.random);

    // Server preference order (the configured list), restricted to what the client offers and we can run.
    for (const suite of ctx.config.suites) {
      if (!ch.cipherSuites.includes(suite.id)) continue;
      const kx = keyExchangeFor(suite.keyExchange);
      if (!kx || !kx.available(ctx)) continue;
      ctx.suite = suite;
      ctx.kx = kx;
      break;
    }
    if (!ctx.suite) throw DtlsError.fatal("handshake_failure", "no cipher suite in common");

    // RFC 7627 §5.1: use the extended master secret when the client offers it.
    ctx.extendedMasterSecret = findExtension(ch.extensions, ExtensionType.extended_master_secret) !== undefined;

    // RFC 5746 §3.6: the SCSV or an empty renegotiation_info signals support; non-empty on an initial handshake is an attack.
    const reneg = findExtension(ch.extensions, ExtensionType.renegotiation_info);
    if (reneg) {
      let v: Uint8Array;
      try {
        v = decodeRenegotiationInfo(reneg.data);
      } catch (err) {
        throw DtlsError.fatal("decode_error", "bad renegotiation_info", err);
      }
      if (v.length !== 0) throw DtlsError.fatal("handshake_failure", "non-empty renegotiation_info on an initial handshake");
    }
    ctx.secureRenegotiation = reneg !== undefined || ch.cipherSuites.includes(TLS_EMPTY_RENEGOTIATION_INFO_SCSV);
  },
  next: () => "flight4",
};
