/**
 * The ClientHello our client sends in flights 1 and 3 (RFC 6347 §4.2.1: the second one repeats
 * version, random, session_id, cipher_suites and compression of the first, plus the cookie).
 */
import { ExtensionType, HandshakeType, ProtocolVersion } from "../constants.js";
import { encodeClientHello } from "../handshake/messages/client-hello.js";
import {
  EMPTY_RENEGOTIATION_INFO,
  EXTENDED_MASTER_SECRET,
  encodeServerName,
  type Extension,
} from "../handshake/messages/extensions.js";
import { keyExchangeFor } from "../key-exchange/index.js";
import type { HandshakeContext } from "./context.js";

export function emitClientHello(ctx: HandshakeContext): void {
  const suites = ctx.config.suites.filter((s) => keyExchangeFor(s.keyExchange)?.available(ctx) ?? false);
  const extensions: Extension[] = [];
  if (ctx.config.sni !== undefined) extensions.push({ type: ExtensionType.server_name, data: encodeServerName(ctx.config.sni) });
  extensions.push(EXTENDED_MASTER_SECRET); // RFC 7627: always offered
  extensions.push(EMPTY_RENEGOTIATION_INFO); // RFC 5746 §3.4: the extension instead of the SCSV
  for (const name of new Set(suites.map((s) => s.keyExchange))) {
    for (const e of keyExchangeFor(name)?.clientHelloExtensions?.(ctx) ?? []) {
      if (!extensions.some((x) => x.type === e.type)) extensions.push(e);
    }
  }
  ctx.offeredExtensions = extensions.map((e) => e.type);
  ctx.emit(
    HandshakeType.client_hello,
    encodeClientHello({
      version: ProtocolVersion.DTLS1_2,
      random: ctx.clientRandom,
      sessionId: new Uint8Array(0),
      cookie: ctx.cookie,
      cipherSuites: suites.map((s) => s.id),
      compressionMethods: Uint8Array.of(0),
      extensions,
    }),
  );
}
