/**
 * Every parser that reads peer bytes (issue 8): the CoAP datagram and stream codecs, the DTLS
 * record splitter, every handshake message parser, alerts, the handshake reassembler, and the
 * envelope / config schemas. Each target names the only typed failure it may report.
 *
 * DTLS parsers are imported by module path (tests may: the engine exports only its API).
 */
import fc from "fast-check";
import {
  AgentConfigSchema,
  CloudErrorBodySchema,
  CoapDecodeError,
  decodeBlock,
  decodeMessage,
  decodeStreamFrameHeader,
  decodeStreamMessage,
  encodeMessage,
  encodeStreamMessage,
  GatewayKeysSchema,
  LinkFormatError,
  parseLinkFormat,
  RegistrySchema,
  RequestEnvelopeSchema,
  ResponseEnvelopeSchema,
  tryDecodeStreamMessage,
} from "@coaps-edge/shared";
import { FrameReader, FrameTooLargeError } from "../../edge-agent/src/coap/stream/frame-reader.js";
import { decodeAlert, encodeAlert } from "../../edge-agent/src/dtls/alert.js";
import { DecodeError } from "../../edge-agent/src/dtls/codec/bytes.js";
import { DtlsError } from "../../edge-agent/src/dtls/errors.js";
import { decodeHandshakeFragments, encodeHandshakeFragment, type HandshakeFragment } from "../../edge-agent/src/dtls/handshake/header.js";
import { decodeCertificateRequest, encodeCertificateRequest } from "../../edge-agent/src/dtls/handshake/messages/certificate-request.js";
import { decodeClientHello, encodeClientHello } from "../../edge-agent/src/dtls/handshake/messages/client-hello.js";
import { decodeEcPointFormats, decodeU16List } from "../../edge-agent/src/dtls/handshake/messages/ecc-extensions.js";
import { decodeRenegotiationInfo, decodeServerName, encodeServerName } from "../../edge-agent/src/dtls/handshake/messages/extensions.js";
import { decodeFinished, decodeServerHelloDone } from "../../edge-agent/src/dtls/handshake/messages/finished.js";
import { decodeHelloVerifyRequest, encodeHelloVerifyRequest } from "../../edge-agent/src/dtls/handshake/messages/hello-verify-request.js";
import { decodeServerHello, encodeServerHello } from "../../edge-agent/src/dtls/handshake/messages/server-hello.js";
import { HandshakeReassembler } from "../../edge-agent/src/dtls/handshake/reassembler.js";
import { decodePskIdentity, encodePskIdentity } from "../../edge-agent/src/dtls/key-exchange/psk.js";
import { encodeRecordHeader, splitRecords } from "../../edge-agent/src/dtls/record/header.js";
import { ByteWriter } from "../../edge-agent/src/dtls/codec/bytes.js";
import { decodeCertificateList, encodeCertificateList } from "../../edge-agent/src/pki/certificate-message.js";
import { parseCertificate } from "../../edge-agent/src/pki/certificate.js";
import { DerError } from "../../edge-agent/src/pki/der.js";
import {
  decodeDigitallySigned,
  encodeClientEcdhPublic,
  encodeDigitallySigned,
  encodeServerEcdhParams,
  parseClientEcdhPublic,
  parseServerKeyExchange,
} from "../../edge-agent/src/pki/ecdsa.js";
import { PkiError } from "../../edge-agent/src/pki/errors.js";
import { generateTestPki } from "../../edge-agent/src/pki/generate.js";
import { TrustStore } from "../../edge-agent/src/pki/trust-store.js";
import { validatePeerChain } from "../../edge-agent/src/pki/validate.js";
import { bytesAround, FuzzViolation, type FuzzTarget } from "./harness.js";

const isCoapError = (e: unknown): boolean => e instanceof CoapDecodeError;
const isDtlsDecode = (e: unknown): boolean => e instanceof DecodeError || (e instanceof DtlsError && e.code === "decode_error");
const never = (): boolean => false;

