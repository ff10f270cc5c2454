/**
 * PEM (RFC 7468) blocks and the input forms libcoap accepts for certificates and keys
 * (coap_pki_key_t: COAP_PKI_KEY_PEM file, COAP_PKI_KEY_PEM_BUF memory, COAP_PKI_KEY_ASN1 DER).
 */
import { readFileSync } from "node:fs";
import { PkiError } from "./errors.js";

/** A file path, PEM text, or DER bytes; a bare string is PEM text, bare bytes are sniffed. */
export type PemOrDerInput =
  | string
  | Uint8Array
  | { readonly path: string }
  | { readonly pem: string | Uint8Array }
  | { readonly der: Uint8Array };

export interface PemBlock {
  /** The label between BEGIN and END, e.g. "CERTIFICATE", "EC PRIVATE KEY". */
  readonly label: string;
  /** RFC 1421 header lines inside the block (legacy encrypted keys carry "Proc-Type"). */
  readonly headers: ReadonlyMap<string, string>;
  readonly der: Uint8Array;
}

/** The loaded form of an input: PEM blocks, or one DER value. */
export type LoadedInput =
  | { readonly kind: "pem"; readonly blocks: readonly PemBlock[]; readonly source: string }
  | { readonly kind: "der"; readonly der: Uint8Array; readonly source: string };

const BLOCK = /-----BEGIN ([A-Z0-9 ]+)-----([\s\S]*?)-----END \1-----/g;
const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

/** All PEM blocks in `text`, in order. Text outside blocks (comments, `openssl x509 -text`) is ignored. */
export function parsePem(text: string, source = "PEM"): PemBlock[] {
  const blocks: PemBlock[] = [];
  for (const m of text.matchAll(BLOCK)) {
    const label = m[1] as string;
    const headers = new Map<string, string>();
    const b64: string[] = [];
    for (const raw of (m[2] as string).split(/\r?\n/)) {
      const line = raw.trim();
      if (!line) continue;
      const colon = line.indexOf(":");
      if (colon > 0) headers.set(line.slice(0, colon).trim(), line.slice(colon + 1).trim());
      else b64.push(line);
    }
    const body = b64.join("");
    if (!BASE64.test(body) || body.length % 4 !== 0) {
      throw new PkiError("bad-pem", `${source}: bad base64 in the ${label} block`);
    }
    blocks.push({ label, headers, der: new Uint8Array(Buffer.from(body, "base64")) });
  }
  if (blocks.length === 0) throw new PkiError("bad-pem", `${source}: no PEM block (-----BEGIN ...-----) found`);
  return blocks;
}

/** True when the bytes start (after whitespace) like PEM text rather than DER. */
function looksLikePem(bytes: Uint8Array): boolean {
  let i = 0;
  while (i < bytes.length && (bytes[i] === 0x20 || bytes[i] === 0x09 || bytes[i] === 0x0a || bytes[i] === 0x0d)) i++;
  const head = Buffer.from(bytes.subarray(i, i + 11)).toString("latin1");
  return head === "-----BEGIN ";
}

/** Reads a file, mapping the OS error to a `PkiError("read-failed")` that names the path. */
export function readInputFile(path: string): Uint8Array {
  try {
    return new Uint8Array(readFileSync(path));
  } catch (e) {
    throw new PkiError("read-failed", `cannot read ${path}: ${(e as Error).message}`, { cause: e });
  }
}

/** Loads an input to PEM blocks or DER; files are read synchronously (config time, small files). */
export function loadInput(input: PemOrDerInput, what: string): LoadedInput {
  if (typeof input === "string") {
    if (!input.includes("-----BEGIN")) {
      throw new PkiError("bad-pem", `${what}: the string is not PEM text (use { path } for a file name)`);
    }
    return { kind: "pem", blocks: parsePem(input, what), source: what };
  }
  if (input instanceof Uint8Array) return fromBytes(input, what);
  if ("path" in input) return fromBytes(readInputFile(input.path), `${what} ${input.path}`);
  if ("pem" in input) {
    const text = typeof input.pem === "string" ? input.pem : Buffer.from(input.pem).toString("utf8");
    return { kind: "pem", blocks: parsePem(text, what), source: what };
  }
  return { kind: "der", der: input.der, source: what };
}

function fromBytes(bytes: Uint8Array, source: string): LoadedInput {
  if (looksLikePem(bytes)) return { kind: "pem", blocks: parsePem(Buffer.from(bytes).toString("utf8"), source), source };
  return { kind: "der", der: bytes, source };
}

/** PEM text of one DER value (64-column base64, RFC 7468 §2). */
export function toPem(label: string, der: Uint8Array): string {
  const b64 = Buffer.from(der).toString("base64");
  const lines = b64.match(/.{1,64}/g) ?? [];
  return `-----BEGIN ${label}-----\n${lines.join("\n")}\n-----END ${label}-----\n`;
}
