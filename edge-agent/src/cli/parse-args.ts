/**
 * coap-client style argument values: `-b [num,]size`, `-O num,value`, `-T token`, `-t`/`-A`
 * content formats. Each parser throws UsageError with a message naming the flag.
 */
import { contentFormatFromName, type CoapOption } from "@coaps-edge/shared";

export class UsageError extends Error {
  override readonly name = "UsageError";
}

/** `-b [num,]size`: size is a power of two 16..1024 (coap-client rounds down; so do we). */
export function parseBlockArg(text: string): { num: number; size: number } {
  const m = /^(?:(\d+),)?(\d+)$/.exec(text.trim());
  if (!m) throw new UsageError(`-b expects [num,]size, got "${text}"`);
  const size = Number(m[2]);
  if (size < 16 || size > 1024) throw new UsageError(`-b size must be 16..1024, got ${size}`);
  return { num: m[1] === undefined ? 0 : Number(m[1]), size };
}

/** Bytes of "0x…" hex text, or undefined when `text` is not hex-prefixed. */
function hexBytes(text: string, flag: string): Uint8Array | undefined {
  if (!/^0x/i.test(text)) return undefined;
  const hex = text.slice(2);
  if (hex.length % 2 !== 0 || !/^[0-9a-f]*$/i.test(hex)) throw new UsageError(`${flag}: bad hex "${text}"`);
  return Uint8Array.from(hex.match(/../g) ?? [], (b) => parseInt(b, 16));
}

/** `-O num,value`: value as text, or bytes when it starts with 0x (as coap-client). */
export function parseOptionArg(text: string): CoapOption {
  const comma = text.indexOf(",");
  const numText = comma < 0 ? text : text.slice(0, comma);
  if (!/^\d+$/.test(numText) || Number(numText) > 65535) throw new UsageError(`-O expects num[,value] with num 0..65535, got "${text}"`);
  const valueText = comma < 0 ? "" : text.slice(comma + 1);
  const value = hexBytes(valueText, "-O") ?? new TextEncoder().encode(valueText);
  return { number: Number(numText), value };
}

/** `-T token`: up to 8 bytes, text or 0x-hex. */
export function parseTokenArg(text: string): Uint8Array {
  const bytes = hexBytes(text, "-T") ?? new TextEncoder().encode(text);
  if (bytes.length > 8) throw new UsageError(`-T token is at most 8 bytes, got ${bytes.length}`);
  return bytes;
}

/** `-t` / `-A`: a media type, short name or number. */
export function parseContentFormatArg(text: string, flag: string): number {
  const n = contentFormatFromName(text);
  if (n === undefined) throw new UsageError(`${flag}: unknown content format "${text}"`);
  return n;
}

/** `-v level`: a non-negative integer. */
export function parseVerbosity(text: string): number {
  if (!/^\d+$/.test(text)) throw new UsageError(`-v expects a number (libcoap levels 0..9), got "${text}"`);
  return Number(text);
}

/** `-p port` (or another port flag, named in the message). */
export function parsePort(text: string, flag = "-p"): number {
  if (!/^\d+$/.test(text) || Number(text) > 65535) throw new UsageError(`${flag} expects a port 0..65535, got "${text}"`);
  return Number(text);
}

/** `-B seconds` (or `-s`, named in the message): positive number. */
export function parseSeconds(text: string, flag = "-B"): number {
  const n = Number(text);
  if (!Number.isFinite(n) || n <= 0) throw new UsageError(`${flag} expects seconds > 0, got "${text}"`);
  return n;
}

/** One line of a libcoap PSK match file: coap-server `-i` (hint,identity,key) or coap-client `-h` (hint,user,key). */
export interface PskFileLine {
  readonly hint: string;
  readonly identity: string;
  readonly key: string;
}

/**
 * Parses a libcoap PSK match file: one `hint,identity,key` per line, `#` comments and blank
 * lines skipped. The key is everything after the second comma (it may hold commas); it must
 * not be empty, the identity neither (RFC 4279 §5.3: the identity is 1..2^16-1 bytes).
 */
export function parsePskFile(text: string, flag: string): PskFileLine[] {
  const out: PskFileLine[] = [];
  const lines = text.split(/\r?\n/);
  lines.forEach((raw, i) => {
    const line = raw.trim();
    if (line === "" || line.startsWith("#")) return;
    const a = line.indexOf(",");
    const b = a < 0 ? -1 : line.indexOf(",", a + 1);
    if (b < 0) throw new UsageError(`${flag} line ${i + 1}: expected hint,identity,key`);
    const hint = line.slice(0, a);
    const identity = line.slice(a + 1, b);
    const key = line.slice(b + 1);
    if (identity === "" || key === "") throw new UsageError(`${flag} line ${i + 1}: identity and key must not be empty`);
    out.push({ hint, identity, key });
  });
  return out;
}