/** A typed failure result (`{ ok: false, alert }`) passes through; anything else is the result. */
function typedResult<T>(r: T): T {
  const v = r as { ok?: unknown; alert?: unknown };
  if (v && v.ok === false && typeof v.alert !== "number") throw new FuzzViolation("failure result without an alert");
  return r;
}


const rnd = (n: number, fill = 0x5a): Uint8Array => new Uint8Array(n).fill(fill);
const ext = (type: number, data: Uint8Array) => ({ type, data });

// ---- seeds: valid wire forms, built with our encoders ------------------------------------

const coapSeeds = [
  encodeMessage({ type: 0, code: 1, messageId: 0x1234, token: Uint8Array.of(1, 2, 3, 4), options: [{ number: 11, value: new TextEncoder().encode("hello") }], payload: new Uint8Array(0) }),
  encodeMessage({
    type: 0,
    code: 3,
    messageId: 7,
    token: rnd(8),
    options: [
      { number: 11, value: new TextEncoder().encode("echo") },
      { number: 12, value: Uint8Array.of(0) },
      { number: 27, value: Uint8Array.of(0x0e) },
      { number: 60, value: Uint8Array.of(0x01, 0x00) },
      { number: 300, value: rnd(20) },
    ],
    payload: rnd(40),
  }),
  encodeMessage({ type: 2, code: 0x45, messageId: 9, token: Uint8Array.of(9), options: [{ number: 23, value: Uint8Array.of(0x16) }], payload: rnd(16) }),
];
const streamSeeds = [
  encodeStreamMessage({ code: 1, token: Uint8Array.of(1, 2), options: [{ number: 11, value: new TextEncoder().encode("hello") }], payload: new Uint8Array(0) }),
  encodeStreamMessage({ code: 0xe1, token: new Uint8Array(0), options: [{ number: 2, value: Uint8Array.of(0x04, 0x00) }], payload: new Uint8Array(0) }),
  encodeStreamMessage({ code: 0x45, token: rnd(4), options: [], payload: rnd(300) }),
  encodeStreamMessage({ code: 2, token: rnd(8), options: [{ number: 11, value: rnd(3) }], payload: rnd(70000) }).subarray(0, 2000),
  encodeStreamMessage({ code: 3, token: rnd(1), options: [], payload: rnd(10) }, "ws"),
];

const clientHello = encodeClientHello({
  version: 0xfefd,
  random: rnd(32, 1),
  sessionId: new Uint8Array(0),
  cookie: rnd(16, 2),
  cipherSuites: [0xc0a8, 0xc0ae, 0x00ff],
  compressionMethods: Uint8Array.of(0),
  extensions: [
    ext(0, encodeServerName("gw.example")),
    ext(10, Uint8Array.of(0, 4, 0, 23, 0, 29)),
    ext(11, Uint8Array.of(1, 0)),
    ext(13, Uint8Array.of(0, 2, 4, 3)),
    ext(23, new Uint8Array(0)),
    ext(0xff01, Uint8Array.of(0)),
  ],
});
const serverHello = encodeServerHello({
  version: 0xfefd,
  random: rnd(32, 3),
  sessionId: rnd(32, 4),
  cipherSuite: 0xc0a8,
  compressionMethod: 0,
  extensions: [ext(23, new Uint8Array(0)), ext(0xff01, Uint8Array.of(0))],
});
const hvr = encodeHelloVerifyRequest({ version: 0xfefd, cookie: rnd(16, 5) });
const certificateRequest = encodeCertificateRequest({ certificateTypes: Uint8Array.of(64), signatureAlgorithms: [0x0403], certificateAuthorities: [rnd(20, 6)] });
const p256Point = Uint8Array.from([4, ...rnd(64, 7)]);
const skeEcdhe = Uint8Array.from([...encodeServerEcdhParams("secp256r1", p256Point), ...encodeDigitallySigned(rnd(70, 8))]);
const skeX25519 = Uint8Array.from([...encodeServerEcdhParams("x25519", rnd(32, 9)), ...encodeDigitallySigned(rnd(71, 8))]);
const pkiMaterial = generateTestPki();
const certificateDer = pkiMaterial.server!.cert.der;
const caDer = pkiMaterial.ca.cert.der;
const certificateMessage = encodeCertificateList([certificateDer, caDer]);
const trust = new TrustStore([parseCertificate(caDer)]);

