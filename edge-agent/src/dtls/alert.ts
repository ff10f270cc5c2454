/**
 * Alerts (RFC 5246 §7.2, RFC 4279 §2 for unknown_psk_identity).
 *
 *   struct {
 *       AlertLevel level;               // warning(1), fatal(2)
 *       AlertDescription description;
 *   } Alert;
 */
import { TlsAlert } from "../pki/errors.js";
import { ByteReader } from "./codec/bytes.js";

export const AlertLevel = { warning: 1, fatal: 2 } as const;
export type AlertLevel = (typeof AlertLevel)[keyof typeof AlertLevel];

/**
 * The full description table: the certificate/handshake subset that PKI validation results carry
 * is defined once in pki/errors.ts (`TlsAlert`, the layer below) and spread in here.
 */
export const AlertDescription = {
  ...TlsAlert,
  close_notify: 0,
  unexpected_message: 10,
  bad_record_mac: 20,
  record_overflow: 22,
  protocol_version: 70,
  insufficient_security: 71,
  inappropriate_fallback: 86,
  user_canceled: 90,
  no_renegotiation: 100,
  unsupported_extension: 110,
  unknown_psk_identity: 115,
} as const;
export type AlertName = keyof typeof AlertDescription;
export type AlertDescription = (typeof AlertDescription)[AlertName];

const names = new Map<number, AlertName>(
  (Object.entries(AlertDescription) as [AlertName, number][]).map(([k, v]) => [v, k]),
);

/** The name of an alert description ("alert_N" for one we do not know). */
export function alertName(description: number): string {
  return names.get(description) ?? `alert_${description}`;
}

/** The name of a description we know, or undefined. */
export function knownAlertName(description: number): AlertName | undefined {
  return names.get(description);
}

export interface Alert {
  readonly level: AlertLevel;
  readonly description: number;
}

export function encodeAlert(alert: Alert): Uint8Array {
  return Uint8Array.of(alert.level, alert.description);
}

export function decodeAlert(fragment: Uint8Array): Alert {
  const r = new ByteReader(fragment);
  const level = r.u8("alert level");
  const description = r.u8("alert description");
  r.end("alert");
  return { level: level === AlertLevel.warning ? AlertLevel.warning : AlertLevel.fatal, description };
}
