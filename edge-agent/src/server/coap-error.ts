/**
 * A handler's way to answer with an error (after aiocoap `error.py`): `throw new CoapError(
 * Code.NotFound, "no such sensor")` renders as that response with the diagnostic as payload
 * (RFC 7252 §5.5.2: a diagnostic payload is UTF-8 text, no Content-Format). Any other throw
 * renders as 5.00 without leaking the message.
 */
import { codeToString, isResponseCode, parseCode } from "@coaps-edge/shared";

export class CoapError extends Error {
  override readonly name = "CoapError";
  /** The response code (e.g. 0x84 for 4.04). */
  readonly code: number;
  /** Diagnostic text sent as the payload; empty for none. */
  readonly diagnostic: string;

  /** `code` as a number (`Code.NotFound`) or dotted text ("4.04"); throws RangeError if not a 2.xx–5.xx response code. */
  constructor(code: number | string, diagnostic = "") {
    const c = typeof code === "string" ? parseCode(code) : code;
    if (!isResponseCode(c)) throw new RangeError(`not a response code: ${typeof code === "string" ? code : codeToString(c)}`);
    super(diagnostic ? `${codeToString(c)} ${diagnostic}` : codeToString(c));
    this.code = c;
    this.diagnostic = diagnostic;
  }
}