/** Record datagrams: a plaintext handshake record, an epoch-1 ciphertext record, an alert, two records in one datagram. */
function record(type: number, epoch: number, seq: number, fragment: Uint8Array): Uint8Array {
  const w = new ByteWriter(13 + fragment.length);
  encodeRecordHeader(w, { type, version: 0xfefd, epoch, sequence: seq, length: fragment.length });
  return Uint8Array.from(w.bytes(fragment).finish());
}
const chFragment = encodeHandshakeFragment(1, clientHello.length, 0, 0, clientHello);
const recordSeeds = [
  record(22, 0, 0, chFragment),
  record(23, 1, 5, rnd(8 + 29 + 8, 0x33)),
  Uint8Array.from([...record(21, 0, 1, encodeAlert({ level: 2, description: 40 })), ...record(20, 0, 2, Uint8Array.of(1))]),
];
const handshakeRecordSeeds = [
  chFragment,
  Uint8Array.from([...encodeHandshakeFragment(2, serverHello.length, 1, 0, serverHello), ...encodeHandshakeFragment(14, 0, 2, 0, new Uint8Array(0))]),
  encodeHandshakeFragment(11, certificateMessage.length, 1, 100, certificateMessage.subarray(100, 300)),
];

// ---- targets -------------------------------------------------------------------------------

const bytesTarget = (name: string, seeds: readonly Uint8Array[], run: (b: Uint8Array) => unknown, allowed: (e: unknown) => boolean, weight = 1, maxLength = 96): FuzzTarget => ({
  name,
  input: bytesAround(seeds, maxLength),
  run,
  allowed,
  weight,
});

