/**
 * Signalling messages of CoAP over reliable transports (RFC 8323 §5): code class 7, one
 * option number space per signal code (§5.2: even numbers elective, odd numbers critical).
 *
 *   7.01 CSM      2 Max-Message-Size (uint 0–4 B, default 1152)   4 Block-Wise-Transfer (empty)
 *   7.02 Ping     2 Custody (empty)
 *   7.03 Pong     2 Custody (empty)
 *   7.04 Release  2 Alternative-Address (string 1–255 B, repeatable)   4 Hold-Off (uint 0–3 B, s)
 *   7.05 Abort    2 Bad-CSM-Option (uint 0–2 B)
 *
 * Release and Abort may carry a diagnostic payload (UTF-8). Building and reading them here,
 * runtime-neutral; the connection state machine lives in the edge agent.
 */
import type { CoapOption } from "./message.js";
import { decodeUint, encodeUint } from "./options.js";
import type { StreamMessage } from "./tcp-codec.js";
import { utf8Decode, utf8Encode } from "./utf8.js";

/** Signalling codes (class 7, RFC 8323 §11.1). */
export const SignalCode = { CSM: 0xe1, Ping: 0xe2, Pong: 0xe3, Release: 0xe4, Abort: 0xe5 } as const;
export type SignalCode = (typeof SignalCode)[keyof typeof SignalCode];

/** Option numbers per signal code (RFC 8323 §11.2). */
export const SignalOption = {
  MaxMessageSize: 2,
  BlockWiseTransfer: 4,
  Custody: 2,
  AlternativeAddress: 2,
  HoldOff: 4,
  BadCsmOption: 2,
} as const;

/** The Max-Message-Size a peer is assumed to accept until its CSM says otherwise (§5.3.1). */
export const DEFAULT_MAX_MESSAGE_SIZE = 1152;

/** True for a class-7 (signalling) code. */
export function isSignalCode(code: number): boolean {
  return code >> 5 === 7;
}

/** What a CSM announces. */
export interface CsmValues {
  /** Largest message the sender accepts (§5.3.1). */
  readonly maxMessageSize?: number;
  /** The sender supports block-wise transfer, and so BERT (§5.3.2, §6). */
  readonly blockWiseTransfer?: boolean;
}

/** A signalling message as a value. */
export type Signal =
  | { readonly kind: "csm"; readonly maxMessageSize: number | undefined; readonly blockWiseTransfer: boolean }
  | { readonly kind: "ping"; readonly custody: boolean }
  | { readonly kind: "pong"; readonly custody: boolean }
  | { readonly kind: "release"; readonly alternativeAddresses: readonly string[]; readonly holdOffSeconds: number | undefined; readonly diagnostic: string }
  | { readonly kind: "abort"; readonly badCsmOption: number | undefined; readonly diagnostic: string }
  /** A class-7 code this implementation does not know. */
  | { readonly kind: "unknown"; readonly code: number }
  /** An option is malformed, or unknown and critical: the connection is to be aborted (§5.2). */
  | { readonly kind: "invalid"; readonly code: number; readonly option: number; readonly reason: string };

const EMPTY = new Uint8Array(0);

function signal(code: number, token: Uint8Array, options: CoapOption[], diagnostic = ""): StreamMessage {
  return { code, token, options, payload: diagnostic === "" ? EMPTY : utf8Encode(diagnostic) };
}

/** A 7.01 CSM. */
export function csmMessage(values: CsmValues, token: Uint8Array = EMPTY): StreamMessage {
  const options: CoapOption[] = [];
  if (values.maxMessageSize !== undefined) options.push({ number: SignalOption.MaxMessageSize, value: encodeUint(values.maxMessageSize) });
  if (values.blockWiseTransfer) options.push({ number: SignalOption.BlockWiseTransfer, value: EMPTY });
  return signal(SignalCode.CSM, token, options);
}

/** A 7.02 Ping (§5.4); `custody` asks the peer to answer only after what it is processing. */
export function pingMessage(token: Uint8Array = EMPTY, custody = false): StreamMessage {
  return signal(SignalCode.Ping, token, custody ? [{ number: SignalOption.Custody, value: EMPTY }] : []);
}

