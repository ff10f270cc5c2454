/**
 * ECDHE_ECDSA (RFC 8422 §2.1, suites RFC 7251 / RFC 5289): an ephemeral ECDH key agreement
 * whose server half is signed with the server certificate's P-256 key, optionally with a client
 * certificate (RFC 5246 §7.4.4, §7.4.6, §7.4.8). In the flights' slots:
 *
 *   server flight 4:  ServerHello  Certificate  ServerKeyExchange  [CertificateRequest]  ServerHelloDone
 *   client flight 5: [Certificate]  ClientKeyExchange  [CertificateVerify]  ChangeCipherSpec  Finished
 *
 *   Certificate         struct { ASN.1Cert certificate_list<0..2^24-1>; }     (pki/certificate-message.ts)
 *   ServerKeyExchange   ServerECDHParams ‖ digitally-signed(client_random ‖ server_random ‖ params)
 *   ClientKeyExchange   struct { opaque point<1..2^8-1>; }                   (pki/ecdsa.ts)
 *   CertificateVerify   digitally-signed(handshake_messages so far)
 *   CertificateRequest  handshake/messages/certificate-request.ts
 *
 * The client sends Certificate only when asked (empty when it has no usable certificate, §7.4.6)
 * and CertificateVerify only after a non-empty Certificate (§7.4.8). The server asks only with
 * `verifyPeer`, and then an empty Certificate fails with handshake_failure (validatePeerChain's
 * "no-certificate"). Every refusal sends the alert pki's result names (bad_certificate,
 * certificate_expired, unknown_ca, access_denied, decrypt_error, illegal_parameter, ...).
 *
 * pre_master_secret is the ECDH shared secret (RFC 8422 §5.10): the X coordinate for secp256r1,
 * the X25519 output for x25519. Points are uncompressed only (§5.1.2) and signatures
 * ecdsa_secp256r1_sha256 only: the one signature our certificates can make.
 */
import { ClientCertificateType, ECPointFormat, ExtensionType, HandshakeType, SignatureScheme } from "../constants.js";
import {
  BAD_SIGNATURE_ALERT,
  computePremaster,
  curveFromId,
  encodeClientEcdhPublic,
  generateEcdheKeyPair,
  NamedCurve,
  parseClientEcdhPublic,
  parseServerKeyExchange,
  signCertificateVerify,
  signServerKeyExchange,
  validatePeerChain,
  verifyCertificateVerify,
  verifyServerKeyExchange,
  type EcdheCurve,
  type EcdheKeyPair,
  type KeyObject,
} from "../crypto/index.js";
import { DtlsError } from "../errors.js";
import { DEFAULT_GROUPS, type HandshakeContext } from "../flights/context.js";
import type { ExpectedMessage } from "../flights/types.js";
import type { HandshakeMessage } from "../handshake/header.js";
import { decodeCertificateRequest, encodeCertificateRequest, type CertificateRequest } from "../handshake/messages/certificate-request.js";
import {
  decodeEcPointFormats,
  decodeU16List,
  ecPointFormatsExtension,
  signatureAlgorithmsExtension,
  supportedGroupsExtension,
} from "../handshake/messages/ecc-extensions.js";
import { findExtension, type Extension } from "../handshake/messages/extensions.js";
import { decodeCertificateList, encodeCertificateList } from "../../pki/certificate-message.js";
import type { Credentials } from "../../pki/credentials.js";
import type { KeyExchange } from "./types.js";

/** The Certificate body of a credential set, encoded once (credentials are immutable). */
const certificateMessages = new WeakMap<Credentials, Uint8Array>();
function certificateMessage(credentials: Credentials): Uint8Array {
  let body = certificateMessages.get(credentials);
  if (!body) certificateMessages.set(credentials, (body = encodeCertificateList(credentials.chainDer)));
  return body;
}

