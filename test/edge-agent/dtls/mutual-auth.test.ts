/**
 * Client certificates on our server (issue 4 acceptance): with `verifyPeer` on, a client with no
 * certificate, an expired one, one from another CA, or one whose CN the callback rejects is
 * refused with the alert OpenSSL would send (handshake_failure, certificate_expired, unknown_ca,
 * access_denied); with `verifyPeer` off no CertificateRequest is sent and the same clients
 * connect, anonymous. Each case is its own test; validity is judged at the fixed instant T0.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { DtlsError, type DtlsClientPki, type DtlsServerPki } from "../../../edge-agent/src/dtls/index.js";
import { ContentType, HandshakeType } from "../../../edge-agent/src/dtls/constants.js";
import { decodeHandshakeFragments } from "../../../edge-agent/src/dtls/handshake/header.js";
import { splitRecords } from "../../../edge-agent/src/dtls/record/header.js";
import type { Credentials, TestPki } from "../../../edge-agent/src/pki/index.js";
import { connect, pump } from "./helpers.js";
import { credentials, DAY, leafCredentials, pkiFixture, T0, testPki, trustOf, wallClock } from "./pki-fixtures.js";

const REJECTED_CN = "device-banned";

interface World {
  pki: TestPki;
  /** The four problem clients by case name (undefined: no certificate). */
  clients: Record<"no certificate" | "expired" | "another CA" | "CN rejected", Credentials | undefined>;
  cnCalls: [string, number, boolean][];
  serverPki(verifyPeer: boolean): DtlsServerPki;
  clientPki(creds: Credentials | undefined): DtlsClientPki;
}

function world(): World {
  const pki = testPki();
  const other = testPki({ caCommonName: "another CA" });
  const cnCalls: [string, number, boolean][] = [];
  return {
    pki,
    clients: {
      "no certificate": undefined,
      expired: leafCredentials("device-expired", pki.ca, { notBefore: new Date(T0 - 60 * DAY), notAfter: new Date(T0 - DAY) }),
      "another CA": credentials(other.devices[0]!),
      "CN rejected": leafCredentials(REJECTED_CN, pki.ca),
    },
    cnCalls,
    serverPki: (verifyPeer) => ({
      credentials: credentials(pki.server!),
      trust: trustOf(pki),
      verifyPeer,
      policy: {
        validateCn: (cn, _der, depth, validated) => {
          cnCalls.push([cn, depth, validated]);
          return cn !== REJECTED_CN;
        },
      },
    }),
    clientPki: (creds) => ({ ...(creds ? { credentials: creds } : {}), trust: trustOf(pki) }),
  };
}

/** True when the server's flight 4 (captured) carried a CertificateRequest. */
function sentCertificateRequest(sent: readonly { data: Uint8Array }[]): boolean {
  return sent.some((d) =>
    splitRecords(d.data).records.some(
      (r) =>
        r.header.epoch === 0 &&
        r.header.type === ContentType.handshake &&
        decodeHandshakeFragments(r.fragment).some((f) => f.type === HandshakeType.certificate_request),
    ),
  );
}

const REFUSALS = [
  ["no certificate", "handshake_failure"],
  ["expired", "certificate_expired"],
  ["another CA", "unknown_ca"],
  ["CN rejected", "access_denied"],
] as const;

for (const [name, alert] of REFUSALS) {
  test(`verifyPeer on: a client with ${name === "no certificate" ? "no certificate" : `a certificate (${name})`} is refused with ${alert}`, async () => {
    const w = world();
    const f = pkiFixture(w.serverPki(true));
    const failures: DtlsError[] = [];
    f.server.onHandshakeFailed = (_p, e) => failures.push(e);
    const { client, error } = await connect(f, { pki: w.clientPki(w.clients[name]), wallClock });
    await pump(f.clock, 50);
    assert.equal(client, undefined);
    assert.ok(error instanceof DtlsError, String(error));
    assert.ok(error.isPeerAlert(alert), `client got ${error.message}`);
    assert.equal(failures.length, 1);
    assert.equal(failures[0]!.code, alert, failures[0]!.message);
    assert.equal(f.server.sessionCount + f.server.halfOpenCount, 0);
    assert.ok(sentCertificateRequest(f.serverTap.sent));
    if (name === "CN rejected") assert.deepEqual(w.cnCalls.at(-1), [REJECTED_CN, 0, true], "refused at the leaf, after the CA was accepted");
  });

  test(`verifyPeer off: the same client (${name}) connects, without sending a certificate`, async () => {
    const w = world();
    const f = pkiFixture(w.serverPki(false));
    const { client, error } = await connect(f, { pki: w.clientPki(w.clients[name]), wallClock });
    assert.equal(error, undefined, String(error));
    assert.ok(client);
    const info = f.server.sessionInfo(client.local)!;
    assert.deepEqual(info.identity, { kind: "none" });
    assert.equal(info.peerCertificateDer, undefined);
    assert.equal(sentCertificateRequest(f.serverTap.sent), false, "no CertificateRequest");
    assert.deepEqual(w.cnCalls, [], "nothing to validate");
    assert.equal(client.sessionInfo()?.identity.identity, "localhost", "the client still verified the server");
  });
}

test("verifyPeer on: a good client is accepted; the CN callback sees the path root first, leaf last", async () => {
  const w = world();
  const f = pkiFixture(w.serverPki(true));
  const { client, error } = await connect(f, { pki: w.clientPki(credentials(w.pki.devices[0]!)), wallClock });
  assert.equal(error, undefined, String(error));
  assert.deepEqual(w.cnCalls, [
    ["coaps-edge test CA", 1, true],
    ["device-001", 0, true],
  ]);
  assert.equal(f.server.sessionInfo(client!.local)?.identity.identity, "device-001");
});

test("verifyPeer on, allowExpiredCerts: the expired client is accepted (libcoap allow_expired_certs)", async () => {
  const w = world();
  const f = pkiFixture({ ...w.serverPki(true), policy: { allowExpiredCerts: true } });
  const { client, error } = await connect(f, { pki: w.clientPki(w.clients.expired), wallClock });
  assert.equal(error, undefined, String(error));
  assert.equal(f.server.sessionInfo(client!.local)?.identity.identity, "device-expired");
});

test("verifyPeer on: CertificateRequest lists our CA names (check_common_ca), none when it is off", async () => {
  const w = world();
  const names = (f: ReturnType<typeof pkiFixture>) => {
    for (const d of f.serverTap.sent) {
      for (const r of splitRecords(d.data).records) {
        if (r.header.epoch !== 0 || r.header.type !== ContentType.handshake) continue;
        for (const fr of decodeHandshakeFragments(r.fragment)) {
          if (fr.type === HandshakeType.certificate_request) return Buffer.from(fr.data).includes(Buffer.from("coaps-edge test CA"));
        }
      }
    }
    return undefined;
  };
  const on = pkiFixture(w.serverPki(true));
  await connect(on, { pki: w.clientPki(credentials(w.pki.devices[0]!)), wallClock });
  assert.equal(names(on), true);
  const off = pkiFixture({ ...w.serverPki(true), policy: { checkCommonCa: false } });
  await connect(off, { pki: w.clientPki(credentials(w.pki.devices[0]!)), wallClock });
  assert.equal(names(off), false);
});
