/**
 * Counters of one DTLS endpoint (server: all peers together). Plain numbers, incremented in
 * place, read by metrics (Prometheus) and tests. Every dropped input is counted somewhere here.
 */
export interface DtlsStats {
  datagramsIn: number;
  recordsIn: number;
  /** Malformed records, records for no session, unexpected content, out-of-window fragments. */
  recordsDropped: number;
  /** Records that failed AEAD authentication (RFC 6347 §4.1.2.7: dropped silently). */
  decryptFailures: number;
  /** Records rejected by the anti-replay window (RFC 6347 §4.1.2.6). */
  replaysDropped: number;
  /** Protected records that arrived before their epoch's keys and were held back. */
  recordsBuffered: number;
  /** HelloVerifyRequests sent (server). */
  cookiesSent: number;
  /** ClientHellos whose cookie did not verify (server). */
  cookiesRejected: number;
  /** HelloVerifyRequests not sent because they would exceed the ClientHello (anti-amplification). */
  amplificationDropped: number;
  handshakesStarted: number;
  handshakesOk: number;
  handshakesFailed: number;
  /** ClientHellos refused because `maxHalfOpen` handshakes were already running (server). */
  halfOpenRejected: number;
  /** Handshakes refused because `maxSessions` sessions exist (server). */
  sessionsRejected: number;
  flightsSent: number;
  retransmits: number;
  alertsSent: number;
  alertsReceived: number;
  appRecordsIn: number;
  appRecordsOut: number;
  /** send() without an established session, or a message over 2^14 bytes. */
  appSendDropped: number;
  sessionsClosed: number;
  idleTimeouts: number;
}

export function newStats(): DtlsStats {
  return {
    datagramsIn: 0,
    recordsIn: 0,
    recordsDropped: 0,
    decryptFailures: 0,
    replaysDropped: 0,
    recordsBuffered: 0,
    cookiesSent: 0,
    cookiesRejected: 0,
    amplificationDropped: 0,
    handshakesStarted: 0,
    handshakesOk: 0,
    handshakesFailed: 0,
    halfOpenRejected: 0,
    sessionsRejected: 0,
    flightsSent: 0,
    retransmits: 0,
    alertsSent: 0,
    alertsReceived: 0,
    appRecordsIn: 0,
    appRecordsOut: 0,
    appSendDropped: 0,
    sessionsClosed: 0,
    idleTimeouts: 0,
  };
}
