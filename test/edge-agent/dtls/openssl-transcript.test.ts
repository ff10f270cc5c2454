/**
 * Golden transcripts from real OpenSSL handshakes (test/vectors/dtls/): every datagram, record
 * and handshake message parses with our codecs; the extended master secret derived from the PSK
 * equals OpenSSL's; both Finished verify; every epoch-1 record decrypts with our record layer,
 * and our sealing reproduces OpenSSL's records byte for byte. The client's datagrams are also
 * replayed into our server; for ECDHE_ECDSA the recorded server flight drives our client and
 * the recorded client flights drive our server, as far as foreign ephemeral keys allow.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { ByteReader } from "../../../edge-agent/src/dtls/codec/bytes.js";
import { ContentType, ExtensionType, HandshakeType, ProtocolVersion, TLS_EMPTY_RENEGOTIATION_INFO_SCSV } from "../../../edge-agent/src/dtls/constants.js";
import { extendedMasterSecret, finishedVerifyData, keyBlock } from "../../../edge-agent/src/dtls/crypto/index.js";
import { decodeHandshakeFragments, encodeHandshakeFragment, type HandshakeFragment, type HandshakeMessage } from "../../../edge-agent/src/dtls/handshake/header.js";
import { decodeClientHello, encodeClientHello } from "../../../edge-agent/src/dtls/handshake/messages/client-hello.js";
import { findExtension } from "../../../edge-agent/src/dtls/handshake/messages/extensions.js";
import { decodeHelloVerifyRequest } from "../../../edge-agent/src/dtls/handshake/messages/hello-verify-request.js";
import { decodeServerHello, encodeServerHello } from "../../../edge-agent/src/dtls/handshake/messages/server-hello.js";
import { decodeCertificateRequest } from "../../../edge-agent/src/dtls/handshake/messages/certificate-request.js";
import { decodeU16List } from "../../../edge-agent/src/dtls/handshake/messages/ecc-extensions.js";
import { HandshakeReassembler } from "../../../edge-agent/src/dtls/handshake/reassembler.js";
import { Transcript } from "../../../edge-agent/src/dtls/handshake/transcript.js";
import { decodePskIdentity, pskPreMasterSecret } from "../../../edge-agent/src/dtls/key-exchange/psk.js";
import { splitRecords, type RecordHeader } from "../../../edge-agent/src/dtls/record/header.js";
import { RecordCipher } from "../../../edge-agent/src/dtls/record/record-cipher.js";
import { CIPHER_SUITES, cipherSuiteById } from "../../../edge-agent/src/dtls/suites/cipher-suites.js";
import { RecordLayer } from "../../../edge-agent/src/dtls/record/record-layer.js";
import { HandshakeContext } from "../../../edge-agent/src/dtls/flights/context.js";
import { DtlsClient, DtlsError, DtlsServer, pskTable } from "../../../edge-agent/src/dtls/index.js";
import {
  decodeCertificateList,
  generateTestPki,
  loadCredentials,
  loadTrustStore,
  parseServerKeyExchange,
  verifyServerKeyExchange,
} from "../../../edge-agent/src/pki/index.js";
import { MemoryNetwork } from "../../../edge-agent/src/transport/memory.js";
import { FakeClock } from "../../../edge-agent/src/util/clock.js";
import { hex, loadVector, TapEndpoint, text, toHex } from "./helpers.js";
import { encodeRecordHeader } from "../../../edge-agent/src/dtls/record/header.js";
import { ByteWriter } from "../../../edge-agent/src/dtls/codec/bytes.js";

interface CapturedHandshake {
  cipher_suite: string;
  client_random: string;
  master_secret: string;
  client_application_plaintext: string;
  psk_hex?: string;
  psk_identity?: string;
  psk_identity_hint?: string;
  ca_cert_pem?: string;
  server_cert_pem?: string;
  client_cert_pem?: string;
  datagrams: { from: "client" | "server"; hex: string }[];
}

interface Parsed {
  messages: Record<"client" | "server", HandshakeMessage[]>;
  protectedRecords: { from: "client" | "server"; header: RecordHeader; fragment: Uint8Array; raw: Uint8Array }[];
  records: number;
  fragments: number;
}

/** Walks every datagram → record → fragment; epoch-0 handshake goes through one reassembler per direction. */
function parse(t: CapturedHandshake): Parsed {
  const reassemblers = { client: new HandshakeReassembler(), server: new HandshakeReassembler() };
  const messages: Parsed["messages"] = { client: [], server: [] };
  const protectedRecords: Parsed["protectedRecords"] = [];
  let records = 0;
  let fragments = 0;
  for (const d of t.datagrams) {
    const bytes = hex(d.hex);
    const split = splitRecords(bytes);
    assert.equal(split.malformed, false);
    let at = 0;
    for (const r of split.records) {
      records++;
      const raw = bytes.subarray(at, at + 13 + r.header.length);
      at += raw.length;
      assert.equal(r.header.version >>> 8, 0xfe);
      if (r.header.epoch > 0) {
        protectedRecords.push({ from: d.from, header: r.header, fragment: r.fragment, raw });
        continue;
      }
      if (r.header.type !== ContentType.handshake) continue;
      for (const f of decodeHandshakeFragments(r.fragment)) {
        fragments++;
        const ra = reassemblers[d.from];
        if (f.type === HandshakeType.hello_verify_request) {
          // After HelloVerifyRequest the client starts over at message_seq 1.
          assert.equal(ra.push(f, 0), "accepted");
        } else {
          const res = ra.push(f, 0);
          assert.notEqual(res, "dropped");
        }
        for (let m = ra.pop(); m; m = ra.pop()) messages[d.from].push(m);
      }
    }
    assert.equal(at, bytes.length, "records cover the whole datagram");
  }
  return { messages, protectedRecords, records, fragments };
}

