/**
 * coap:// and coaps:// URIs (RFC 7252 §6) to request targets, following the §6.4 steps:
 * absolute URI, scheme coap/coaps, no fragment, host (IP literal or name), port (default 5683 /
 * 5684), path segments and query items percent-decoded into Uri-Path / Uri-Query values.
 */
import { isIP } from "node:net";
import { COAPS_PORT, COAP_PORT } from "../coap/constants.js";
import { CoapClientError } from "./errors.js";

export type CoapScheme = "coap" | "coaps" | "coap+tcp" | "coaps+tcp" | "coap+ws" | "coaps+ws";

/** The schemes of RFC 7252 §6 and RFC 8323 §8. */
const SCHEMES: ReadonlySet<string> = new Set<CoapScheme>(["coap", "coaps", "coap+tcp", "coaps+tcp", "coap+ws", "coaps+ws"]);

/** Default port of a scheme: 5683/5684 (UDP, TCP), 80/443 (WebSocket, RFC 8323 §8.3–§8.4). */
export function defaultPort(scheme: CoapScheme): number {
  switch (scheme) {
    case "coap":
    case "coap+tcp":
      return COAP_PORT;
    case "coap+ws":
      return 80;
    case "coaps+ws":
      return 443;
    default:
      return COAPS_PORT;
  }
}

/** A parsed request target. */
export interface CoapUri {
  readonly scheme: CoapScheme;
  /** Host without brackets: "127.0.0.1", "::1", "example.org". */
  readonly host: string;
  readonly port: number;
  /** Uri-Path values (decoded). The root is []. */
  readonly path: string[];
  /** Uri-Query values (decoded). */
  readonly query: string[];
}

/**
 * Parses a coap://, coaps://, coap+tcp://, coaps+tcp://, coap+ws:// or coaps+ws:// URI; throws
 * CoapClientError "bad-uri". A percent-encoded path as host ("coap+tcp://%2Ftmp%2Fsock/x",
 * libcoap's Unix-domain form) decodes to the socket path.
 */
export function parseCoapUri(uri: string): CoapUri {
  let url: URL;
  try {
    url = new URL(uri);
  } catch {
    throw new CoapClientError("bad-uri", `not an absolute URI: ${uri}`);
  }
  const scheme = url.protocol.slice(0, -1).toLowerCase() as CoapScheme;
  if (!SCHEMES.has(scheme)) throw new CoapClientError("bad-uri", `scheme must be coap, coaps, coap+tcp, coaps+tcp, coap+ws or coaps+ws: ${uri}`);
  if (url.hash !== "") throw new CoapClientError("bad-uri", `a CoAP URI has no fragment (RFC 7252 §6.4): ${uri}`);
  if (url.username !== "" || url.password !== "") throw new CoapClientError("bad-uri", `user info is not allowed: ${uri}`);
  let host = url.hostname;
  if (host.startsWith("[") && host.endsWith("]")) host = host.slice(1, -1);
  if (host === "") throw new CoapClientError("bad-uri", `missing host: ${uri}`);
  const port = url.port === "" ? defaultPort(scheme) : Number(url.port);
  try {
    return { scheme, host: decodeURIComponent(host), port, path: splitSegments(url.pathname), query: splitQuery(url.search) };
  } catch (e) {
    if (e instanceof CoapClientError) throw e;
    throw new CoapClientError("bad-uri", `bad percent-encoding: ${uri}`);
  }
}

/** "/a/b%20c" → ["a", "b c"]; "/" and "" → []. A trailing "/" gives an empty last segment (as §6.4 step 8). */
export function splitSegments(pathname: string): string[] {
  const p = pathname.startsWith("/") ? pathname.slice(1) : pathname;
  if (p === "") return [];
  return p.split("/").map((s) => decodeURIComponent(s));
}

/** "?a=1&b" → ["a=1", "b"]. */
export function splitQuery(search: string): string[] {
  const q = search.startsWith("?") ? search.slice(1) : search;
  if (q === "") return [];
  return q.split("&").map((s) => decodeURIComponent(s));
}

/** True for an IPv4 or IPv6 literal (no Uri-Host option is sent for those, §6.4 step 5). */
export function isIpLiteral(host: string): boolean {
  return isIP(host.split("%")[0] ?? host) !== 0;
}

/** The URI text of a target (for messages and logs). */
export function formatCoapUri(t: CoapUri): string {
  const host = t.host.includes(":") ? `[${t.host}]` : t.host;
  const path = t.path.map(encodeURIComponent).join("/");
  const query = t.query.length ? "?" + t.query.map(encodeURIComponent).join("&") : "";
  return `${t.scheme}://${host}:${t.port}/${path}${query}`;
}