/** A 7.03 Pong answering a Ping: the same token (§5.4). */
export function pongMessage(token: Uint8Array, custody = false): StreamMessage {
  return signal(SignalCode.Pong, token, custody ? [{ number: SignalOption.Custody, value: EMPTY }] : []);
}

/** A 7.04 Release (§5.5). */
export function releaseMessage(opts: { alternativeAddresses?: readonly string[]; holdOffSeconds?: number; diagnostic?: string } = {}): StreamMessage {
  const options: CoapOption[] = (opts.alternativeAddresses ?? []).map((a) => ({ number: SignalOption.AlternativeAddress, value: utf8Encode(a) }));
  if (opts.holdOffSeconds !== undefined) options.push({ number: SignalOption.HoldOff, value: encodeUint(opts.holdOffSeconds) });
  return signal(SignalCode.Release, EMPTY, options, opts.diagnostic);
}

/** A 7.05 Abort (§5.6), naming the CSM option that caused it if any. */
export function abortMessage(opts: { badCsmOption?: number; diagnostic?: string } = {}): StreamMessage {
  const options: CoapOption[] = opts.badCsmOption === undefined ? [] : [{ number: SignalOption.BadCsmOption, value: encodeUint(opts.badCsmOption) }];
  return signal(SignalCode.Abort, EMPTY, options, opts.diagnostic);
}

/** Reads a uint option value of at most `max` bytes, or a reason it is malformed. */
function uintValue(o: CoapOption, max: number): number | string {
  if (o.value.length > max) return `option ${o.number} of ${o.value.length} bytes (max ${max})`;
  return decodeUint(o.value);
}

/**
 * Interprets a class-7 message. Never throws: malformed or unknown critical options give
 * `{kind: "invalid"}`, on which §5.2 and §5.3 say to abort the connection; unknown elective
 * options are ignored; unknown signal codes give `{kind: "unknown"}`.
 */
export function parseSignal(msg: StreamMessage): Signal {
  const critical = (o: CoapOption): Signal => ({ kind: "invalid", code: msg.code, option: o.number, reason: `unknown critical option ${o.number}` });
  const isCritical = (n: number): boolean => (n & 1) === 1;
  const diagnostic = (): string => utf8Decode(msg.payload);
  switch (msg.code) {
    case SignalCode.CSM: {
      let maxMessageSize: number | undefined;
      let blockWiseTransfer = false;
      for (const o of msg.options) {
        if (o.number === SignalOption.MaxMessageSize) {
          const v = uintValue(o, 4);
          if (typeof v === "string") return { kind: "invalid", code: msg.code, option: o.number, reason: v };
          maxMessageSize = v;
        } else if (o.number === SignalOption.BlockWiseTransfer) blockWiseTransfer = true;
        else if (isCritical(o.number)) return critical(o);
      }
      return { kind: "csm", maxMessageSize, blockWiseTransfer };
    }
    case SignalCode.Ping:
    case SignalCode.Pong: {
      let custody = false;
      for (const o of msg.options) {
        if (o.number === SignalOption.Custody) custody = true;
        else if (isCritical(o.number)) return critical(o);
      }
      return { kind: msg.code === SignalCode.Ping ? "ping" : "pong", custody };
    }
    case SignalCode.Release: {
      const alternativeAddresses: string[] = [];
      let holdOffSeconds: number | undefined;
      for (const o of msg.options) {
        if (o.number === SignalOption.AlternativeAddress) alternativeAddresses.push(utf8Decode(o.value));
        else if (o.number === SignalOption.HoldOff) {
          const v = uintValue(o, 3);
          if (typeof v === "string") return { kind: "invalid", code: msg.code, option: o.number, reason: v };
          holdOffSeconds = v;
        } else if (isCritical(o.number)) return critical(o);
      }
      return { kind: "release", alternativeAddresses, holdOffSeconds, diagnostic: diagnostic() };
    }
    case SignalCode.Abort: {
      let badCsmOption: number | undefined;
      for (const o of msg.options) {
        if (o.number === SignalOption.BadCsmOption) {
          const v = uintValue(o, 2);
          if (typeof v === "string") return { kind: "invalid", code: msg.code, option: o.number, reason: v };
          badCsmOption = v;
        } else if (isCritical(o.number)) return critical(o);
      }
      return { kind: "abort", badCsmOption, diagnostic: diagnostic() };
    }
    default:
      return { kind: "unknown", code: msg.code };
  }
}
