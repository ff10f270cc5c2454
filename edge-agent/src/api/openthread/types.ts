/**
 * The OpenThread CoAP Secure types (openthread/coap_secure.h, coap.h) in TypeScript spelling:
 * resources, block-wise hooks, connect events, handlers. `aContext` pointers become closures.
 */
import type { CoapMessage, CoapOption } from "@coaps-edge/shared";
import type { CoapRequest, CoapResponse, MethodName } from "../../server/types.js";
import type { PeerAddress, PeerIdentity } from "../../transport/types.js";
import type { DtlsError } from "../../dtls/errors.js";
import type { OtErrorName } from "./ot-error.js";

/** OT_DEFAULT_COAP_SECURE_PORT (RFC 7252 coaps). */
export const OT_DEFAULT_COAP_SECURE_PORT = 5684;

/**
 * otCoapSecureConnectEvent: OT_COAP_SECURE_CONNECTED, _DISCONNECTED_PEER_CLOSED,
 * _DISCONNECTED_LOCAL_CLOSED, _DISCONNECTED_MAX_ATTEMPTS, _DISCONNECTED_ERROR.
 */
export type CoapSecureConnectEvent =
  | "Connected"
  | "DisconnectedPeerClosed"
  | "DisconnectedLocalClosed"
  | "DisconnectedMaxAttempts"
  | "DisconnectedError";

/**
 * The session states of OpenThread's SecureTransport (meshcop/secure_transport.hpp):
 * Closed (no socket), Open (socket bound, no session), Initializing (setting a session up),
 * Connecting (handshake), Connected, CloseNotify (session ended; the guard time runs).
 */
export type CoapSecureState = "Closed" | "Open" | "Initializing" | "Connecting" | "Connected" | "CloseNotify";

/** Which session a connect event is about. */
export interface CoapSecureSessionEvent {
  /** "client": the session of connect(); "server": a session a peer opened to us. */
  readonly role: "client" | "server";
  readonly peer: PeerAddress;
  /** The DTLS failure behind DisconnectedError, if any. */
  readonly error?: DtlsError;
}

/**
 * otHandleCoapSecureClientConnect: called when a DTLS session comes up or goes away. The
 * boolean of older OpenThread releases is `event === "Connected"`.
 */
export type CoapSecureConnectHandler = (event: CoapSecureConnectEvent, session: CoapSecureSessionEvent) => void;

/** otCoapSecureAutoStopCallback. */
export type CoapSecureAutoStopCallback = () => void;

/**
 * Where a request came from and how to answer it (otMessageInfo): pass it back to
 * `sendResponse` / `sendResponseBlockWise`.
 */
export class MessageInfo {
  readonly #deliver: ((response: CoapResponse) => boolean) | undefined;

  /** @internal Made by CoapSecure for each request (and response) it hands to the application. */
  constructor(
    /** The remote address and port (mPeerAddr, mPeerPort). */
    readonly peer: PeerAddress,
    /** The local address and port (mSockAddr, mSockPort). */
    readonly local: PeerAddress,
    /** Who DTLS authenticated the peer as (PSK identity, certificate). */
    readonly identity: PeerIdentity,
    /** The request this info belongs to (undefined on response infos). */
    readonly request: CoapRequest | undefined,
    deliver?: (response: CoapResponse) => boolean,
  ) {
    this.#deliver = deliver;
  }

  /** @internal Sends `response` to the request; false if it was already answered. */
  deliver(response: CoapResponse): boolean {
    return this.#deliver ? this.#deliver(response) : false;
  }
}

/**
 * otCoapRequestHandler: a request for a resource (Block1 uploads of plain resources arrive
 * whole). Answer with `CoapSecure.sendResponse(response, info)`, at once or later.
 */
export type CoapSecureRequestHandler = (request: CoapRequest, info: MessageInfo) => void;

/** otCoapResource: a URI path and its handler (any method). */
export interface CoapSecureResource {
  /** "a/b" or "/a/b". */
  readonly uriPath: string;
  readonly handler: CoapSecureRequestHandler;
}

/**
 * otCoapBlockwiseReceiveHook: one received block (Block1 of a request to a block-wise resource,
 * Block2 of a response to sendRequestBlockWise). `totalLength` is Size1/Size2 when given, else
 * 0. Throw an OtError to stop the transfer (server side: NoBufs → 4.13, NoFrameReceived →
 * 4.08, anything else → 5.00; client side: the response handler gets that error).
 */
export type CoapBlockwiseReceiveHook = (block: Uint8Array, position: number, more: boolean, totalLength: number) => void;

/**
 * otCoapBlockwiseTransmitHook: the block at `position` (at most `blockSize` bytes), and whether
 * more follow. Throw an OtError to stop the transfer.
 */
export type CoapBlockwiseTransmitHook = (position: number, blockSize: number) => { readonly block: Uint8Array; readonly more: boolean };

/** otCoapBlockwiseResource: a resource whose blocks go through hooks instead of being joined. */
export interface CoapSecureBlockwiseResource extends CoapSecureResource {
  /** Called per Block1 block of a request; 2.31 Continue is sent for every block but the last. */
  readonly receiveHook?: CoapBlockwiseReceiveHook;
  /** Called per Block2 block NUM > 0 a client asks for (block 0 comes from the handler's sendResponseBlockWise). */
  readonly transmitHook?: CoapBlockwiseTransmitHook;
}

/** A request to send (the otMessage given to otCoapSecureSendRequest). */
export interface CoapSecureRequestMessage {
  /** Default "GET". */
  readonly method?: MethodName | number;
  /** "/a/b" or ["a", "b"]. */
  readonly path?: string | readonly string[];
  /** "a=1&b" or ["a=1", "b"]. */
  readonly query?: string | readonly string[];
  /** Body (ignored by sendRequestBlockWise when a transmit hook produces it); a string is UTF-8. */
  readonly payload?: Uint8Array | string;
  readonly contentFormat?: number;
  readonly accept?: number;
  readonly options?: readonly CoapOption[];
  /** CON (default) or NON. */
  readonly confirmable?: boolean;
  /** Default: a fresh random token. */
  readonly token?: Uint8Array;
  /** 0 or absent: one is assigned (returned by sendRequest). */
  readonly messageId?: number;
}

/**
 * otCoapResponseHandler: called once per request — with the response and "None", or without
 * one and "ResponseTimeout" (no answer), "Abort" (RST, session gone, agent stopped), or the
 * error a block-wise hook threw (with the response that was being processed).
 */
export type CoapSecureResponseHandler = (response: CoapMessage | undefined, info: MessageInfo | undefined, result: OtErrorName) => void;

/** Options of sendRequest / sendRequestBlockWise beyond OpenThread's. */
export interface CoapSecureSendOptions {
  /**
   * Send to this established session instead of the connect() peer (the gateway's downlink:
   * a device that connected to us). Default: the session of connect().
   */
  readonly peer?: { readonly address: string; readonly port: number };
  /** Give up after this long (default: MAX_TRANSMIT_WAIT, 93 s with the RFC 7252 defaults). */
  readonly timeoutMs?: number;
  /** Block size for sendRequestBlockWise's Block1 blocks (16..1024, default 1024). */
  readonly blockSize?: number;
}
