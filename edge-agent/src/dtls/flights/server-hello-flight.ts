/**
 * The client's handling of the server's answer to a ClientHello, shared by flights 1 and 3:
 * either a HelloVerifyRequest (send the ClientHello again with the cookie) or the server's
 * flight 4 (ServerHello, the key exchange's messages, ServerHelloDone).
 */
import { DecodeError } from "../codec/bytes.js";
import { ExtensionType, HandshakeType, ProtocolVersion } from "../constants.js";
import { DtlsError } from "../errors.js";
import type { HandshakeMessage } from "../handshake/header.js";
import { decodeRenegotiationInfo } from "../handshake/messages/extensions.js";
import { decodeServerHelloDone } from "../handshake/messages/finished.js";
import { decodeHelloVerifyRequest } from "../handshake/messages/hello-verify-request.js";
import { decodeServerHello } from "../handshake/messages/server-hello.js";
import { keyExchangeFor } from "../key-exchange/index.js";
import { cipherSuiteById } from "../suites/cipher-suites.js";
import type { HandshakeContext } from "./context.js";
import type { ExpectedMessage, FlightName } from "./types.js";

/** A server that keeps asking for cookies is broken or hostile: give up after this many. */
const MAX_HELLO_VERIFY_REQUESTS = 4;

export function expectServerHelloFlight(ctx: HandshakeContext): readonly ExpectedMessage[] {
  return [
    { type: HandshakeType.hello_verify_request, optional: true, endsFlight: true },
    { type: HandshakeType.server_hello },
    ...(ctx.kx ? ctx.kx.expectFromServer(ctx) : []),
    { type: HandshakeType.server_hello_done },
  ];
}

export function handleServerHelloFlight(ctx: HandshakeContext, msg: HandshakeMessage): void {
  try {
    switch (msg.type) {
      case HandshakeType.hello_verify_request:
        return onHelloVerifyRequest(ctx, msg);
      case HandshakeType.server_hello:
        return onServerHello(ctx, msg);
      case HandshakeType.server_hello_done:
        return decodeServerHelloDone(msg.body);
      default:
        return ctx.kx!.handleServerMessage(ctx, msg);
    }
  } catch (err) {
    if (err instanceof DecodeError) throw DtlsError.fatal("decode_error", err.message, err);
    throw err;
  }
}

export function nextAfterServerHelloFlight(ctx: HandshakeContext): FlightName {
  return ctx.cookieRequested ? "flight3" : "flight5";
}

function onHelloVerifyRequest(ctx: HandshakeContext, msg: HandshakeMessage): void {
  const hvr = decodeHelloVerifyRequest(msg.body);
  if (++ctx.helloVerifyRequests > MAX_HELLO_VERIFY_REQUESTS) {
    throw DtlsError.fatal("handshake_failure", "too many HelloVerifyRequests");
  }
  ctx.cookie = Uint8Array.from(hvr.cookie);
  ctx.cookieRequested = true;
  // RFC 6347 §4.2.6: the first ClientHello and the HelloVerifyRequest are not in the transcript.
  ctx.transcript.reset();
}

function onServerHello(ctx: HandshakeContext, msg: HandshakeMessage): void {
  const sh = decodeServerHello(msg.body);
  if (sh.version !== ProtocolVersion.DTLS1_2) {
    throw DtlsError.fatal("protocol_version", `server chose version 0x${sh.version.toString(16)}, we speak DTLS 1.2 only`);
  }
  const suite = cipherSuiteById(sh.cipherSuite);
  if (!suite || !ctx.config.suites.includes(suite)) {
    throw DtlsError.fatal("illegal_parameter", `server chose cipher suite 0x${sh.cipherSuite.toString(16)} we did not offer`);
  }
  if (sh.compressionMethod !== 0) throw DtlsError.fatal("illegal_parameter", "server chose compression");
  for (const e of sh.extensions) {
    // RFC 5246 §7.4.1.4: an extension we did not offer must abort the handshake.
    if (!ctx.offeredExtensions.includes(e.type)) {
      throw DtlsError.fatal("unsupported_extension", `server answered extension ${e.type} we did not offer`);
    }
    if (e.type === ExtensionType.extended_master_secret) ctx.extendedMasterSecret = true;
    if (e.type === ExtensionType.renegotiation_info) {
      // RFC 5746 §3.4: on an initial handshake renegotiated_connection must be empty.
      if (decodeRenegotiationInfo(e.data).length !== 0) throw DtlsError.fatal("handshake_failure", "non-empty renegotiation_info");
      ctx.secureRenegotiation = true;
    }
  }
  ctx.serverRandom = Uint8Array.from(sh.random);
  ctx.suite = suite;
  ctx.kx = keyExchangeFor(suite.keyExchange);
  if (!ctx.kx) throw DtlsError.fatal("handshake_failure", `no key exchange module for ${suite.name}`);
  ctx.kx.onServerHello?.(ctx, sh);
}
