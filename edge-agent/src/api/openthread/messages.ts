/**
 * Conversions between CoAP messages and what the OpenThread-style API hands out and takes in:
 * an inbound request as a CoapRequest view, an outgoing request message as code + options.
 */
import {
  Method,
  MessageType,
  OptionNumber,
  getUintOption,
  getUriPath,
  getUriQuery,
  methodFromName,
  stringOption,
  uintOption,
  utf8Encode,
  type CoapOption,
} from "@coaps-edge/shared";
import type { InboundRequest } from "../../coap/message-layer.js";
import { IncomingRequest } from "../../server/request.js";
import type { CoapRequest, MethodName } from "../../server/types.js";
import { OtError } from "./ot-error.js";
import type { CoapSecureRequestMessage } from "./types.js";

const METHOD_NAMES: Readonly<Record<number, MethodName>> = {
  [Method.GET]: "GET",
  [Method.POST]: "POST",
  [Method.PUT]: "PUT",
  [Method.DELETE]: "DELETE",
  [Method.FETCH]: "FETCH",
  [Method.PATCH]: "PATCH",
  [Method.iPATCH]: "iPATCH",
};

/** The CoapRequest view of a raw inbound request (its own payload: no reassembly here). */
export function requestFromInbound(inbound: InboundRequest): CoapRequest {
  const m = inbound.message;
  return new IncomingRequest(
    METHOD_NAMES[m.code] ?? "GET",
    getUriPath(m),
    {},
    getUriQuery(m),
    m.options,
    m.payload,
    getUintOption(m, OptionNumber.ContentFormat),
    getUintOption(m, OptionNumber.Accept),
    m.token,
    m.type === MessageType.CON,
    inbound.peer,
    inbound.identity,
    inbound.layer.scheme,
  );
}

/** "a/b", "/a/b/" → "a/b" (OpenThread's mUriPath has no leading slash). */
export function normalizePath(path: string | readonly string[]): string {
  const segs = typeof path === "string" ? path.split("/") : path;
  return segs.filter((s) => s !== "").join("/");
}

/** The method code of a request message; throws OtError InvalidArgs for an unknown one. */
export function requestCode(m: CoapSecureRequestMessage): number {
  if (m.method === undefined) return Method.GET;
  const code = typeof m.method === "number" ? m.method : methodFromName(m.method);
  if (code === undefined || code < 1 || code > 31) throw new OtError("InvalidArgs", `not a request method: ${String(m.method)}`);
  return code;
}

/** Uri-Path, Uri-Query, Content-Format, Accept and the caller's options, in that order. */
export function requestOptions(m: CoapSecureRequestMessage): CoapOption[] {
  const options: CoapOption[] = [];
  const path = m.path === undefined ? [] : typeof m.path === "string" ? m.path.split("/").filter((s) => s !== "") : m.path;
  for (const seg of path) options.push(stringOption(OptionNumber.UriPath, seg));
  const query = m.query === undefined ? [] : typeof m.query === "string" ? m.query.replace(/^\?/, "").split("&").filter((q) => q !== "") : m.query;
  for (const q of query) options.push(stringOption(OptionNumber.UriQuery, q));
  if (m.contentFormat !== undefined) options.push(uintOption(OptionNumber.ContentFormat, m.contentFormat));
  if (m.accept !== undefined) options.push(uintOption(OptionNumber.Accept, m.accept));
  if (m.options) options.push(...m.options);
  return options;
}

/** The payload bytes of a request message. */
export function requestPayload(m: CoapSecureRequestMessage): Uint8Array {
  return m.payload === undefined ? new Uint8Array(0) : typeof m.payload === "string" ? utf8Encode(m.payload) : m.payload;
}
