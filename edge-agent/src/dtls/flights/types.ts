/**
 * The vocabulary of flights: what a flight sends, and what it expects back — as data
 * (STYLE.md §3, after Californium's HandshakeState), so the certificate messages of ECDHE_ECDSA
 * are rows, not new branches.
 */
import type { HandshakeMessage } from "../handshake/header.js";
import type { HandshakeContext } from "./context.js";

/** pion's flight numbering (RFC 6347 §4.2.4 diagram in flights/index.ts). */
export type FlightName = "flight0" | "flight1" | "flight2" | "flight3" | "flight4" | "flight5" | "flight6";

/** One message we wait for. */
export interface ExpectedMessage {
  readonly type: number;
  /** May be absent (the next expectation is tried instead). */
  readonly optional?: boolean;
  /** Must arrive protected in this epoch (Finished: 1). */
  readonly epoch?: number;
  /** Receiving it completes the flight even if expectations remain (HelloVerifyRequest). */
  readonly endsFlight?: boolean;
}

/** One item of an outgoing flight; the same items are re-sent on retransmission (new records). */
export type OutgoingItem =
  | {
      readonly kind: "handshake";
      readonly type: number;
      readonly seq: number;
      readonly body: Uint8Array;
      /**
       * The message with its 12-byte header as one unfragmented fragment (RFC 6347 §4.2.6): the
       * bytes the transcript hashes, and the record plaintext whenever the body fits one record.
       */
      readonly message: Uint8Array;
      readonly epoch: number;
    }
  | { readonly kind: "change_cipher_spec"; readonly epoch: number };

export interface Flight {
  readonly name: FlightName;
  /**
   * Builds this flight through `ctx.emit` / `ctx.emitChangeCipherSpec`. Runs once per flight;
   * retransmissions re-send what it emitted. A flight that only waits emits nothing.
   */
  generate(ctx: HandshakeContext): void;
  /** What the peer answers, in order. Empty: this is our last flight (server flight 6). */
  expect(ctx: HandshakeContext): readonly ExpectedMessage[];
  /**
   * Handles one received message, already matched against `expect` and already in the
   * transcript (except HelloVerifyRequest). Throws DtlsError (fatal, with its alert) to abort.
   */
  handle(ctx: HandshakeContext, msg: HandshakeMessage): void;
  /** The flight to send once all expectations are met, or "done". */
  next(ctx: HandshakeContext): FlightName | "done";
}
