/**
 * Client flight 1: the first ClientHello, without a cookie. The server answers with a
 * HelloVerifyRequest (→ flight 3) or, if it does not use cookies, directly with its flight 4
 * (→ flight 5).
 */
import type { Flight } from "./types.js";
import { emitClientHello } from "./client-hello.js";
import { expectServerHelloFlight, handleServerHelloFlight, nextAfterServerHelloFlight } from "./server-hello-flight.js";

export const flight1: Flight = {
  name: "flight1",
  generate(ctx) {
    ctx.clientRandom = ctx.config.random(32);
    emitClientHello(ctx);
  },
  expect: expectServerHelloFlight,
  handle: handleServerHelloFlight,
  next: nextAfterServerHelloFlight,
};