export const byteTargets: FuzzTarget[] = [
  bytesTarget("coap: decodeMessage (RFC 7252 §3)", coapSeeds, decodeMessage, isCoapError, 3),
  bytesTarget("coap: decodeBlock", [Uint8Array.of(0x0e), Uint8Array.of(0x01, 0x06), Uint8Array.of(1, 2, 3)], decodeBlock, isCoapError, 0.5, 5),
  bytesTarget("coap-stream: decodeStreamMessage tcp (RFC 8323 §3)", streamSeeds, (b) => decodeStreamMessage(b, "tcp"), isCoapError, 2),
  bytesTarget("coap-stream: decodeStreamMessage ws (RFC 8323 §4)", streamSeeds, (b) => decodeStreamMessage(b, "ws"), isCoapError, 1),
  bytesTarget("coap-stream: tryDecodeStreamMessage never throws", streamSeeds, (b) => tryDecodeStreamMessage(b), never, 1),
  bytesTarget("coap-stream: decodeStreamFrameHeader at any offset", streamSeeds, (b) => decodeStreamFrameHeader(b, b.length % 5), isCoapError, 1),
  bytesTarget("link-format: parseLinkFormat", [new TextEncoder().encode('</hello>;rt="x";ct=0,</large>;sz=2048')], (b) => parseLinkFormat(new TextDecoder().decode(b)), (e) => e instanceof LinkFormatError, 0.5),
  bytesTarget("dtls: splitRecords (RFC 6347 §4.1)", recordSeeds, (b) => splitRecords(b), never, 2, 200),
  bytesTarget("dtls: decodeHandshakeFragments (§4.2.2)", handshakeRecordSeeds, decodeHandshakeFragments, isDtlsDecode, 2, 200),
  bytesTarget("dtls: ClientHello", [clientHello], decodeClientHello, isDtlsDecode, 3, 200),
  bytesTarget("dtls: ServerHello", [serverHello], decodeServerHello, isDtlsDecode, 2, 120),
  bytesTarget("dtls: HelloVerifyRequest", [hvr], decodeHelloVerifyRequest, isDtlsDecode),
  bytesTarget("dtls: ServerKeyExchange (ECDHE)", [skeEcdhe, skeX25519], (b) => typedResult(parseServerKeyExchange(b)), never, 1, 160),
  bytesTarget("dtls: ServerKeyExchange / ClientKeyExchange (PSK identity)", [encodePskIdentity("demo"), encodePskIdentity("ß-device-é")], (b) => decodePskIdentity(b, "psk_identity"), isDtlsDecode),
  bytesTarget("dtls: ClientKeyExchange (ECDHE, P-256)", [encodeClientEcdhPublic(p256Point)], (b) => typedResult(parseClientEcdhPublic(b, "secp256r1")), never, 1, 80),
  bytesTarget("dtls: ClientKeyExchange (ECDHE, X25519)", [encodeClientEcdhPublic(rnd(32, 1))], (b) => typedResult(parseClientEcdhPublic(b, "x25519")), never, 0.5, 40),
  bytesTarget("dtls: Certificate list", [certificateMessage], (b) => typedResult(decodeCertificateList(b)), never, 1, 64),
  {
    // The certificate chain as the handshake sees it: framed list → DER parse → validation.
    name: "dtls: Certificate → parseCertificate + validatePeerChain",
    input: bytesAround([certificateMessage], 64),
    run: (b) => {
      const list = typedResult(decodeCertificateList(b));
      if (!list.ok) return list;
      for (const der of list.chainDer) {
        try {
          parseCertificate(der);
        } catch (e) {
          if (!(e instanceof DerError || e instanceof PkiError)) throw e;
        }
      }
      const v = validatePeerChain(list.chainDer, trust, {}, Date.now());
      if (v.ok) return { ok: true };
      return typedResult(v);
    },
    allowed: never,
    weight: 0.6,
  },
  bytesTarget("dtls: CertificateRequest", [certificateRequest], decodeCertificateRequest, isDtlsDecode),
  bytesTarget("dtls: CertificateVerify (DigitallySigned)", [encodeDigitallySigned(rnd(71, 2))], (b) => typedResult(decodeDigitallySigned(b)), never, 1, 100),
  bytesTarget("dtls: Finished / ServerHelloDone", [rnd(12), new Uint8Array(0)], (b) => (b.length === 0 ? decodeServerHelloDone(b) : decodeFinished(b)), isDtlsDecode, 0.5, 16),
  bytesTarget("dtls: Alert", [encodeAlert({ level: 2, description: 20 }), encodeAlert({ level: 1, description: 0 })], decodeAlert, isDtlsDecode, 0.5, 4),
  bytesTarget("dtls: extensions (server_name, supported_groups, ec_point_formats, renegotiation_info)", [encodeServerName("gw.example"), Uint8Array.of(0, 4, 0, 23, 0, 29), Uint8Array.of(1, 0), Uint8Array.of(0)], (b) => {
    const out: unknown[] = [];
    for (const f of [decodeServerName, (d: Uint8Array) => decodeU16List(d, "list"), decodeEcPointFormats, decodeRenegotiationInfo]) {
      try {
        out.push(f(b));
      } catch (e) {
        if (!isDtlsDecode(e)) throw e;
      }
    }
    return out;
  }, never, 1, 48),
];

// ---- the stream codec end to end: a byte stream in random chunks → FrameReader → decoder ----

const MAX_FRAME = 2048;
/**
 * Several (mutated) frames back to back, cut into random chunks as TCP delivers them. Frames come
 * out whole; what the reader buffers stays under one frame; each frame decodes or fails typed.
 */
