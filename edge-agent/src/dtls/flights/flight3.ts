/**
 * Client flight 3: the ClientHello again, now with the server's cookie, same random. Expects
 * the server's flight 4 (or yet another HelloVerifyRequest, e.g. after a secret rotation).
 */
import type { Flight } from "./types.js";
import { emitClientHello } from "./client-hello.js";
import { expectServerHelloFlight, handleServerHelloFlight, nextAfterServerHelloFlight } from "./server-hello-flight.js";

export const flight3: Flight = {
  name: "flight3",
  generate(ctx) {
    ctx.cookieRequested = false;
    emitClientHello(ctx);
  },
  expect: expectServerHelloFlight,
  handle: handleServerHelloFlight,
  next: nextAfterServerHelloFlight,
};