/** What one handshake's ECDHE_ECDSA exchange has learnt so far. */
export interface EcdheState {
  /** Server: the hello was checked (memo: `available` runs once per suite row). */
  checked: boolean;
  /** Server: our credentials for this hello (by SNI). */
  credentials: Credentials | undefined;
  /** The group: chosen by the server from the client's list, read by the client from ServerKeyExchange. */
  group: EcdheCurve | undefined;
  /** Our ephemeral key pair (cleared once the premaster is computed). */
  own: EcdheKeyPair | undefined;
  /** Client: the server's ephemeral public key. */
  peerEphemeral: Uint8Array | undefined;
  /** The peer's certificate key: verifies its ServerKeyExchange / CertificateVerify. */
  peerKey: KeyObject | undefined;
  /** Client: the server's CertificateRequest, if it sent one. */
  certificateRequest: CertificateRequest | undefined;
  /** Server: we sent a CertificateRequest. */
  requested: boolean;
  /** Server: the client sent a certificate, so a CertificateVerify must follow. */
  peerSentCertificate: boolean;
}

function state(ctx: HandshakeContext): EcdheState {
  return (ctx.ecdhe ??= {
    checked: false,
    credentials: undefined,
    group: undefined,
    own: undefined,
    peerEphemeral: undefined,
    peerKey: undefined,
    certificateRequest: undefined,
    requested: false,
    peerSentCertificate: false,
  });
}

const groupsOf = (ctx: HandshakeContext): readonly EcdheCurve[] => ctx.config.groups ?? DEFAULT_GROUPS;

/** Decodes a hello extension with `decode`; a malformed one ends the handshake with decode_error. */
function extensionValue<T>(extensions: readonly Extension[], type: number, decode: (data: Uint8Array) => T): T | undefined {
  const e = findExtension(extensions, type);
  if (!e) return undefined;
  try {
    return decode(e.data);
  } catch (err) {
    throw DtlsError.fatal("decode_error", `bad extension ${type}: ${(err as Error).message}`, err);
  }
}

/**
 * Server: the group for this ClientHello — the client's most preferred one we allow. Without
 * supported_groups a client takes what we choose (RFC 4492 §4): secp256r1, the curve every CoAP
 * peer must have (RFC 7252 §9.1.3.2).
 */
function chooseGroup(ctx: HandshakeContext): EcdheCurve | undefined {
  const ours = groupsOf(ctx);
  const offered = extensionValue(ctx.clientHello!.extensions, ExtensionType.supported_groups, (d) => decodeU16List(d, "named_curve_list"));
  if (offered === undefined) return ours.includes("secp256r1") ? "secp256r1" : ours[0];
  for (const id of offered) {
    const curve = curveFromId(id);
    if (curve && ours.includes(curve)) return curve;
  }
  return undefined;
}

/**
 * Server: can this hello run ECDHE_ECDSA with us? A common group, the uncompressed point format
 * (when the client lists formats), ecdsa_secp256r1_sha256 (when it lists signature algorithms),
 * and credentials for its SNI. Checked once per hello. A client without signature_algorithms
 * implies {sha1, ecdsa} (RFC 5246 §7.4.1.4.1); we sign with SHA-256 anyway — the signature names
 * its algorithm — rather than refuse the rare minimal client that omits the extension.
 */
function serverAvailable(ctx: HandshakeContext): boolean {
  const pki = ctx.config.serverPki;
  if (!pki || !ctx.clientHello) return false;
  const s = state(ctx);
  if (s.checked) return s.credentials !== undefined;
  s.checked = true;
  const ext = ctx.clientHello.extensions;
  const group = chooseGroup(ctx);
  const formats = extensionValue(ext, ExtensionType.ec_point_formats, decodeEcPointFormats);
  const schemes = extensionValue(ext, ExtensionType.signature_algorithms, (d) => decodeU16List(d, "supported_signature_algorithms"));
  if (!group) return false;
  if (formats && !formats.includes(ECPointFormat.uncompressed)) return false;
  if (schemes && !schemes.includes(SignatureScheme.ecdsa_secp256r1_sha256)) return false;
  const credentials = pki.credentials(ctx.sni);
  if (!credentials) return false;
  s.group = group;
  s.credentials = credentials;
  return true;
}

