/**
 * A complete CoAP request (Block1 already reassembled by the server) as a ForwardRequest.
 *
 * The cloud handler sees the end-to-end part of the request. The options below are consumed by
 * the edge, which is the CoAP endpoint the device talks to, and never travel:
 *   - addressing: Uri-Host, Uri-Port (RFC 7252 §5.10.1), Proxy-Uri/-Scheme (answered 5.05 anyway);
 *     Uri-Path, Uri-Query, Content-Format and Accept travel in their own envelope fields;
 *   - block-wise transfer, done hop by hop by the edge: Block1/2, Size1/2 (RFC 7959),
 *     Q-Block1/2 (RFC 9177), Request-Tag (RFC 9175 §3);
 *   - endpoint security and signalling: OSCORE, EDHOC, Echo (RFC 9175 §2), No-Response
 *     (RFC 7967), Hop-Limit (RFC 8768, proxies only).
 * Everything else (If-Match, ETag, If-None-Match, Observe, custom options) goes to the handler.
 */
import { OptionNumber, methodFromName, type CoapOption } from "@coaps-edge/shared";
import type { PeerIdentity } from "../transport/types.js";
import type { ForwardRequest } from "./types.js";

const EDGE_ONLY: ReadonlySet<number> = new Set([
  OptionNumber.UriHost,
  OptionNumber.UriPort,
  OptionNumber.UriPath,
  OptionNumber.UriQuery,
  OptionNumber.ContentFormat,
  OptionNumber.Accept,
  OptionNumber.ProxyUri,
  OptionNumber.ProxyScheme,
  OptionNumber.Block1,
  OptionNumber.Block2,
  OptionNumber.Size1,
  OptionNumber.Size2,
  OptionNumber.QBlock1,
  OptionNumber.QBlock2,
  OptionNumber.RequestTag,
  OptionNumber.OSCORE,
  OptionNumber.EDHOC,
  OptionNumber.Echo,
  OptionNumber.NoResponse,
  OptionNumber.HopLimit,
]);

/** What the forwarder needs of a request; the server's CoapRequest fits. */
export interface CompleteRequest {
  /** "GET", "POST", … (RFC 7252 §12.1.1, RFC 8132). */
  readonly method: string;
  readonly path: readonly string[];
  readonly query: readonly string[];
  readonly options: readonly CoapOption[];
  readonly payload: Uint8Array;
  readonly contentFormat: number | undefined;
  readonly accept: number | undefined;
  readonly peer: { readonly address: string; readonly port: number };
  readonly identity: Pick<PeerIdentity, "kind" | "identity" | "certificateSha256">;
}

/** True for options the cloud handler sees (see the module comment). */
export function isEndToEndOption(number: number): boolean {
  return !EDGE_ONLY.has(number);
}

/** The ForwardRequest of a complete request; `method` 0 when the name is unknown (buildRequestEnvelope answers 4.05). */
export function toForwardRequest(req: CompleteRequest, extra: Pick<ForwardRequest, "receivedAt" | "requestId" | "signal"> = {}): ForwardRequest {
  return {
    method: methodFromName(req.method) ?? 0,
    uriPath: req.path,
    uriQuery: req.query,
    options: req.options.filter((o) => isEndToEndOption(o.number)),
    ...(req.contentFormat !== undefined && { contentFormat: req.contentFormat }),
    ...(req.accept !== undefined && { accept: req.accept }),
    payload: req.payload,
    peer: { address: req.peer.address, port: req.peer.port },
    identity: {
      kind: req.identity.kind,
      ...(req.identity.identity !== undefined && { identity: req.identity.identity }),
      ...(req.identity.certificateSha256 !== undefined && { certificateSha256: req.identity.certificateSha256 }),
    },
    ...extra,
  };
}