export const streamTarget: FuzzTarget<{ stream: Uint8Array; cuts: number[] }> = {
  name: "coap-stream: FrameReader + decodeStreamMessage over random chunking (RFC 8323 §3.3)",
  input: fc.record({
    stream: fc.array(bytesAround(streamSeeds.map((s) => s.subarray(0, 400)), 64), { minLength: 1, maxLength: 6 }).map((parts) => Uint8Array.from(parts.flatMap((p) => [...p]))),
    cuts: fc.array(fc.nat({ max: 3000 }), { maxLength: 12 }),
  }),
  run: ({ stream, cuts }) => {
    const reader = new FrameReader(MAX_FRAME);
    const points = [...new Set(cuts.map((c) => c % (stream.length + 1)))].sort((a, b) => a - b);
    let at = 0;
    let framed = 0;
    const messages: unknown[] = [];
    for (const end of [...points, stream.length]) {
      const frames = reader.push(stream.slice(at, end));
      at = end;
      if (reader.buffered > MAX_FRAME + 6) throw new FuzzViolation(`reader buffers ${reader.buffered} bytes (frame cap ${MAX_FRAME})`);
      for (const f of frames) {
        framed += f.length;
        try {
          messages.push(decodeStreamMessage(f, "tcp"));
        } catch (e) {
          if (!isCoapError(e)) throw e;
        }
      }
    }
    if (framed + reader.buffered !== stream.length) throw new FuzzViolation(`${framed} framed + ${reader.buffered} buffered ≠ ${stream.length} received`);
    return messages;
  },
  allowed: (e) => isCoapError(e) || e instanceof FrameTooLargeError,
  weight: 2,
};

// ---- the reassembler: random fragment sets -----------------------------------------------

const fragment: fc.Arbitrary<HandshakeFragment> = fc
  .record({
    type: fc.constantFrom(1, 2, 11, 12, 14, 16, 20),
    length: fc.oneof(fc.integer({ min: 0, max: 64 }), fc.integer({ min: 0, max: 0x20000 })),
    seq: fc.oneof(fc.integer({ min: 0, max: 20 }), fc.integer({ min: 0, max: 0xffff })),
    offset: fc.nat(),
    take: fc.integer({ min: 0, max: 48 }),
  })
  .map(({ type, length, seq, offset, take }) => {
    // The header decoder guarantees offset + data.length ≤ length: keep that, the rest is free.
    const at = length === 0 ? 0 : offset % (length + 1);
    const n = Math.min(take, length - at);
    return { type, length, seq, offset: at, data: new Uint8Array(n).fill(seq & 0xff) };
  });

/** Pushes a random fragment set; messages must come out in order, complete, and only once. */
export const reassemblerTarget: FuzzTarget<{ fragments: HandshakeFragment[]; epochs: number[] }> = {
  name: "dtls: HandshakeReassembler (random fragment sets)",
  input: fc.record({ fragments: fc.array(fragment, { maxLength: 40 }), epochs: fc.array(fc.integer({ min: 0, max: 1 }), { minLength: 40, maxLength: 40 }) }),
  run: ({ fragments, epochs }) => {
    const r = new HandshakeReassembler(0, 0x10000, 16);
    const delivered: { seq: number; length: number }[] = [];
    let provided = 0;
    fragments.forEach((f, i) => {
      provided += f.data.length;
      r.push(f, epochs[i] ?? 0);
      for (let m = r.pop(); m; m = r.pop()) {
        const expected = delivered.length === 0 ? 0 : delivered[delivered.length - 1]!.seq + 1;
        if (m.seq !== expected) throw new FuzzViolation(`delivered seq ${m.seq}, expected ${expected}`);
        if (m.body.length > 0x10000) throw new FuzzViolation(`delivered a ${m.body.length}-byte message past the cap`);
        delivered.push({ seq: m.seq, length: m.body.length });
      }
    });
    const total = delivered.reduce((s, d) => s + d.length, 0);
    // Complete messages hold only bytes that arrived (an empty message needs none).
    if (total > provided) throw new FuzzViolation(`delivered ${total} bytes from ${provided} fragment bytes`);
    return delivered;
  },
  allowed: never,
  weight: 2,
  allocFactor: Infinity, // the bound here is checked by the memory test in parsers.test.ts
};

