/**
 * Errors a resource handler throws to answer with a CoAP error code (as aiocoap's error.py lets
 * a handler raise a 4.xx). The message becomes the diagnostic payload (RFC 7252 §5.5.2: a
 * human-readable UTF-8 text in an error response, no Content-Format).
 */
import { codeClass, parseCode } from "@coaps-edge/shared";

/** A CoAP error outcome: `throw new ResourceError("4.03", "not your sensor")`. */
export class ResourceError extends Error {
  override readonly name = "ResourceError";
  /** The 8-bit CoAP code (class 4 or 5). */
  readonly code: number;

  /** `code` as "4.xx"/"5.xx" text or as a number (`Code.Forbidden`). Throws RangeError if not 4.xx/5.xx. */
  constructor(code: number | string, message = "") {
    super(message);
    const n = typeof code === "string" ? parseCode(code) : code;
    const cls = codeClass(n);
    if (!Number.isInteger(n) || n < 0 || n > 0xff || (cls !== 4 && cls !== 5)) {
      throw new RangeError(`ResourceError needs a 4.xx or 5.xx code, got ${String(code)}`);
    }
    this.code = n;
  }
}
