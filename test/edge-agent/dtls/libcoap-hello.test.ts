/**
 * Real ClientHellos of libcoap's GnuTLS and OpenSSL clients (captured, test/vectors/dtls/): our
 * server tolerates every extension they carry and answers only those it implements.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { ExtensionType, HandshakeType } from "../../../edge-agent/src/dtls/constants.js";
import { decodeHandshakeFragments } from "../../../edge-agent/src/dtls/handshake/header.js";
import { decodeClientHello } from "../../../edge-agent/src/dtls/handshake/messages/client-hello.js";
import { decodeServerName } from "../../../edge-agent/src/dtls/handshake/messages/extensions.js";
import { decodeHelloVerifyRequest } from "../../../edge-agent/src/dtls/handshake/messages/hello-verify-request.js";
import { decodeServerHello } from "../../../edge-agent/src/dtls/handshake/messages/server-hello.js";
import { splitRecords } from "../../../edge-agent/src/dtls/record/header.js";
import { clientHelloRecord, fixture, hex, loadVector } from "./helpers.js";

interface Captures {
  clientHellos: { client: string; hex: string }[];
}

const E = ExtensionType;

test("libcoap GnuTLS and OpenSSL ClientHellos: cookie exchange, then a ServerHello answering only EMS and renegotiation_info", () => {
  const { clientHellos } = loadVector<Captures>("dtls/libcoap-clienthellos.json");
  assert.equal(clientHellos.length, 2);
  const offered = new Map<string, number[]>();
  for (const [i, capture] of clientHellos.entries()) {
    const datagram = hex(capture.hex);
    const rec = splitRecords(datagram).records[0]!;
    const [frag] = decodeHandshakeFragments(rec.fragment);
    const hello = decodeClientHello(frag!.data);
    offered.set(capture.client, hello.extensions.map((e) => e.type));
    assert.equal(decodeServerName(hello.extensions.find((e) => e.type === E.server_name)!.data), "127.0.0.1");

    const f = fixture({ server: { psk: { hint: "CoAP", lookup: (id) => (id === "demo" ? new TextEncoder().encode("demo-secret-psk") : undefined) } } });
    const peer = { address: "127.0.0.1", port: 50000 + i, family: "IPv4" as const };
    f.serverTap.inner.onDatagram(datagram, peer, { kind: "none" });
    const hvr = f.serverTap.sent.at(-1)!.data;
    assert.ok(hvr.length <= datagram.length);
    const cookie = decodeHelloVerifyRequest(decodeHandshakeFragments(hvr.subarray(13))[0]!.data).cookie;

    f.serverTap.inner.onDatagram(clientHelloRecord({ ...hello, cookie }, rec.header.sequence + 1, frag!.seq + 1), peer, { kind: "none" });
    assert.equal(f.server.halfOpenCount, 1, capture.client);
    const flight4 = splitRecords(f.serverTap.sent.at(-1)!.data).records.flatMap((r) => decodeHandshakeFragments(r.fragment));
    assert.deepEqual(flight4.map((m) => m.type), [HandshakeType.server_hello, HandshakeType.server_key_exchange, HandshakeType.server_hello_done]);
    const sh = decodeServerHello(flight4[0]!.data);
    assert.equal(sh.cipherSuite, 0xc0a8, "CCM_8 first: our preference among what libcoap offers");
    assert.deepEqual(sh.extensions.map((e) => e.type).sort((a, b) => a - b), [E.extended_master_secret, E.renegotiation_info], capture.client);
  }
  // The extensions the brief lists as must-tolerate, between the two clients.
  const all = new Set([...offered.values()].flat());
  for (const ext of [E.server_name, E.extended_master_secret, E.encrypt_then_mac, E.session_ticket, E.supported_groups, E.ec_point_formats, E.signature_algorithms]) {
    assert.ok(all.has(ext), `some libcoap client offers extension ${ext}`);
  }
  const gnutls = offered.get("coap-client-gnutls (libcoap 4.3.1)")!;
  for (const ext of [E.record_size_limit, E.renegotiation_info]) {
    assert.ok(gnutls.includes(ext), `GnuTLS offers extension ${ext}`);
  }
});

test("extensions we do not implement (status_request, server_certificate_type, padding, GREASE...) are tolerated, never answered", () => {
  const f = fixture();
  const peer = { address: "127.0.0.1", port: 50100, family: "IPv4" as const };
  const random = new Uint8Array(32).fill(4);
  const ext = (type: number, data: number[] = []) => ({ type, data: Uint8Array.from(data) });
  const extensions = [
    ext(E.status_request, [1, 0, 0, 0, 0]),
    ext(E.server_certificate_type, [1, 0]),
    ext(E.client_certificate_type, [1, 0]),
    ext(E.record_size_limit, [0x40, 0x00]),
    ext(E.padding, [0, 0, 0, 0]),
    ext(E.session_ticket),
    ext(E.encrypt_then_mac),
    ext(E.connection_id, [0]),
    ext(0xfafa), // GREASE (RFC 8701)
    ext(E.extended_master_secret),
  ];
  f.serverTap.inner.onDatagram(clientHelloRecord({ random, extensions, cipherSuites: [0xc0a8, 0x00ff] }), peer, { kind: "none" });
  const cookie = decodeHelloVerifyRequest(decodeHandshakeFragments(f.serverTap.sent.at(-1)!.data.subarray(13))[0]!.data).cookie;
  f.serverTap.inner.onDatagram(clientHelloRecord({ random, extensions, cookie, cipherSuites: [0xc0a8, 0x00ff] }, 1, 1), peer, { kind: "none" });
  const [shFrag] = splitRecords(f.serverTap.sent.at(-1)!.data).records.flatMap((r) => decodeHandshakeFragments(r.fragment));
  const sh = decodeServerHello(shFrag!.data);
  // renegotiation_info answers the SCSV (RFC 5746 §3.6); EMS answers EMS; nothing else.
  assert.deepEqual(sh.extensions.map((e) => e.type).sort((a, b) => a - b), [E.extended_master_secret, E.renegotiation_info]);
});