// ---- schemas: arbitrary JSON → typed result, never a throw --------------------------------

const validRequest = {
  version: 1,
  requestId: "r-1",
  gatewayId: "gw-1",
  receivedAt: 1700000000000,
  peer: { address: "fd00::1", port: 5684, auth: "psk", identity: "demo" },
  method: "GET",
  uriPath: ["sensors", "7", "temperature"],
  uriQuery: [],
  options: [{ number: 2049, value: "AQI=" }],
  payload: "",
};
const validResponse = { version: 1, code: "2.05", options: [], contentFormat: 0, maxAge: 60, etag: "AQID", payload: "aGk=" };

/** A JSON value, or a valid document with one field replaced by an arbitrary JSON value. */
function jsonAround(valid: Record<string, unknown>): fc.Arbitrary<unknown> {
  const keys = Object.keys(valid);
  return fc.oneof(
    fc.jsonValue({ maxDepth: 4 }),
    fc.tuple(fc.constantFrom(...keys), fc.jsonValue({ maxDepth: 3 })).map(([k, v]) => ({ ...valid, [k]: v })),
    fc.tuple(fc.constantFrom(...keys), fc.constantFrom("__proto__", "constructor", "toString"), fc.jsonValue({ maxDepth: 2 })).map(([k, extra, v]) =>
      JSON.parse(JSON.stringify({ ...valid, [k]: { [extra]: v } }).replace(`"${extra}"`, '"__proto__"')) as unknown,
    ),
  );
}

interface SafeParser {
  safeParse(input: unknown): { success: boolean; data?: unknown; error?: unknown };
}
function schemaTarget(name: string, schema: SafeParser, valid: Record<string, unknown>): FuzzTarget<unknown> {
  return {
    name,
    input: jsonAround(valid),
    run: (v) => {
      const r = schema.safeParse(v);
      if (r.success) {
        // A typed result validates again unchanged.
        if (!schema.safeParse(r.data).success) throw new FuzzViolation("parsed data does not re-validate");
        return r.data;
      }
      if (!r.error) throw new FuzzViolation("failure without an error");
      return undefined;
    },
    allowed: never,
    weight: 0.5,
    allocFactor: 16,
  };
}

export const schemaTargets: FuzzTarget<unknown>[] = [
  schemaTarget("schema: RequestEnvelope", RequestEnvelopeSchema, validRequest),
  schemaTarget("schema: ResponseEnvelope", ResponseEnvelopeSchema, validResponse),
  schemaTarget("schema: CloudErrorBody", CloudErrorBodySchema, { error: "x", message: "y" }),
  schemaTarget("schema: GatewayKeys", GatewayKeysSchema, { "gw-1": "A".repeat(43) }),
  schemaTarget("schema: Registry", RegistrySchema, { version: 1, resources: [] }),
  schemaTarget("schema: AgentConfig", AgentConfigSchema, {
    listen: { address: "127.0.0.1", port: 5683 },
    coaps: { enabled: true, hint: "CoAP", psk: [{ identity: "demo", key: "demo-secret-psk" }] },
    limits: { maxBodyBytes: 1048576, blockSize: 1024 },
    cloud: { mode: "embedded" },
  }),
];

/** All targets, for the short run in `npm test` and the long run in scripts/fuzz.ts. */
export const allTargets: FuzzTarget<never>[] = [...byteTargets, streamTarget, reassemblerTarget, ...schemaTargets] as unknown as FuzzTarget<never>[];
