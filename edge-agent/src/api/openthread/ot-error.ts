/**
 * OpenThread's `otError` as a typed error: the names and numeric values of
 * openthread/include/openthread/error.h, so code and logs read like OpenThread's. Functions that
 * return `otError` in C throw an `OtError` here (success is a normal return); callbacks that
 * take an `aResult` get the error NAME ("None" on success).
 */

/** otError values (error.h). 25 and 33 are reserved there. */
export const OtErrorValue = {
  None: 0,
  Failed: 1,
  Drop: 2,
  NoBufs: 3,
  NoRoute: 4,
  Busy: 5,
  Parse: 6,
  InvalidArgs: 7,
  Security: 8,
  AddressQuery: 9,
  NoAddress: 10,
  Abort: 11,
  NotImplemented: 12,
  InvalidState: 13,
  NoAck: 14,
  ChannelAccessFailure: 15,
  Detached: 16,
  Fcs: 17,
  NoFrameReceived: 18,
  UnknownNeighbor: 19,
  InvalidSourceAddress: 20,
  AddressFiltered: 21,
  DestinationAddressFiltered: 22,
  NotFound: 23,
  Already: 24,
  Ip6AddressCreationFailure: 26,
  NotCapable: 27,
  ResponseTimeout: 28,
  Duplicated: 29,
  ReassemblyTimeout: 30,
  NotTmf: 31,
  NotLowpanDataFrame: 32,
  LinkMarginLow: 34,
  InvalidCommand: 35,
  Pending: 36,
  Rejected: 37,
  Generic: 255,
} as const;

/** An otError by name ("InvalidState" is OT_ERROR_INVALID_STATE). */
export type OtErrorName = keyof typeof OtErrorValue;

/** A failed OpenThread-style call: `code` is the otError name, `value` its number. */
export class OtError extends Error {
  override readonly name = "OtError";
  readonly code: Exclude<OtErrorName, "None">;
  readonly value: number;

  constructor(code: Exclude<OtErrorName, "None">, message: string, options: { cause?: unknown } = {}) {
    super(`${code}: ${message}`, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.value = OtErrorValue[code];
  }
}

/** The otError name a thrown value stands for (an OtError's code, else "Failed"). */
export function otErrorNameOf(e: unknown): Exclude<OtErrorName, "None"> {
  return e instanceof OtError ? e.code : "Failed";
}
