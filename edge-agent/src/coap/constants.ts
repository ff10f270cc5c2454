/**
 * CoAP transmission parameters (RFC 7252 §4.8) and the time values derived from them
 * (§4.8.2). Only the four base parameters and the two network assumptions are inputs; every
 * derived value is computed by the RFC formula, never typed in (STYLE.md §7, after aiocoap
 * `numbers/constants.py`), so changing ACK_TIMEOUT moves EXCHANGE_LIFETIME with it.
 */

/** The configurable inputs of RFC 7252 §4.8 (times in milliseconds). */
export interface TransmissionParameters {
  /** ACK_TIMEOUT: initial retransmission timeout of a CON (default 2 s). */
  readonly ackTimeoutMs: number;
  /** ACK_RANDOM_FACTOR: the initial timeout is uniform in [ACK_TIMEOUT, ACK_TIMEOUT × factor] (default 1.5). */
  readonly ackRandomFactor: number;
  /** MAX_RETRANSMIT: retransmissions after the first transmission (default 4). */
  readonly maxRetransmit: number;
  /** NSTART: outstanding CON interactions per peer (default 1). */
  readonly nstart: number;
  /** MAX_LATENCY: the longest a datagram is assumed to be in flight (default 100 s). */
  readonly maxLatencyMs: number;
  /** PROCESSING_DELAY: time a node takes to turn a CON around into its ACK (default ACK_TIMEOUT). */
  readonly processingDelayMs?: number;
}

/** The RFC 7252 §4.8 defaults. */
export const DEFAULT_TRANSMISSION: TransmissionParameters = Object.freeze({
  ackTimeoutMs: 2000,
  ackRandomFactor: 1.5,
  maxRetransmit: 4,
  nstart: 1,
  maxLatencyMs: 100_000,
});

/** Parameters plus the derived times of RFC 7252 §4.8.2 (all in milliseconds). */
export interface TransmissionTimes extends TransmissionParameters {
  readonly processingDelayMs: number;
  /** ACK_TIMEOUT × (2^MAX_RETRANSMIT − 1) × ACK_RANDOM_FACTOR: first to last transmission of a CON. */
  readonly maxTransmitSpanMs: number;
  /** ACK_TIMEOUT × (2^(MAX_RETRANSMIT + 1) − 1) × ACK_RANDOM_FACTOR: first transmission to giving up. */
  readonly maxTransmitWaitMs: number;
  /** MAX_TRANSMIT_SPAN + 2 × MAX_LATENCY + PROCESSING_DELAY: how long a CON message ID must not be reused / is deduplicated. */
  readonly exchangeLifetimeMs: number;
  /** MAX_TRANSMIT_SPAN + MAX_LATENCY: the same for NON messages. */
  readonly nonLifetimeMs: number;
  /** 2 × MAX_LATENCY + PROCESSING_DELAY: round trip an endpoint waits for an answer at most. */
  readonly maxRttMs: number;
}

/**
 * Completes `overrides` with the defaults and derives the §4.8.2 values. With the defaults:
 * MAX_TRANSMIT_SPAN 45 s, MAX_TRANSMIT_WAIT 93 s, EXCHANGE_LIFETIME 247 s, NON_LIFETIME 145 s.
 * Throws RangeError on a value the formulas cannot use (configuration errors, not input errors).
 */
export function transmissionTimes(overrides: Partial<TransmissionParameters> = {}): TransmissionTimes {
  const p = { ...DEFAULT_TRANSMISSION, ...stripUndefined(overrides) };
  if (!(p.ackTimeoutMs > 0)) throw new RangeError("ackTimeoutMs must be > 0");
  if (!(p.ackRandomFactor >= 1)) throw new RangeError("ackRandomFactor must be >= 1");
  if (!Number.isInteger(p.maxRetransmit) || p.maxRetransmit < 0 || p.maxRetransmit > 20) {
    throw new RangeError("maxRetransmit must be an integer in 0..20");
  }
  if (!Number.isInteger(p.nstart) || p.nstart < 1) throw new RangeError("nstart must be an integer >= 1");
  if (!(p.maxLatencyMs >= 0)) throw new RangeError("maxLatencyMs must be >= 0");
  const processingDelayMs = p.processingDelayMs ?? p.ackTimeoutMs;
  const maxTransmitSpanMs = p.ackTimeoutMs * (2 ** p.maxRetransmit - 1) * p.ackRandomFactor;
  const maxTransmitWaitMs = p.ackTimeoutMs * (2 ** (p.maxRetransmit + 1) - 1) * p.ackRandomFactor;
  return Object.freeze({
    ...p,
    processingDelayMs,
    maxTransmitSpanMs,
    maxTransmitWaitMs,
    exchangeLifetimeMs: maxTransmitSpanMs + 2 * p.maxLatencyMs + processingDelayMs,
    nonLifetimeMs: maxTransmitSpanMs + p.maxLatencyMs,
    maxRttMs: 2 * p.maxLatencyMs + processingDelayMs,
  });
}

function stripUndefined<T extends object>(o: T): Partial<T> {
  const out: Partial<T> = {};
  for (const [k, v] of Object.entries(o)) if (v !== undefined) (out as Record<string, unknown>)[k] = v;
  return out;
}

/** Default UDP ports (RFC 7252 §6.1, §6.2). */
export const COAP_PORT = 5683;
export const COAPS_PORT = 5684;

/** The default token length of requests we originate (RFC 7252 §5.3.1 asks for ≥ 32 random bits when unsecured). */
export const DEFAULT_TOKEN_LENGTH = 8;
