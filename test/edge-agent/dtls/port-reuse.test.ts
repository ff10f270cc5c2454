/**
 * Regression (issue 7, bench hs-psk: ~1 handshake in 10,000 failed on the generator with "the
 * peer's protected handshake record does not authenticate"). A client closes its session
 * (close_notify) and its socket at once; the OS gives the port to the next client; the
 * server's close_notify answer for the OLD session (an epoch-1 alert) reaches the NEW
 * handshake. It was held as an early epoch-1 record and, once the new keys existed, failed to
 * authenticate while the client awaited the server's Finished — which ended the handshake with
 * bad_record_mac. A stray record must be dropped and counted (RFC 6347 §4.1.2.7); only a
 * handshake record that fails there means different keys (a wrong PSK).
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { ContentType } from "../../../edge-agent/src/dtls/constants.js";
import { splitRecords } from "../../../edge-agent/src/dtls/record/header.js";
import { DtlsClient } from "../../../edge-agent/src/dtls/index.js";
import { connect, fixture, KEY_A, KEY_B, pump, startClient, TapEndpoint, utf8 } from "./helpers.js";

const PORT = 40_123;

/** Epoch-1 alert records in a capture. */
function epoch1Alerts(datagrams: readonly { data: Uint8Array }[]): number {
  let n = 0;
  for (const d of datagrams) for (const r of splitRecords(d.data).records) if (r.header.epoch === 1 && r.header.type === ContentType.alert) n++;
  return n;
}

test("the old session's close_notify reaching a new handshake on the same port is dropped, not fatal", async () => {
  // 5 ms each way: the server's close_notify answer is still on the wire when the port is reused.
  const f = fixture({ link: { delayMs: 5 } });
  const old = await connect(f, { psk: { identity: "dev-a", key: KEY_A } }, f.net.endpoint(PORT));
  assert.ok(old.client);
  await old.client.close(); // close_notify, then the endpoint (port) is released at once

  const tap = new TapEndpoint(f.net.endpoint(PORT)); // the same address and port, a new client
  const fresh = startClient(f, { psk: { identity: "dev-b", key: KEY_B } }, tap);
  await pump(f.clock, 200);
  assert.equal(epoch1Alerts(tap.received), 1, "the old session's close_notify answer reached the new client");
  assert.equal(fresh.error, undefined, String(fresh.error));
  assert.ok(fresh.client instanceof DtlsClient);
  assert.equal(fresh.client.stats.recordsDropped, 1, "dropped (no epoch-1 keys yet) and counted");
  assert.equal(fresh.client.stats.recordsBuffered, 0, "not held for the new keys");
  assert.equal(f.server.sessionInfo(tap.local)?.identity.identity, "dev-b");

  const seen: string[] = [];
  f.server.onDatagram = (d) => seen.push(new TextDecoder().decode(d));
  fresh.client.send(f.server.local, utf8("hello from the new session"));
  await pump(f.clock, 50);
  assert.deepEqual(seen, ["hello from the new session"]);
});

test("a wrong PSK still fails fast with bad_record_mac (the Finished does not authenticate)", async () => {
  const f = fixture();
  const wrong = await connect(f, { psk: { identity: "dev-a", key: utf8("not the key of dev-a") } });
  assert.equal(wrong.client, undefined);
  assert.match(String(wrong.error), /bad_record_mac/);
  assert.ok(f.clock.now() < 1000, `failed before any retransmission timeout (${f.clock.now()} ms)`);
});