function ciphers(t: CapturedHandshake, serverRandom: Uint8Array, master: Uint8Array) {
  const suite = cipherSuiteById(parseInt(t.cipher_suite, 16))!;
  const kb = keyBlock(master, serverRandom, hex(t.client_random), 40);
  return {
    client: new RecordCipher(suite, kb.subarray(0, 16), kb.subarray(32, 36)),
    server: new RecordCipher(suite, kb.subarray(16, 32), kb.subarray(36, 40)),
  };
}

const types = (ms: HandshakeMessage[]) => ms.map((m) => m.type);

test("OpenSSL PSK transcript: parse, EMS master secret from the PSK, both Finished, every epoch-1 record", () => {
  const t = loadVector<CapturedHandshake>("dtls/openssl-psk-aes128-ccm8.json");
  const p = parse(t);
  assert.equal(t.datagrams.length, 8);
  assert.equal(p.records, 13);
  const { client, server } = p.messages;
  assert.deepEqual(types(client), [HandshakeType.client_hello, HandshakeType.client_hello, HandshakeType.client_key_exchange]);
  assert.deepEqual(types(server), [
    HandshakeType.hello_verify_request,
    HandshakeType.server_hello,
    HandshakeType.server_key_exchange,
    HandshakeType.server_hello_done,
    HandshakeType.new_session_ticket,
  ]);
  const [ch1, ch2, cke] = client as [HandshakeMessage, HandshakeMessage, HandshakeMessage];
  const [hvrMsg, shMsg, skeMsg, shdMsg, nstMsg] = server as [HandshakeMessage, HandshakeMessage, HandshakeMessage, HandshakeMessage, HandshakeMessage];

  const hello1 = decodeClientHello(ch1.body);
  const hello2 = decodeClientHello(ch2.body);
  const hvr = decodeHelloVerifyRequest(hvrMsg.body);
  assert.equal(hvr.version, ProtocolVersion.DTLS1_0);
  assert.equal(hello1.cookie.length, 0);
  assert.equal(toHex(hello2.cookie), toHex(hvr.cookie), "second ClientHello echoes the cookie");
  assert.equal(toHex(hello2.random), t.client_random);
  assert.equal(toHex(hello1.random), toHex(hello2.random), "same random in both hellos (RFC 6347 §4.2.1)");
  assert.deepEqual(hello2.cipherSuites, [0xc0a8, TLS_EMPTY_RENEGOTIATION_INFO_SCSV]);
  for (const ext of [ExtensionType.extended_master_secret, ExtensionType.session_ticket, ExtensionType.encrypt_then_mac, ExtensionType.signature_algorithms]) {
    assert.ok(findExtension(hello2.extensions, ext), `ClientHello carries extension ${ext}`);
  }
  assert.deepEqual(encodeClientHello(hello2), ch2.body, "ClientHello re-encodes byte for byte");

  const sh = decodeServerHello(shMsg.body);
  assert.equal(sh.cipherSuite, 0xc0a8);
  assert.ok(findExtension(sh.extensions, ExtensionType.extended_master_secret), "EMS negotiated");
  assert.equal(decodePskIdentity(skeMsg.body, "hint"), t.psk_identity_hint);
  assert.equal(shdMsg.body.length, 0);
  assert.equal(decodePskIdentity(cke.body, "identity"), t.psk_identity);

  // RFC 7627: session_hash over ClientHello(2)..ClientKeyExchange, each with an unfragmented 12-byte header.
  const transcript = new Transcript();
  for (const m of [ch2, shMsg, skeMsg, shdMsg, cke]) transcript.add(m.type, m.seq, m.body);
  const master = extendedMasterSecret(pskPreMasterSecret(hex(t.psk_hex!)), transcript.hash());
  assert.equal(toHex(master), t.master_secret);

  const { client: clientCipher, server: serverCipher } = ciphers(t, sh.random, master);
  const clientRecords = p.protectedRecords.filter((r) => r.from === "client");
  const serverRecords = p.protectedRecords.filter((r) => r.from === "server");
  assert.equal(clientRecords.length, 2);
  assert.equal(serverRecords.length, 1);

  // Client Finished.
  const cf = clientRecords[0]!;
  const cfPlain = clientCipher.open(cf.header, cf.fragment);
  assert.ok(cfPlain, "client Finished decrypts");
  const [cfMsg] = decodeHandshakeFragments(cfPlain);
  assert.equal(cfMsg!.type, HandshakeType.finished);
  assert.equal(toHex(cfMsg!.data), toHex(finishedVerifyData(master, "client", transcript.hash())));
  // Our sealing reproduces OpenSSL's record exactly (explicit nonce = epoch ‖ sequence).
  assert.equal(toHex(clientCipher.seal(cf.header.type, cf.header.version, cf.header.epoch, cf.header.sequence, cfPlain)), toHex(cf.raw));
  transcript.add(HandshakeType.finished, cfMsg!.seq, cfMsg!.data);

  // Server Finished covers the client Finished and the NewSessionTicket.
  transcript.add(nstMsg.type, nstMsg.seq, nstMsg.body);
  const sf = serverRecords[0]!;
  const sfPlain = serverCipher.open(sf.header, sf.fragment);
  assert.ok(sfPlain, "server Finished decrypts");
  const [sfMsg] = decodeHandshakeFragments(sfPlain);
  assert.equal(toHex(sfMsg!.data), toHex(finishedVerifyData(master, "server", transcript.hash())));

  // The application data.
  const app = clientRecords[1]!;
  assert.equal(app.header.type, ContentType.application_data);
  const appPlain = clientCipher.open(app.header, app.fragment);
  assert.equal(appPlain && text(appPlain), t.client_application_plaintext);
  // One flipped bit anywhere fails authentication.
  const tampered = Uint8Array.from(app.fragment);
  tampered[10]! ^= 0x40;
  assert.equal(clientCipher.open(app.header, tampered), undefined);
  // The wrong direction's key does not open it either.
  assert.equal(serverCipher.open(app.header, app.fragment), undefined);
});