/** Validates the peer's Certificate body; on success records the peer's key, leaf and identity. */
function acceptPeerCertificate(ctx: HandshakeContext, body: Uint8Array, who: string): void {
  const list = decodeCertificateList(body);
  if (!list.ok) throw DtlsError.fatalAlert(list.alert, `${who} Certificate message is malformed`);
  const pki = ctx.role === "server" ? ctx.config.serverPki! : ctx.config.clientPki!;
  const result = validatePeerChain(list.chainDer, pki.trust, pki.policy, ctx.config.wallClock?.() ?? Date.now());
  if (!result.ok) throw DtlsError.fatalAlert(result.alert, `${who} certificate refused (${result.code}, depth ${result.depth}): ${result.message}`);
  const leaf = list.chainDer[0]!;
  const s = state(ctx);
  s.peerKey = result.publicKey;
  ctx.peerCertificateDer = leaf;
  // Only a verified chain authenticates the peer; an anonymous client's server stays "none".
  if (result.verified) {
    ctx.peerIdentity = Object.freeze({ kind: "x509", identity: result.cn, certificateSha256: result.sha256, certificateDer: leaf });
  }
}

/**
 * The client's flight 5 before ChangeCipherSpec, as constant lists indexed by
 * (certificate requested ? 1 : 0) + (client certificate received ? 2 : 0).
 */
const CERTIFICATE: ExpectedMessage = { type: HandshakeType.certificate };
const CLIENT_KEY_EXCHANGE: ExpectedMessage = { type: HandshakeType.client_key_exchange };
const CERTIFICATE_VERIFY: ExpectedMessage = { type: HandshakeType.certificate_verify };
const FROM_CLIENT: readonly (readonly ExpectedMessage[])[] = [
  Object.freeze([CLIENT_KEY_EXCHANGE]), // no CertificateRequest sent
  Object.freeze([CERTIFICATE, CLIENT_KEY_EXCHANGE]), // requested; a certificate may come
  Object.freeze([CLIENT_KEY_EXCHANGE, CERTIFICATE_VERIFY]), // (a certificate without a request is refused before)
  Object.freeze([CERTIFICATE, CLIENT_KEY_EXCHANGE, CERTIFICATE_VERIFY]), // requested and received
];

