/**
 * Pre-shared keys (RFC 4279 §2, §5; suites RFC 6655 / RFC 5487):
 *
 *   ServerKeyExchange:  struct { opaque psk_identity_hint<0..2^16-1>; };   // omitted without a hint
 *   ClientKeyExchange:  struct { opaque psk_identity<0..2^16-1>; };
 *
 *   pre_master_secret = uint16 N ‖ N zero bytes ‖ uint16 N ‖ psk     (N = psk length, §2)
 *
 * Identities and hints are UTF-8 strings (§5.1). An identity the server does not know gets the
 * unknown_psk_identity alert (§2 allows it; OpenSSL and mbedTLS users expect it).
 */
import { ByteReader, ByteWriter } from "../codec/bytes.js";
import { DtlsError } from "../errors.js";
import { HandshakeType } from "../constants.js";
import type { HandshakeContext } from "../flights/context.js";
import type { HandshakeMessage } from "../handshake/header.js";
import type { ExpectedMessage } from "../flights/types.js";
import type { KeyExchange } from "./types.js";

/** Server-side PSK credentials. */
export interface PskServerCredentials {
  /** Identity hint sent in ServerKeyExchange (libcoap's default is "CoAP"); none: no ServerKeyExchange. */
  readonly hint?: string;
  /** The key for an identity, or undefined if unknown. `sni` is the client's server_name, if any. */
  lookup(identity: string, sni: string | undefined): Uint8Array | undefined;
}

/** Client-side PSK credentials. */
export interface PskClientCredentials {
  readonly identity: string;
  readonly key: Uint8Array;
}

/** A static identity → key table as server credentials (identities are matched exactly). */
export function pskTable(
  entries: Iterable<PskClientCredentials> | Readonly<Record<string, Uint8Array>>,
  options: { hint?: string } = {},
): PskServerCredentials {
  const table = new Map<string, Uint8Array>();
  if (Symbol.iterator in entries) for (const e of entries as Iterable<PskClientCredentials>) table.set(e.identity, Uint8Array.from(e.key));
  else for (const [identity, key] of Object.entries(entries)) table.set(identity, Uint8Array.from(key));
  return { ...(options.hint === undefined ? {} : { hint: options.hint }), lookup: (identity) => table.get(identity) };
}

const utf8 = new TextDecoder("utf-8");
const encoder = new TextEncoder();

/** RFC 4279 §2: the plain PSK premaster secret. */
export function pskPreMasterSecret(psk: Uint8Array): Uint8Array {
  const n = psk.length;
  const out = new Uint8Array(4 + 2 * n);
  out[0] = n >>> 8;
  out[1] = n & 0xff;
  out[2 + n] = n >>> 8;
  out[3 + n] = n & 0xff;
  out.set(psk, 4 + n);
  return out;
}

export function encodePskIdentity(identity: string): Uint8Array {
  return Uint8Array.from(new ByteWriter(identity.length + 2).vec16(encoder.encode(identity)).finish());
}

/** Decodes a ServerKeyExchange hint or ClientKeyExchange identity body. */
export function decodePskIdentity(body: Uint8Array, what: string): string {
  const r = new ByteReader(body);
  const v = r.vec16(what);
  r.end(what);
  return utf8.decode(v);
}

/**
 * The ServerKeyExchange body for the configured hint, encoded once per hint rather than per
 * handshake (flights and the transcript only read it).
 */
let lastHint: { readonly hint: string; readonly body: Uint8Array } | undefined;
function hintBody(hint: string): Uint8Array {
  if (lastHint?.hint !== hint) lastHint = { hint, body: encodePskIdentity(hint) };
  return lastHint.body;
}

/** The hint is optional (RFC 4279 §2: no ServerKeyExchange without one). */
const FROM_SERVER: readonly ExpectedMessage[] = Object.freeze([{ type: HandshakeType.server_key_exchange, optional: true }]);
const FROM_CLIENT: readonly ExpectedMessage[] = Object.freeze([{ type: HandshakeType.client_key_exchange }]);

export const pskKeyExchange: KeyExchange = {
  name: "psk",

  available(ctx) {
    return ctx.role === "server" ? ctx.config.serverPsk !== undefined : ctx.config.clientPsk !== undefined || ctx.config.pskHintCallback !== undefined;
  },

  serverFlight(ctx) {
    const hint = ctx.config.serverPsk?.hint;
    if (hint !== undefined) ctx.emit(HandshakeType.server_key_exchange, hintBody(hint));
  },

  expectFromServer(): readonly ExpectedMessage[] {
    return FROM_SERVER;
  },

  handleServerMessage(ctx, msg: HandshakeMessage) {
    ctx.pskIdentityHint = decodePskIdentity(msg.body, "psk_identity_hint");
  },

  clientFlight(ctx) {
    const creds = chooseClientCredentials(ctx);
    ctx.emit(HandshakeType.client_key_exchange, encodePskIdentity(creds.identity));
    ctx.pskIdentity = creds.identity;
    ctx.peerIdentity = { kind: "psk", identity: creds.identity };
    ctx.preMasterSecret = pskPreMasterSecret(creds.key);
  },

  expectFromClient(): readonly ExpectedMessage[] {
    return FROM_CLIENT;
  },

  handleClientMessage(ctx, msg: HandshakeMessage) {
    const identity = decodePskIdentity(msg.body, "psk_identity");
    const key = ctx.config.serverPsk?.lookup(identity, ctx.sni);
    ctx.pskIdentity = identity;
    if (key === undefined || key.length === 0) {
      throw DtlsError.fatal("unknown_psk_identity", `unknown PSK identity ${JSON.stringify(identity)}`);
    }
    ctx.peerIdentity = { kind: "psk", identity };
    ctx.preMasterSecret = pskPreMasterSecret(key);
  },
};

/**
 * libcoap psk2 semantics: with a hint and a hint callback, the callback chooses the credentials
 * (undefined aborts the handshake); otherwise the static credentials are used.
 */
function chooseClientCredentials(ctx: HandshakeContext): PskClientCredentials {
  const hint = ctx.pskIdentityHint;
  const cb = ctx.config.pskHintCallback;
  if (cb !== undefined && (hint !== undefined || ctx.config.clientPsk === undefined)) {
    const chosen = cb(hint ?? "");
    if (chosen === undefined) throw DtlsError.fatal("handshake_failure", `no PSK for identity hint ${JSON.stringify(hint ?? "")}`);
    return chosen;
  }
  if (ctx.config.clientPsk === undefined) throw DtlsError.fatal("handshake_failure", "no PSK credentials configured");
  return ctx.config.clientPsk;
}