test("OpenSSL PSK transcript: the client's hellos replayed into our server", () => {
  const t = loadVector<CapturedHandshake>("dtls/openssl-psk-aes128-ccm8.json");
  const clock = new FakeClock();
  const net = new MemoryNetwork(clock);
  const tap = new TapEndpoint(net.endpoint(5684));
  const server = new DtlsServer(tap, { clock, psk: pskTable([{ identity: "demo", key: hex(t.psk_hex!) }], { hint: "CoAP" }) });
  const client = net.endpoint(40001);
  const clientDatagrams = t.datagrams.filter((d) => d.from === "client").map((d) => hex(d.hex));
  const received: Uint8Array[] = [];
  client.onDatagram = (d) => received.push(Uint8Array.from(d));

  // ClientHello 1 → a stateless HelloVerifyRequest, no larger than the hello, echoing record and message sequence.
  client.send(tap.local, clientDatagrams[0]!);
  clock.advance(1);
  assert.equal(received.length, 1);
  assert.ok(received[0]!.length <= clientDatagrams[0]!.length);
  const rec = splitRecords(received[0]!).records[0]!;
  assert.equal(rec.header.sequence, 0);
  assert.equal(rec.header.version, ProtocolVersion.DTLS1_0);
  const [hvrFrag] = decodeHandshakeFragments(rec.fragment);
  assert.equal(hvrFrag!.type, HandshakeType.hello_verify_request);
  assert.equal(hvrFrag!.seq, 0);
  const ourCookie = decodeHelloVerifyRequest(hvrFrag!.data).cookie;
  assert.equal(server.halfOpenCount, 0);

  // ClientHello 2 carries OpenSSL's cookie, not ours: another HelloVerifyRequest, still no state.
  client.send(tap.local, clientDatagrams[1]!);
  clock.advance(1);
  assert.equal(received.length, 2);
  assert.equal(server.stats.cookiesRejected, 1);
  assert.equal(server.halfOpenCount, 0);

  // The same hello with our cookie starts a handshake: our flight 4 answers OpenSSL's real hello.
  const ch2Record = splitRecords(clientDatagrams[1]!).records[0]!;
  const [ch2Frag] = decodeHandshakeFragments(ch2Record.fragment);
  const hello = decodeClientHello(ch2Frag!.data);
  const body = encodeClientHello({ ...hello, cookie: ourCookie });
  const msg = new ByteWriter().u8(1).u24(body.length).u16(1).u24(0).u24(body.length).bytes(body).finish();
  const w = new ByteWriter();
  encodeRecordHeader(w, { ...ch2Record.header, length: msg.length });
  w.bytes(msg);
  client.send(tap.local, Uint8Array.from(w.finish()));
  clock.advance(1);
  assert.equal(server.halfOpenCount, 1);
  assert.equal(received.length, 3);
  const flight4 = splitRecords(received[2]!).records;
  // Record sequence continues from the hello's (RFC 6347 §4.2.1), message_seq from its message_seq.
  assert.equal(flight4[0]!.header.sequence, ch2Record.header.sequence);
  const msgs = flight4.flatMap((r) => decodeHandshakeFragments(r.fragment));
  assert.deepEqual(msgs.map((m) => [m.type, m.seq]), [
    [HandshakeType.server_hello, 1],
    [HandshakeType.server_key_exchange, 2],
    [HandshakeType.server_hello_done, 3],
  ]);
  const sh = decodeServerHello(msgs[0]!.data);
  assert.equal(sh.cipherSuite, 0xc0a8);
  assert.deepEqual(sh.extensions.map((e) => e.type).sort((a, b) => a - b), [ExtensionType.extended_master_secret, ExtensionType.renegotiation_info]);
  assert.equal(decodePskIdentity(msgs[1]!.data, "hint"), "CoAP");
});