export const ecdheEcdsaKeyExchange: KeyExchange = {
  name: "ecdhe_ecdsa",

  available(ctx) {
    return ctx.role === "server" ? serverAvailable(ctx) : ctx.config.clientPki !== undefined;
  },

  clientHelloExtensions(ctx) {
    return [
      supportedGroupsExtension(groupsOf(ctx).map((g) => NamedCurve[g])),
      ecPointFormatsExtension([ECPointFormat.uncompressed]),
      signatureAlgorithmsExtension([SignatureScheme.ecdsa_secp256r1_sha256]),
    ];
  },

  serverHelloExtensions(ctx) {
    // RFC 8422 §5.2: answer ec_point_formats when the client sent it.
    return findExtension(ctx.clientHello!.extensions, ExtensionType.ec_point_formats) ? [ecPointFormatsExtension([ECPointFormat.uncompressed])] : [];
  },

  onServerHello(_ctx, hello) {
    const formats = extensionValue(hello.extensions, ExtensionType.ec_point_formats, decodeEcPointFormats);
    if (formats && !formats.includes(ECPointFormat.uncompressed)) {
      throw DtlsError.fatal("illegal_parameter", "server does not accept uncompressed points");
    }
  },

  serverFlight(ctx) {
    const pki = ctx.config.serverPki!;
    const s = state(ctx);
    const credentials = s.credentials!;
    ctx.emit(HandshakeType.certificate, certificateMessage(credentials));
    s.own = generateEcdheKeyPair(s.group!);
    ctx.emit(
      HandshakeType.server_key_exchange,
      signServerKeyExchange({
        key: credentials.key,
        clientRandom: ctx.clientRandom,
        serverRandom: ctx.serverRandom,
        curve: s.own.curve,
        publicKey: s.own.publicKey,
      }),
    );
    if (pki.verifyPeer) {
      ctx.emit(
        HandshakeType.certificate_request,
        encodeCertificateRequest({
          certificateTypes: Uint8Array.of(ClientCertificateType.ecdsa_sign),
          signatureAlgorithms: [SignatureScheme.ecdsa_secp256r1_sha256],
          certificateAuthorities: pki.caNames,
        }),
      );
      s.requested = true;
    }
  },

  expectFromServer(): readonly ExpectedMessage[] {
    return [
      { type: HandshakeType.certificate },
      { type: HandshakeType.server_key_exchange },
      { type: HandshakeType.certificate_request, optional: true },
    ];
  },

  handleServerMessage(ctx, msg: HandshakeMessage) {
    const s = state(ctx);
    switch (msg.type) {
      case HandshakeType.certificate:
        acceptPeerCertificate(ctx, msg.body, "server");
        return;
      case HandshakeType.server_key_exchange: {
        const ske = parseServerKeyExchange(msg.body);
        if (!ske.ok) throw DtlsError.fatalAlert(ske.alert, `ServerKeyExchange refused: ${ske.code}`);
        if (!groupsOf(ctx).includes(ske.curve)) throw DtlsError.fatal("illegal_parameter", `server chose group ${ske.curve}, which we did not offer`);
        if (!verifyServerKeyExchange(ske, ctx.clientRandom, ctx.serverRandom, s.peerKey!)) {
          throw DtlsError.fatalAlert(BAD_SIGNATURE_ALERT, "ServerKeyExchange signature does not verify with the server certificate");
        }
        s.group = ske.curve;
        s.peerEphemeral = ske.publicKey;
        return;
      }
      case HandshakeType.certificate_request:
        s.certificateRequest = decodeCertificateRequest(msg.body);
        return;
    }
  },

  clientFlight(ctx) {
    const s = state(ctx);
    const credentials = ctx.config.clientPki!.credentials;
    let signWith: KeyObject | undefined;
    const cr = s.certificateRequest;
    if (cr) {
      // §7.4.6: answer with our chain if the server takes ECDSA with P-256/SHA-256, else an empty list.
      const usable =
        credentials !== undefined &&
        cr.certificateTypes.includes(ClientCertificateType.ecdsa_sign) &&
        cr.signatureAlgorithms.includes(SignatureScheme.ecdsa_secp256r1_sha256);
      ctx.emit(HandshakeType.certificate, encodeCertificateList(usable ? credentials.chainDer : []));
      if (usable) signWith = credentials.key;
    }
    const own = generateEcdheKeyPair(s.group!);
    ctx.emit(HandshakeType.client_key_exchange, encodeClientEcdhPublic(own.publicKey));
    const pm = computePremaster(own, s.peerEphemeral!);
    if (!pm.ok) throw DtlsError.fatalAlert(pm.alert, `server's ECDH public key refused: ${pm.code}`);
    ctx.preMasterSecret = pm.premaster;
    // §7.4.8: signs every handshake message so far, up to and including ClientKeyExchange.
    if (signWith) ctx.emit(HandshakeType.certificate_verify, signCertificateVerify(signWith, ctx.transcript.messages()));
  },

  expectFromClient(ctx): readonly ExpectedMessage[] {
    const s = state(ctx);
    // Asked again after each message: CertificateVerify joins the list once a certificate came.
    return FROM_CLIENT[(s.requested ? 1 : 0) + (s.peerSentCertificate ? 2 : 0)]!;
  },

  handleClientMessage(ctx, msg: HandshakeMessage) {
    const s = state(ctx);
    switch (msg.type) {
      case HandshakeType.certificate:
        acceptPeerCertificate(ctx, msg.body, "client");
        s.peerSentCertificate = true;
        return;
      case HandshakeType.client_key_exchange: {
        const pub = parseClientEcdhPublic(msg.body, s.group!);
        if (!pub.ok) throw DtlsError.fatalAlert(pub.alert, `ClientKeyExchange refused: ${pub.code}`);
        const pm = computePremaster(s.own!, pub.publicKey);
        if (!pm.ok) throw DtlsError.fatalAlert(pm.alert, `client's ECDH public key refused: ${pm.code}`);
        s.own = undefined;
        ctx.preMasterSecret = pm.premaster;
        return;
      }
      case HandshakeType.certificate_verify: {
        // The transcript already holds this CertificateVerify: verify over everything before it.
        const v = verifyCertificateVerify(msg.body, ctx.transcript.messages(ctx.transcript.length - 1), s.peerKey!);
        if (!v.ok) throw DtlsError.fatalAlert(v.alert, `CertificateVerify refused: ${v.code}`);
        return;
      }
    }
  },
};
