/**
 * Typed DTLS errors that carry their consequence (STYLE.md §5, after Californium's
 * HandshakeException and pion's errors.go):
 * - `recovery: "drop"`: the record or datagram is discarded and counted; the session lives on
 *   (RFC 6347 §4.1.2.7: invalid records are silently discarded).
 * - `recovery: "fatal"`: the handshake or session ends; `alert` is what we send the peer
 *   (or, for `code: "peer_alert"`, what the peer sent us).
 *
 * On the record path drops are not thrown at all: a record that does not parse, replays or
 * fails authentication is a return value, counted in `DtlsStats` (no exception per bad datagram).
 */
import { AlertDescription, AlertLevel, alertName, knownAlertName, type Alert, type AlertName } from "./alert.js";

export type DtlsErrorCode =
  /** We detected a problem and send this alert (the code is the alert's name). */
  | AlertName
  /** The peer sent a fatal alert (`alert` holds it). */
  | "peer_alert"
  /** No complete handshake within `handshakeTimeoutMs`. */
  | "handshake_timeout"
  /** The endpoint or session was closed before the handshake completed. */
  | "closed"
  /** The 48-bit record sequence space is used up (no renegotiation: the session must end). */
  | "sequence_exhausted";

export type Recovery = "drop" | "fatal";

export class DtlsError extends Error {
  readonly code: DtlsErrorCode;
  /** The alert to send (local failure) or the alert received (`peer_alert`); none for timeouts. */
  readonly alert: Alert | undefined;
  readonly recovery: Recovery;

  constructor(code: DtlsErrorCode, message: string, options: { alert?: Alert; recovery?: Recovery; cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = "DtlsError";
    this.code = code;
    this.alert = options.alert;
    this.recovery = options.recovery ?? "fatal";
  }

  /** A local fatal error that sends `description` as a fatal alert. */
  static fatal(description: AlertName, message: string, cause?: unknown): DtlsError {
    return new DtlsError(description, message, {
      alert: { level: AlertLevel.fatal, description: AlertDescription[description] },
      cause,
    });
  }

  /**
   * A local fatal error for an alert given by number (pki results carry the alert to send as a
   * description number); one we have no name for becomes internal_error.
   */
  static fatalAlert(description: number, message: string, cause?: unknown): DtlsError {
    return DtlsError.fatal(knownAlertName(description) ?? "internal_error", message, cause);
  }

  /** The peer ended the handshake/session with a fatal alert. */
  static fromPeerAlert(alert: Alert): DtlsError {
    return new DtlsError("peer_alert", `peer sent fatal alert ${alertName(alert.description)} (${alert.description})`, { alert });
  }

  /** True when the peer reported this alert description (by name). */
  isPeerAlert(name: AlertName): boolean {
    return this.code === "peer_alert" && this.alert?.description === AlertDescription[name];
  }
}
