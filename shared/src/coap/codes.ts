/**
 * CoAP codes (RFC 7252 §3, §5.8, §5.9, §12.1): an 8-bit code is a 3-bit class and a 5-bit detail,
 * written "c.dd". Class 0 holds the methods (0.00 is the Empty message), 2/4/5 the responses,
 * 7 the signalling codes of CoAP over reliable transports (RFC 8323 §5); 1 and 6 are reserved.
 */

/** Request method codes (class 0): RFC 7252 §12.1.1, FETCH/PATCH/iPATCH from RFC 8132. */
export const Method = {
  GET: 0x01,
  POST: 0x02,
  PUT: 0x03,
  DELETE: 0x04,
  FETCH: 0x05,
  PATCH: 0x06,
  iPATCH: 0x07,
} as const;
export type Method = (typeof Method)[keyof typeof Method];

/** Response and signalling codes as numbers (0x45 = 2.05 Content). */
export const Code = {
  Empty: 0x00,
  // 2.xx success: RFC 7252 §5.9.1, 2.31 Continue from RFC 7959 §2.9.1
  Created: 0x41,
  Deleted: 0x42,
  Valid: 0x43,
  Changed: 0x44,
  Content: 0x45,
  Continue: 0x5f,
  // 4.xx client error: RFC 7252 §5.9.2; 4.08 RFC 7959; 4.09/4.22 RFC 8132; 4.29 RFC 8516
  BadRequest: 0x80,
  Unauthorized: 0x81,
  BadOption: 0x82,
  Forbidden: 0x83,
  NotFound: 0x84,
  MethodNotAllowed: 0x85,
  NotAcceptable: 0x86,
  RequestEntityIncomplete: 0x88,
  Conflict: 0x89,
  PreconditionFailed: 0x8c,
  RequestEntityTooLarge: 0x8d,
  UnsupportedContentFormat: 0x8f,
  UnprocessableEntity: 0x96,
  TooManyRequests: 0x9d,
  // 5.xx server error: RFC 7252 §5.9.3; 5.08 RFC 8768
  InternalServerError: 0xa0,
  NotImplemented: 0xa1,
  BadGateway: 0xa2,
  ServiceUnavailable: 0xa3,
  GatewayTimeout: 0xa4,
  ProxyingNotSupported: 0xa5,
  HopLimitReached: 0xa8,
  // 7.xx signalling: RFC 8323 §5
  CSM: 0xe1,
  Ping: 0xe2,
  Pong: 0xe3,
  Release: 0xe4,
  Abort: 0xe5,
} as const;
export type Code = (typeof Code)[keyof typeof Code];

const CODE_NAMES = new Map<number, string>(Object.entries(Code).map(([k, v]) => [v, k]));
const METHOD_NAMES = new Map<number, string>(Object.entries(Method).map(([k, v]) => [v, k]));
const METHODS_BY_UPPER = new Map<string, number>(Object.entries(Method).map(([k, v]) => [k.toUpperCase(), v]));

/** The class (0..7) of an 8-bit code. */
export function codeClass(code: number): number {
  return (code >>> 5) & 0x07;
}

/** The detail (0..31) of an 8-bit code. */
export function codeDetail(code: number): number {
  return code & 0x1f;
}

/** "c.dd" text of a code, e.g. 0x45 → "2.05", 0x5f → "2.31". */
export function codeToString(code: number): string {
  const detail = code & 0x1f;
  return `${(code >>> 5) & 0x07}.${detail < 10 ? "0" : ""}${detail}`;
}

/**
 * The 8-bit code of "c.dd" text ("2.05" → 0x45). Throws RangeError unless the class is one digit
 * 0..7 and the detail two digits 00..31.
 */
export function parseCode(text: string): number {
  const m = /^([0-7])\.([0-3][0-9])$/.exec(text);
  const detail = m ? Number(m[2]) : 32;
  if (!m || detail > 31) throw new RangeError(`not a CoAP code "c.dd": ${JSON.stringify(text)}`);
  return (Number(m[1]) << 5) | detail;
}

/** The registered name of a code ("Content", "NotFound", "GET"), or undefined. */
export function codeName(code: number): string | undefined {
  return METHOD_NAMES.get(code) ?? CODE_NAMES.get(code);
}

/** Code 0.00: the Empty message (RFC 7252 §4.1). */
export function isEmptyCode(code: number): boolean {
  return code === 0;
}

/** Class 0 with a non-zero detail: a request method (registered or not). */
export function isRequestCode(code: number): boolean {
  return code >= 0x01 && code <= 0x1f;
}

/** Classes 2, 4 and 5 (RFC 7252 §5.9). */
export function isResponseCode(code: number): boolean {
  const c = codeClass(code);
  return c === 2 || c === 4 || c === 5;
}

/** Class 2 (Success). */
export function isSuccessCode(code: number): boolean {
  return codeClass(code) === 2;
}

/** Class 7: signalling codes, only meaningful over reliable transports (RFC 8323 §5). */
export function isSignalingCode(code: number): boolean {
  return codeClass(code) === 7;
}

/** "GET", "POST", ... for a registered method code, else undefined. */
export function methodName(code: number): string | undefined {
  return METHOD_NAMES.get(code);
}

/** The method code for a name, case-insensitively ("get", "GET", "ipatch"), else undefined. */
export function methodFromName(name: string): number | undefined {
  return METHODS_BY_UPPER.get(name.toUpperCase());
}
