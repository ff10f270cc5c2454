/**
 * Exit codes of `coaps-edge` (coap-client exits 0 even on failure; scripts need to tell):
 *
 *   0  success (2.xx response; agent stopped cleanly)
 *   1  other failure (RST from the server, network error, agent could not start)
 *   2  usage error (bad flags, bad URI, invalid config)
 *   3  timeout (no response within -B seconds / MAX_TRANSMIT_WAIT)
 *   4  the server answered 4.xx
 *   5  the server answered 5.xx
 *   6  the DTLS handshake of a coaps:// request failed (an alert either way, e.g. a wrong key or
 *      an unknown identity, or no handshake within -B seconds), or the TLS handshake of a
 *      coaps+tcp:// / coaps+ws:// one
 */
export const ExitCode = {
  Ok: 0,
  Failure: 1,
  Usage: 2,
  Timeout: 3,
  ClientError: 4,
  ServerError: 5,
  HandshakeFailed: 6,
} as const;
export type ExitCode = (typeof ExitCode)[keyof typeof ExitCode];
