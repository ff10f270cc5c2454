/**
 * The DTLS 1.2 flights (RFC 6347 §4.2.4, numbered as pion numbers them), one file each:
 *
 *   Client                                          Server
 *   ------                                          ------
 *   flight1  ClientHello                  -------->                          flight0 (waits)
 *                                         <-------  HelloVerifyRequest       flight2 (stateless)
 *   flight3  ClientHello (with cookie)    -------->
 *                                                    ServerHello             flight4
 *                                                   [Certificate]*
 *                                                    ServerKeyExchange†
 *                                                   [CertificateRequest]*
 *                                         <-------   ServerHelloDone
 *   flight5 [Certificate]*
 *            ClientKeyExchange
 *           [CertificateVerify]*
 *            [ChangeCipherSpec]
 *            Finished                     -------->
 *                                                    [ChangeCipherSpec]      flight6
 *                                         <-------   Finished
 *            Application Data             <------>   Application Data
 *
 *   * ECDHE_ECDSA (key-exchange/ecdhe-ecdsa.ts): Certificate and ServerKeyExchange always;
 *     CertificateRequest when the server verifies clients; the client's Certificate only when
 *     asked (possibly empty), its CertificateVerify only after a non-empty Certificate.
 *   † PSK: only with an identity hint.
 *
 * Each flight has `generate` (what we send), `expect` (what we wait for, as data), `handle` and
 * `next`. Flight 2 is not in the table: the server answers it before any state exists
 * (`helloVerifyRequestRecord`). A flight whose `expect` is empty is the last flight we send.
 */
import { flight0 } from "./flight0.js";
import { flight1 } from "./flight1.js";
import { flight3 } from "./flight3.js";
import { flight4 } from "./flight4.js";
import { flight5 } from "./flight5.js";
import { flight6 } from "./flight6.js";
import type { Flight, FlightName } from "./types.js";

export const FLIGHTS: Readonly<Partial<Record<FlightName, Flight>>> = Object.freeze({
  flight0,
  flight1,
  flight3,
  flight4,
  flight5,
  flight6,
});

export function flight(name: FlightName): Flight {
  const f = FLIGHTS[name];
  if (!f) throw new Error(`${name} is not run by a handshaker`);
  return f;
}

export { helloVerifyRequestRecord } from "./flight2.js";
export type { ExpectedMessage, Flight, FlightName, OutgoingItem } from "./types.js";