test("OpenSSL ECDHE-ECDSA transcript: fragmented flights reassemble, certificates parse, Finished and records verify", () => {
  const t = loadVector<CapturedHandshake>("dtls/openssl-ecdhe-ecdsa-aes128-ccm8.json");
  const p = parse(t);
  assert.equal(t.datagrams.length, 15);
  assert.equal(p.fragments, 19, "5 client + 14 server handshake fragments (Certificate in 5, ServerKeyExchange in 2, NewSessionTicket in 3)");
  const { client, server } = p.messages;
  assert.deepEqual(types(client), [
    HandshakeType.client_hello,
    HandshakeType.client_hello,
    HandshakeType.certificate,
    HandshakeType.client_key_exchange,
    HandshakeType.certificate_verify,
  ]);
  assert.deepEqual(types(server), [
    HandshakeType.hello_verify_request,
    HandshakeType.server_hello,
    HandshakeType.certificate,
    HandshakeType.server_key_exchange,
    HandshakeType.certificate_request,
    HandshakeType.server_hello_done,
    HandshakeType.new_session_ticket,
  ]);
  // The 817-byte server Certificate came in 5 fragments; its first certificate is the server's DER.
  const serverCert = server[2]!;
  assert.equal(serverCert.body.length, 817);
  const r = new ByteReader(serverCert.body);
  const list = r.sub(r.u24());
  r.end();
  const firstDer = list.vec24();
  const pemDer = Buffer.from(t.server_cert_pem!.replace(/-----[^-]+-----|\s/g, ""), "base64");
  assert.equal(toHex(firstDer), pemDer.toString("hex"));

  // Reassembly does not depend on fragment order or duplicates: feed the fragments reversed, twice.
  const frags = t.datagrams
    .filter((d) => d.from === "server")
    .flatMap((d) => splitRecords(hex(d.hex)).records)
    .filter((x) => x.header.epoch === 0 && x.header.type === ContentType.handshake)
    .flatMap((x) => decodeHandshakeFragments(x.fragment))
    .filter((f) => f.seq >= 2);
  const ra = new HandshakeReassembler(2);
  for (const f of [...frags].reverse()) ra.push(f, 0);
  for (const f of frags) ra.push(f, 0);
  const again: HandshakeMessage[] = [];
  for (let m = ra.pop(); m; m = ra.pop()) again.push(m);
  assert.deepEqual(again.map((m) => toHex(m.body)), server.slice(2).map((m) => toHex(m.body)));

  // Finished over the transcript, keys from OpenSSL's master secret (the ECDH secret is unknown).
  const sh = decodeServerHello(server[1]!.body);
  const master = hex(t.master_secret);
  const transcript = new Transcript();
  const order = [client[1]!, ...server.slice(1, 6), ...client.slice(2)];
  for (const m of order) transcript.add(m.type, m.seq, m.body);
  const { client: clientCipher, server: serverCipher } = ciphers(t, sh.random, master);
  const [cf, app] = p.protectedRecords.filter((x) => x.from === "client");
  const [sf] = p.protectedRecords.filter((x) => x.from === "server");
  const cfPlain = clientCipher.open(cf!.header, cf!.fragment)!;
  const [cfMsg] = decodeHandshakeFragments(cfPlain);
  assert.equal(toHex(cfMsg!.data), toHex(finishedVerifyData(master, "client", transcript.hash())));
  transcript.add(HandshakeType.finished, cfMsg!.seq, cfMsg!.data);
  transcript.add(server[6]!.type, server[6]!.seq, server[6]!.body);
  const [sfMsg] = decodeHandshakeFragments(serverCipher.open(sf!.header, sf!.fragment)!);
  assert.equal(toHex(sfMsg!.data), toHex(finishedVerifyData(master, "server", transcript.hash())));
  assert.equal(text(clientCipher.open(app!.header, app!.fragment)!), t.client_application_plaintext);
});

