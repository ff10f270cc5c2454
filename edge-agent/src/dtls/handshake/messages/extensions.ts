/**
 * Hello extensions (RFC 5246 §7.4.1.4) and the bodies of those we implement.
 *
 *   struct {
 *       ExtensionType extension_type;
 *       opaque extension_data<0..2^16-1>;
 *   } Extension;
 *
 *   Extension extensions<0..2^16-1>;     // absent entirely when there are none (§7.4.1.2)
 *
 * Unknown extensions are kept as opaque bytes: a server tolerates everything libcoap's OpenSSL
 * and GnuTLS peers send and answers only what it implements.
 */
import { ByteReader, ByteWriter, DecodeError } from "../../codec/bytes.js";
import { ExtensionType } from "../../constants.js";

export interface Extension {
  readonly type: number;
  readonly data: Uint8Array;
}

/** Extensions checked for a duplicate by a scan; a longer list gets a Set (see decodeExtensions). */
const SCAN_LIMIT = 16;

/** Decodes the optional extensions block that ends a hello (RFC 5246 §7.4.1.2: may be absent). */
export function decodeExtensions(r: ByteReader): Extension[] {
  if (r.remaining === 0) return [];
  const block = r.sub(r.u16("extensions length"), "extensions");
  const out: Extension[] = [];
  // A hello carries a handful of extensions: a scan of those already read finds a duplicate
  // without a Set per hello; past SCAN_LIMIT (a hostile hello) a Set keeps the check linear.
  let seen: Set<number> | undefined;
  while (block.remaining > 0) {
    const type = block.u16("extension type");
    const data = block.vec16("extension data");
    // §7.4.1.4: "There MUST NOT be more than one extension of the same type."
    if (out.length === SCAN_LIMIT) seen = new Set(out.map((e) => e.type));
    if (seen ? seen.has(type) : findExtension(out, type) !== undefined) throw new DecodeError(`duplicate extension ${type}`);
    seen?.add(type);
    out.push({ type, data });
  }
  return out;
}

export function encodeExtensions(w: ByteWriter, extensions: readonly Extension[]): void {
  if (extensions.length === 0) return;
  w.prefixed(2, (x) => {
    for (const e of extensions) x.u16(e.type).vec16(e.data);
  });
}

/** Bytes `encodeExtensions` writes for `extensions`. */
export function extensionsLength(extensions: readonly Extension[]): number {
  if (extensions.length === 0) return 0;
  let n = 2;
  for (const e of extensions) n += 4 + e.data.length;
  return n;
}

export function findExtension(extensions: readonly Extension[], type: number): Extension | undefined {
  for (const e of extensions) if (e.type === type) return e;
  return undefined;
}

/**
 * server_name (RFC 6066 §3):
 *
 *   struct { NameType name_type; select (name_type) { case host_name: HostName; } name; } ServerName;
 *   enum { host_name(0), (255) } NameType;
 *   opaque HostName<1..2^16-1>;
 *   struct { ServerName server_name_list<1..2^16-1> } ServerNameList;
 *
 * Returns the host_name (undefined for an empty extension, as a server echoes it).
 */
export function decodeServerName(data: Uint8Array): string | undefined {
  if (data.length === 0) return undefined;
  const r = new ByteReader(data);
  const list = r.sub(r.u16("server_name_list length"), "server_name_list");
  r.end("server_name");
  let host: string | undefined;
  while (list.remaining > 0) {
    const nameType = list.u8("name_type");
    const name = list.vec16("host_name");
    if (nameType === 0 && host === undefined) {
      if (name.length === 0) throw new DecodeError("empty host_name");
      host = new TextDecoder("utf-8", { fatal: false }).decode(name);
    }
  }
  return host;
}

export function encodeServerName(host: string): Uint8Array {
  const name = new TextEncoder().encode(host);
  return new ByteWriter(name.length + 5)
    .prefixed(2, (w) => w.u8(0).vec16(name))
    .finish();
}

/**
 * renegotiation_info (RFC 5746 §3.2):
 *
 *   struct { opaque renegotiated_connection<0..255>; } RenegotiationInfo;
 *
 * On an initial handshake it must be empty (one zero byte on the wire).
 */
export function decodeRenegotiationInfo(data: Uint8Array): Uint8Array {
  const r = new ByteReader(data);
  const v = r.vec8("renegotiated_connection");
  r.end("renegotiation_info");
  return v;
}

export const EMPTY_RENEGOTIATION_INFO: Extension = Object.freeze({
  type: ExtensionType.renegotiation_info,
  data: Uint8Array.of(0),
});

export const EXTENDED_MASTER_SECRET: Extension = Object.freeze({
  type: ExtensionType.extended_master_secret,
  data: new Uint8Array(0),
});
