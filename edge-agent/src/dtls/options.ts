/**
 * Options shared by `DtlsServer` and `DtlsClient`, and their defaults.
 */
import { systemClock, type Clock } from "../util/clock.js";
import { randomBytes, type EcdheCurve } from "./crypto/index.js";
import { DEFAULT_GROUPS } from "./flights/context.js";
import type { RetransmitOptions } from "./handshaker.js";
import { recordOverhead, resolveSuites, type CipherSuite } from "./suites/cipher-suites.js";

export interface DtlsCommonOptions {
  /**
   * Cipher suite ids in preference order (default: CIPHER_SUITES — CCM_8, CCM, GCM, PSK before
   * ECDHE_ECDSA at each step). Only the suites whose credentials are configured are offered/chosen.
   */
  readonly cipherSuites?: readonly number[];
  /**
   * ECDHE groups for the ECDHE_ECDSA suites, in preference order (default x25519, secp256r1).
   * A client offers them in this order; a server takes the client's first one in this set.
   */
  readonly groups?: readonly EcdheCurve[];
  /**
   * The largest datagram (UDP payload) to send, in bytes. Default: the lower endpoint's
   * `maxMessageSize(peer)` (libcoap's 1152 MTU minus IP/UDP headers over UDP).
   */
  readonly mtu?: number;
  /** Time source for timers (tests pass a FakeClock). Default: the system clock. */
  readonly clock?: Clock;
  /** Flight retransmission timer (RFC 6347 §4.2.4.1). Default: 1 s initial, doubling, 60 s cap. */
  readonly retransmit?: Partial<RetransmitOptions>;
  /** A handshake not complete after this long fails with `handshake_timeout`. Default 60 s. */
  readonly handshakeTimeoutMs?: number;
  /** Whether `close()` also closes the lower endpoint. Default true. */
  readonly ownsLower?: boolean;
  /** Randomness for hello randoms and cookie secrets (tests may inject). Default: node:crypto. */
  readonly random?: (n: number) => Uint8Array;
  /**
   * Wall-clock time (ms since the epoch) at which peer certificates must be valid. Default
   * Date.now (the monotonic `clock` has no calendar). Tests pin it to check fixed certificates.
   */
  readonly wallClock?: () => number;
}

export const DEFAULT_RETRANSMIT: RetransmitOptions = Object.freeze({ initialMs: 1000, maxMs: 60_000 });
export const DEFAULT_HANDSHAKE_TIMEOUT_MS = 60_000;

export interface ResolvedCommon {
  readonly suites: readonly CipherSuite[];
  readonly groups: readonly EcdheCurve[];
  readonly clock: Clock;
  readonly retransmit: RetransmitOptions;
  readonly handshakeTimeoutMs: number;
  readonly ownsLower: boolean;
  readonly random: (n: number) => Uint8Array;
  readonly wallClock: () => number;
  /** The worst record overhead among the configured suites (before a suite is negotiated). */
  readonly worstOverhead: number;
}

export function resolveCommon(o: DtlsCommonOptions): ResolvedCommon {
  const suites = resolveSuites(o.cipherSuites);
  const retransmit = { ...DEFAULT_RETRANSMIT, ...o.retransmit };
  if (!(retransmit.initialMs > 0) || retransmit.maxMs < retransmit.initialMs) throw new RangeError("invalid retransmit timers");
  if (o.mtu !== undefined && !(o.mtu >= 64)) throw new RangeError("mtu must be at least 64 bytes");
  const groups = o.groups ?? DEFAULT_GROUPS;
  if (groups.length === 0 || groups.some((g) => !DEFAULT_GROUPS.includes(g))) {
    throw new RangeError(`groups must be a non-empty list of ${DEFAULT_GROUPS.join(", ")}`);
  }
  return {
    suites,
    groups: [...new Set(groups)],
    clock: o.clock ?? systemClock,
    retransmit,
    handshakeTimeoutMs: o.handshakeTimeoutMs ?? DEFAULT_HANDSHAKE_TIMEOUT_MS,
    ownsLower: o.ownsLower ?? true,
    random: o.random ?? randomBytes,
    wallClock: o.wallClock ?? Date.now,
    worstOverhead: Math.max(...suites.map(recordOverhead)),
  };
}

/**
 * Yields one macrotask. node:dgram resolves the destination asynchronously before sending, and
 * a socket closed in between drops the datagram: endpoints wait this long after their last
 * close_notify before closing the lower endpoint.
 */
export function flushSends(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}
