/**
 * The demo resources `coaps-edge agent` serves (and the interop tests use):
 *
 *   GET  /hello  → 2.05 "Hello from coaps-edge" (text/plain)
 *   POST /echo   → 2.05 Content: the request payload and Content-Format back. 2.05 rather than
 *                  2.04/2.01 because the response IS a representation of the result and no
 *                  resource is created (RFC 8132 §2.2 uses 2.05 for results of FETCH the same way).
 *   PUT  /echo   → 2.04 Changed with the payload and Content-Format back.
 *   GET  /large  → 2.05 a deterministic 16 KiB text body (demoLargeBody), block-wise
 *   GET  /time   → 2.05 the current UTC time (ISO 8601); observable (RFC 7641): observers get
 *                  a notification every second (like libcoap coap-server's /time)
 *   GET  /.well-known/core (generated)
 */
import { ContentFormat, OptionNumber, utf8Encode } from "@coaps-edge/shared";
import type { CoapServer } from "./server.js";

export const DEMO_HELLO_TEXT = "Hello from coaps-edge";
export const DEMO_LARGE_SIZE = 16 * 1024;

/**
 * `size` bytes of printable, line-structured ASCII that is the same on every call: numbered
 * 64-byte lines, so a misplaced block shows up as a wrong line number.
 */
export function demoLargeBody(size = DEMO_LARGE_SIZE): Uint8Array {
  const out = new Uint8Array(size);
  const alphabet = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
  let o = 0;
  for (let line = 0; o < size; line++) {
    // "line 00000 " (11) + 52 letters rotated by the line number + "\n" = 64 bytes
    const rot = line % alphabet.length;
    const text = `line ${String(line).padStart(5, "0")} ${(alphabet.slice(rot) + alphabet.slice(0, rot)).slice(0, 52)}\n`;
    const bytes = utf8Encode(text);
    const n = Math.min(bytes.length, size - o);
    out.set(bytes.subarray(0, n), o);
    o += n;
  }
  return out;
}

/** How often /time changes (and notifies its observers). */
export const DEMO_TIME_INTERVAL_MS = 1000;

/** Registers /hello, /echo, /large and the observable /time on `server`. */
export function registerDemoResources(server: CoapServer): void {
  server.addResource("/hello", {
    title: "Hello",
    rt: "greeting",
    ct: ContentFormat.text,
    get: () => ({ code: "2.05", payload: DEMO_HELLO_TEXT }),
  });
  server.addResource("/echo", {
    title: "Echo",
    rt: "echo",
    post: (req) => ({ code: "2.05", payload: req.payload, contentFormat: req.contentFormat }),
    put: (req) => ({ code: "2.04", payload: req.payload, contentFormat: req.contentFormat }),
  });
  const large = demoLargeBody();
  server.addResource("/large", {
    title: "Large",
    rt: "block",
    ct: ContentFormat.text,
    sz: large.length,
    get: () => ({ code: "2.05", payload: large, contentFormat: ContentFormat.text }),
  });
  // The tick runs only while /time has observers: no timer keeps an idle agent (or a closed
  // server, whose observers are gone) busy.
  let ticking = false;
  const tick = (): void => {
    if (server.observe.observers("/time").length === 0) {
      ticking = false;
      return;
    }
    time.notify();
    server.clock.setTimer(DEMO_TIME_INTERVAL_MS, tick);
  };
  const time = server.addResource("/time", {
    title: "Time",
    rt: "time",
    ct: ContentFormat.text,
    obs: true,
    get: (req) => {
      if (!ticking && req.options.some((o) => o.number === OptionNumber.Observe)) {
        ticking = true;
        server.clock.setTimer(DEMO_TIME_INTERVAL_MS, tick);
      }
      return { code: "2.05", payload: new Date().toISOString(), maxAge: 2 };
    },
  });
}