test("our handshake context derives OpenSSL's keys from the PSK transcript (EMS path of deriveKeys)", () => {
  const t = loadVector<CapturedHandshake>("dtls/openssl-psk-aes128-ccm8.json");
  const p = parse(t);
  const [, ch2, cke] = p.messages.client as [HandshakeMessage, HandshakeMessage, HandshakeMessage];
  const [, sh, ske, shd] = p.messages.server as [HandshakeMessage, HandshakeMessage, HandshakeMessage, HandshakeMessage];
  const records = new RecordLayer();
  const ctx = new HandshakeContext("server", { suites: CIPHER_SUITES, random: () => new Uint8Array(32) }, records);
  ctx.suite = cipherSuiteById(0xc0a8);
  ctx.clientRandom = hex(t.client_random);
  ctx.serverRandom = Uint8Array.from(decodeServerHello(sh.body).random);
  ctx.extendedMasterSecret = true;
  for (const m of [ch2, sh, ske, shd, cke]) ctx.addToTranscript(m.type, m.seq, m.body);
  ctx.preMasterSecret = pskPreMasterSecret(hex(t.psk_hex!));
  ctx.deriveKeys();
  assert.equal(toHex(ctx.masterSecret!), t.master_secret);
  // As the server, epoch 1 reads with the client's key: the client's Finished record opens and verifies.
  const cf = p.protectedRecords.find((r) => r.from === "client")!;
  const plain = records.open(cf.header, cf.fragment);
  assert.ok(plain instanceof Uint8Array, String(plain));
  const [fin] = decodeHandshakeFragments(plain);
  assert.equal(toHex(fin!.data), toHex(ctx.verifyData("client")));
  assert.equal(records.open(cf.header, cf.fragment), "replay", "the same record twice is a replay");
});

