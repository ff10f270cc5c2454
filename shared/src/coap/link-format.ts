/**
 * CoRE Link Format (RFC 6690 §2) for /.well-known/core:
 *
 *     Link            = link-value-list
 *     link-value-list = [ link-value *[ "," link-value ]]
 *     link-value      = "<" URI-Reference ">" *( ";" link-param )
 *     link-param      = parmname [ "=" ( ptoken / quoted-string ) ]
 *
 * Serialisation: string values are quoted (with \" and \\ escaped), numbers bare, `true` is a
 * bare parameter name (e.g. `obs`, RFC 7641 §6), `false` omits the parameter, and an array is one
 * quoted space-separated value (RFC 6690 §3.1 for rt/if; RFC 7252 §7.2.1 for ct) — a one-number
 * array is written bare. Parsing returns quoted values as strings, bare all-digit values as
 * numbers, other bare values as strings, valueless parameters as `true`; a repeated parameter
 * becomes an array.
 */

/** One link: target and attributes (rt, if, ct, sz, title, obs, ...). */
export interface LinkDescription {
  href: string;
  attributes?: Record<string, string | number | boolean | (string | number)[]>;
}

/** Thrown by `parseLinkFormat` on text that is not link-format. */
export class LinkFormatError extends Error {
  override readonly name = "LinkFormatError";
  readonly code = "syntax";
  /** Character offset of the problem. */
  readonly offset: number;
  constructor(message: string, offset: number) {
    super(`${message} at offset ${offset}`);
    this.offset = offset;
  }
}

function quote(s: string): string {
  return `"${s.replace(/[\\"]/g, (c) => `\\${c}`)}"`;
}

function formatParam(name: string, v: string | number | boolean | (string | number)[]): string | undefined {
  if (v === false) return undefined;
  if (v === true) return name;
  if (typeof v === "number") return `${name}=${v}`;
  if (typeof v === "string") return `${name}=${quote(v)}`;
  if (v.length === 1 && typeof v[0] === "number") return `${name}=${v[0]}`;
  return `${name}=${quote(v.join(" "))}`;
}

/** One link-value: `</path>;rt="x";ct=0`. */
export function formatLink(link: LinkDescription): string {
  let out = `<${link.href}>`;
  for (const [name, v] of Object.entries(link.attributes ?? {})) {
    const p = formatParam(name, v);
    if (p !== undefined) out += `;${p}`;
  }
  return out;
}

/** The link-format document: link-values joined with ",", e.g. `</hello>;rt="greeting";ct=0,</large>;sz=16384`. */
export function formatLinkFormat(links: readonly LinkDescription[]): string {
  return links.map(formatLink).join(",");
}

/** Characters that end a bare (ptoken) value or a parameter name. */
const DELIMS = new Set([";", ",", "=", " ", "\t", "\r", "\n"]);

/** Parses a link-format document. Throws `LinkFormatError` on malformed text. Whitespace between items is tolerated. */
export function parseLinkFormat(text: string): LinkDescription[] {
  const links: LinkDescription[] = [];
  let i = 0;
  const n = text.length;
  const skipWs = (): void => {
    while (i < n && /\s/.test(text[i] as string)) i++;
  };
  skipWs();
  if (i === n) return links;
  for (;;) {
    skipWs();
    if (text[i] !== "<") throw new LinkFormatError('expected "<"', i);
    const close = text.indexOf(">", i + 1);
    if (close < 0) throw new LinkFormatError('unterminated "<"', i);
    const link: LinkDescription = { href: text.slice(i + 1, close) };
    const attributes: Record<string, string | number | boolean | (string | number)[]> = {};
    i = close + 1;
    skipWs();
    while (text[i] === ";") {
      i++;
      skipWs();
      const start = i;
      while (i < n && !DELIMS.has(text[i] as string)) i++;
      const name = text.slice(start, i);
      if (name === "") throw new LinkFormatError("empty parameter name", start);
      let value: string | number | boolean = true;
      skipWs();
      if (text[i] === "=") {
        i++;
        skipWs();
        if (text[i] === '"') {
          let s = "";
          i++;
          for (;;) {
            if (i >= n) throw new LinkFormatError("unterminated quoted string", i);
            const c = text[i] as string;
            if (c === '"') break;
            if (c === "\\" && i + 1 < n) {
              s += text[i + 1];
              i += 2;
            } else {
              s += c;
              i++;
            }
          }
          i++;
          value = s;
        } else {
          const vs = i;
          while (i < n && !DELIMS.has(text[i] as string)) i++;
          const raw = text.slice(vs, i);
          if (raw === "") throw new LinkFormatError("empty parameter value", vs);
          value = /^[0-9]+$/.test(raw) ? Number(raw) : raw;
        }
      }
      addAttribute(attributes, name, value);
      skipWs();
    }
    if (Object.keys(attributes).length > 0) link.attributes = attributes;
    links.push(link);
    if (i >= n) return links;
    if (text[i] !== ",") throw new LinkFormatError('expected "," or ";"', i);
    i++;
  }
}

function addAttribute(
  attrs: Record<string, string | number | boolean | (string | number)[]>,
  name: string,
  value: string | number | boolean,
): void {
  const prev = attrs[name];
  if (prev === undefined) {
    attrs[name] = value;
    return;
  }
  const items = (Array.isArray(prev) ? prev : [prev]).filter((x): x is string | number => typeof x !== "boolean");
  if (typeof value !== "boolean") items.push(value);
  attrs[name] = items;
}
