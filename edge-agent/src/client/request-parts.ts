/**
 * The pieces of a client request that every client API builds the same way: the method code,
 * the request options in RFC 7252 §6.4 order (Uri-Host, Uri-Path, Uri-Query, then the rest),
 * the payload bytes, and the response view of a finished block-wise transfer. Used by
 * `CoapClient` and the libcoap-style `CoapSession`.
 */
import {
  OptionNumber,
  codeToString,
  getUintOption,
  methodFromName,
  stringOption,
  uintOption,
  utf8Encode,
  type CoapOption,
} from "@coaps-edge/shared";
import type { TransferResult } from "./blockwise-transfer.js";
import type { CoapClientResponse } from "./client.js";
import { CoapClientError } from "./errors.js";

/** Method name or code → code (GET when absent); a bad one is a "bad-request" error. */
export function methodCode(m: string | number | undefined): number {
  if (m === undefined) return 1;
  const code = typeof m === "number" ? m : methodFromName(m);
  if (code === undefined || code < 1 || code > 31) throw new CoapClientError("bad-request", `unknown method ${String(m)}`);
  return code;
}

export interface RequestOptionParts {
  readonly uriHost?: string | undefined;
  readonly path: readonly string[];
  readonly query: readonly string[];
  readonly contentFormat?: number | undefined;
  readonly accept?: number | undefined;
  readonly extra?: readonly CoapOption[] | undefined;
}

/** The request's options; the encoder sorts them by number, repeated ones keep this order. */
export function requestOptions(p: RequestOptionParts): CoapOption[] {
  const options: CoapOption[] = [];
  if (p.uriHost !== undefined) options.push(stringOption(OptionNumber.UriHost, p.uriHost));
  for (const seg of p.path) options.push(stringOption(OptionNumber.UriPath, seg));
  for (const q of p.query) options.push(stringOption(OptionNumber.UriQuery, q));
  if (p.contentFormat !== undefined) options.push(uintOption(OptionNumber.ContentFormat, p.contentFormat));
  if (p.accept !== undefined) options.push(uintOption(OptionNumber.Accept, p.accept));
  if (p.extra) options.push(...p.extra);
  return options;
}

/** Text payloads are sent as UTF-8. */
export function payloadBytes(payload: Uint8Array | string | undefined): Uint8Array {
  return payload === undefined ? new Uint8Array(0) : typeof payload === "string" ? utf8Encode(payload) : payload;
}

/** A token longer than RFC 7252's 8 bytes is refused before anything is sent. */
export function checkTokenLength(length: number): void {
  if (length > 8) throw new CoapClientError("bad-request", "token longer than 8 bytes");
}

/** The caller's view of a finished transfer: the last response with the reassembled body. */
export function transferResponse(result: TransferResult): CoapClientResponse {
  const code = result.response.message.code;
  return {
    code,
    codeText: codeToString(code),
    options: result.options,
    payload: result.payload,
    contentFormat: getUintOption({ ...result.response.message, options: result.options }, OptionNumber.ContentFormat),
    peer: result.response.peer,
    identity: result.response.identity,
    messages: result.messages,
  };
}