// ---- ECDHE_ECDSA: the recorded flights drive our engine ---------------------------------------

/** Copies a datagram of epoch-0 handshake records, passing each message fragment through `edit`. */
function rewriteHandshake(datagram: Uint8Array, edit: (f: HandshakeFragment) => Uint8Array | undefined): Uint8Array {
  const w = new ByteWriter();
  for (const r of splitRecords(datagram).records) {
    const body = new ByteWriter();
    for (const f of decodeHandshakeFragments(r.fragment)) {
      const replaced = edit(f);
      body.bytes(replaced ?? encodeHandshakeFragment(f.type, f.length, f.seq, f.offset, f.data));
    }
    const fragment = body.finish();
    encodeRecordHeader(w, { ...r.header, length: fragment.length });
    w.bytes(fragment);
  }
  return Uint8Array.from(w.finish());
}

/** Every handshake fragment (epoch 0) in some datagrams, in order. */
function handshakeFragments(datagrams: readonly Uint8Array[]): HandshakeFragment[] {
  return datagrams
    .flatMap((d) => splitRecords(d).records)
    .filter((r) => r.header.epoch === 0 && r.header.type === ContentType.handshake)
    .flatMap((r) => decodeHandshakeFragments(r.fragment));
}

/** The vector's certificates are valid from 2026-11-22 for a year: judge them inside that year. */
const VECTOR_TIME = () => Date.UTC(2027, 0, 1);

test("OpenSSL ECDHE-ECDSA transcript: OpenSSL's server flight drives our client through certificate, signature and CertificateRequest checks", async () => {
  const t = loadVector<CapturedHandshake>("dtls/openssl-ecdhe-ecdsa-aes128-ccm8.json");
  const clock = new FakeClock();
  const net = new MemoryNetwork(clock);
  const fakeServer = new TapEndpoint(net.endpoint(5684));
  const serverDatagrams = t.datagrams.filter((d) => d.from === "server").map((d) => hex(d.hex));
  // Our device credentials (the vector has no private keys): OpenSSL's recorded server never sees them.
  const own = generateTestPki({ devices: 1, server: false });
  let outcome: unknown;
  const settled = (): unknown => outcome;
  DtlsClient.connect(net.endpoint(), fakeServer.local, {
    clock,
    random: () => hex(t.client_random), // OpenSSL signed the ServerKeyExchange over this client_random
    wallClock: VECTOR_TIME,
    pki: { credentials: loadCredentials(own.devices[0]!.chainPem, own.devices[0]!.keyPem), trust: loadTrustStore(t.ca_cert_pem!) },
  }).then(
    (c) => void (outcome = c),
    (e: unknown) => void (outcome = e),
  );
  const deliver = (...datagrams: Uint8Array[]) => {
    for (const d of datagrams) fakeServer.send(fakeServer.received[0]!.from, d);
    clock.advance(1);
  };
  clock.advance(1);
  const [hello1] = handshakeFragments([fakeServer.received[0]!.data]);
  assert.equal(hello1!.type, HandshakeType.client_hello);
  const offered = decodeClientHello(hello1!.data);
  assert.ok(offered.cipherSuites.includes(0xc0ae));
  assert.deepEqual(decodeU16List(findExtension(offered.extensions, ExtensionType.supported_groups)!.data, "groups"), [29, 23]);
  assert.deepEqual(decodeU16List(findExtension(offered.extensions, ExtensionType.signature_algorithms)!.data, "sigalgs"), [0x0403]);

  // HelloVerifyRequest → the ClientHello again, with OpenSSL's cookie.
  deliver(serverDatagrams[0]!);
  const [hello2] = handshakeFragments([fakeServer.received[1]!.data]);
  const hvr = decodeHelloVerifyRequest(handshakeFragments([serverDatagrams[0]!])[0]!.data);
  assert.equal(toHex(decodeClientHello(hello2!.data).cookie), toHex(hvr.cookie));

  // The server's flight 4, fragments and retransmitted pieces as recorded. Its ServerHello
  // answers session_ticket, which OpenSSL's client offered and ours never does: that one
  // extension is removed. Nothing the signatures cover changes (client_random, server_random,
  // ServerECDHParams, the certificates).
  const flight4 = serverDatagrams.slice(1, 8).map((d) =>
    rewriteHandshake(d, (f) => {
      if (f.type !== HandshakeType.server_hello) return undefined;
      const sh = decodeServerHello(f.data);
      const body = encodeServerHello({ ...sh, extensions: sh.extensions.filter((e) => e.type !== ExtensionType.session_ticket) });
      return encodeHandshakeFragment(f.type, body.length, f.seq, 0, body);
    }),
  );
  deliver(...flight4);
  await new Promise((r) => setImmediate(r));
  assert.equal(settled(), undefined, `still handshaking: ${String(settled())}`);

  // Our flight 5 has the shape of OpenSSL's client's: Certificate, ClientKeyExchange, CertificateVerify (seq 2, 3, 4).
  const ours = handshakeFragments(fakeServer.received.slice(2).map((r) => r.data));
  const theirs = handshakeFragments([hex(t.datagrams[9]!.hex)]);
  assert.deepEqual(ours.map((f) => [f.type, f.seq]), theirs.map((f) => [f.type, f.seq]));
  const ourCerts = decodeCertificateList(ours[0]!.data);
  assert.ok(ourCerts.ok);
  assert.deepEqual(ourCerts.chainDer[0], own.devices[0]!.cert.der);
  assert.equal(ours[1]!.data.length, 66, "ClientKeyExchange: a 65-byte uncompressed secp256r1 point, as the server's group");

  // OpenSSL's Finished was made with other keys: it does not authenticate, and the handshake ends.
  deliver(...serverDatagrams.slice(8));
  await new Promise((r) => setImmediate(r)); // let the promise settle
  const err = settled();
  assert.ok(err instanceof DtlsError, String(err));
  assert.equal(err.code, "bad_record_mac");
});

test("OpenSSL ECDHE-ECDSA transcript: OpenSSL's client hello and certificate flight drive our server", () => {
  const t = loadVector<CapturedHandshake>("dtls/openssl-ecdhe-ecdsa-aes128-ccm8.json");
  const clock = new FakeClock();
  const net = new MemoryNetwork(clock);
  const tap = new TapEndpoint(net.endpoint(5684));
  const own = generateTestPki({ devices: 0 });
  const serverCreds = loadCredentials(own.server!.chainPem, own.server!.keyPem);
  const server = new DtlsServer(tap, {
    clock,
    wallClock: VECTOR_TIME,
    pki: { credentials: serverCreds, trust: loadTrustStore(t.ca_cert_pem!), verifyPeer: true },
  });
  const failures: DtlsError[] = [];
  server.onHandshakeFailed = (_p, e) => failures.push(e);
  const client = net.endpoint(40001);
  const clientDatagrams = t.datagrams.filter((d) => d.from === "client").map((d) => hex(d.hex));

  // The first hello gets our HelloVerifyRequest; the second, re-made with our cookie, our flight 4.
  client.send(tap.local, clientDatagrams[0]!);
  clock.advance(1);
  const cookie = decodeHelloVerifyRequest(handshakeFragments([tap.sent[0]!.data])[0]!.data).cookie;
  client.send(
    tap.local,
    rewriteHandshake(clientDatagrams[1]!, (f) => {
      const body = encodeClientHello({ ...decodeClientHello(f.data), cookie });
      return encodeHandshakeFragment(f.type, body.length, f.seq, 0, body);
    }),
  );
  clock.advance(1);
  const flight4 = handshakeFragments(tap.sent.slice(1).map((s) => s.data));
  assert.deepEqual(flight4.map((f) => [f.type, f.seq]), [
    [HandshakeType.server_hello, 1],
    [HandshakeType.certificate, 2],
    [HandshakeType.server_key_exchange, 3],
    [HandshakeType.certificate_request, 4],
    [HandshakeType.server_hello_done, 5],
  ]);
  const sh = decodeServerHello(flight4[0]!.data);
  assert.equal(sh.cipherSuite, 0xc0ae);
  assert.deepEqual(sh.extensions.map((e) => e.type).sort((a, b) => a - b), [
    ExtensionType.ec_point_formats,
    ExtensionType.extended_master_secret,
    ExtensionType.renegotiation_info,
  ]);
  // OpenSSL's client offered secp256r1 only (-groups P-256): the signed params say so, and verify with our certificate.
  const ske = parseServerKeyExchange(flight4[2]!.data);
  assert.ok(ske.ok);
  assert.equal(ske.curve, "secp256r1");
  assert.ok(verifyServerKeyExchange(ske, hex(t.client_random), sh.random, serverCreds.publicKey));
  const cr = decodeCertificateRequest(flight4[3]!.data);
  assert.deepEqual([...cr.certificateTypes], [64]);
  assert.deepEqual(cr.signatureAlgorithms, [0x0403]);
  assert.equal(cr.certificateAuthorities.length, 1, "the vector's CA, by name");

  // OpenSSL's client flight 5: its certificate validates against the vector's CA and its ECDH
  // point is accepted; its CertificateVerify signed OpenSSL's transcript, not ours: decrypt_error.
  client.send(tap.local, clientDatagrams[2]!);
  clock.advance(1);
  assert.equal(failures.length, 1);
  assert.equal(failures[0]!.code, "decrypt_error");
  assert.match(failures[0]!.message, /CertificateVerify refused: bad-signature/);
  const alert = splitRecords(tap.sent.at(-1)!.data).records[0]!;
  assert.equal(alert.header.type, ContentType.alert);
  assert.deepEqual([...alert.fragment], [2, 51], "fatal decrypt_error");
});
