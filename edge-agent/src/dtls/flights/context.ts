/**
 * The state one handshake builds up, shared by the flights and the key exchange modules: the
 * negotiated parameters, the transcript, the secrets, and the flight being generated.
 */
import { ANONYMOUS, type PeerIdentity } from "../../transport/types.js";
import { HandshakeType } from "../constants.js";
import { extendedMasterSecret, finishedVerifyData, keyBlock, masterSecret, PrfSecret, type EcdheCurve } from "../crypto/index.js";
import { encodeWholeMessage } from "../handshake/header.js";
import { Transcript } from "../handshake/transcript.js";
import type { ClientHello } from "../handshake/messages/client-hello.js";
import type { KeyExchange } from "../key-exchange/types.js";
import type { EcdheState } from "../key-exchange/ecdhe-ecdsa.js";
import type { ClientPkiConfig, ServerPkiConfig } from "../key-exchange/pki-options.js";
import type { PskClientCredentials, PskServerCredentials } from "../key-exchange/psk.js";
import { RecordCipher } from "../record/record-cipher.js";
import type { RecordLayer } from "../record/record-layer.js";
import { keyBlockLength, type CipherSuite } from "../suites/cipher-suites.js";
import type { OutgoingItem } from "./types.js";

export type Role = "client" | "server";

/** What a handshake needs from the endpoint's options (resolved, with defaults). */
export interface HandshakeConfig {
  readonly suites: readonly CipherSuite[];
  readonly random: (n: number) => Uint8Array;
  readonly serverPsk?: PskServerCredentials;
  readonly clientPsk?: PskClientCredentials;
  readonly pskHintCallback?: (hint: string) => PskClientCredentials | undefined;
  readonly sni?: string;
  /** Server certificates (the ECDHE_ECDSA suites are available only with them). */
  readonly serverPki?: ServerPkiConfig;
  /** Client certificates / server validation; present (possibly anonymous) when ECDHE is offered. */
  readonly clientPki?: ClientPkiConfig;
  /** ECDHE groups in preference order (default DEFAULT_GROUPS). */
  readonly groups?: readonly EcdheCurve[];
  /** Calendar time for certificate validity (default Date.now). */
  readonly wallClock?: () => number;
}

/** x25519 first, as OpenSSL orders them; secp256r1 is the curve every CoAP peer has (RFC 7252 §9.1.3.2). */
export const DEFAULT_GROUPS: readonly EcdheCurve[] = Object.freeze(["x25519", "secp256r1"]);

/**
 * Zero bytes, shared by every handshake and never written into: the value of the byte fields
 * below until their flight sets them (each is replaced, not filled), and the empty fields and
 * bodies the flights send (flight 4's session_id and ServerHelloDone).
 */
export const NO_BYTES = new Uint8Array(0);
const NO_EXTENSIONS: readonly number[] = Object.freeze([]);

export class HandshakeContext {
  readonly transcript = new Transcript();

  /** Set by flight 1 (client) or flight 0 (server). */
  clientRandom: Uint8Array = NO_BYTES;
  /** Set by flight 4 (server) or the ServerHello (client). */
  serverRandom: Uint8Array = NO_BYTES;
  /** Client: the cookie from the last HelloVerifyRequest. */
  cookie: Uint8Array = NO_BYTES;
  helloVerifyRequests = 0;
  /** Client: a HelloVerifyRequest arrived and the ClientHello must be re-sent with its cookie. */
  cookieRequested = false;
  /** Server: the ClientHello being answered. */
  clientHello: ClientHello | undefined;
  /** Client: the extensions we offered (a server may only answer those, RFC 5246 §7.4.1.4). */
  offeredExtensions: readonly number[] = NO_EXTENSIONS;

  suite: CipherSuite | undefined;
  kx: KeyExchange | undefined;
  extendedMasterSecret = false;
  secureRenegotiation = false;
  sni: string | undefined;
  pskIdentityHint: string | undefined;
  pskIdentity: string | undefined;
  peerIdentity: PeerIdentity = ANONYMOUS;
  /** The peer's leaf certificate (DER), when it sent one. */
  peerCertificateDer: Uint8Array | undefined;
  /** ECDHE_ECDSA: the key exchange's own state (key-exchange/ecdhe-ecdsa.ts). */
  ecdhe: EcdheState | undefined;

  preMasterSecret: Uint8Array | undefined;
  /** RFC 7627 §3: the transcript hash through ClientKeyExchange. */
  sessionHash: Uint8Array | undefined;
  masterSecret: Uint8Array | undefined;
  /** The master secret keyed for the PRF once (key block, both Finished); see `wipeSecrets`. */
  #masterPrf: PrfSecret | undefined;

  /** The message_seq of our next handshake message. */
  nextSendSeq = 0;
  /** The epoch new outgoing items are sent in (1 after our ChangeCipherSpec). */
  writeEpoch = 0;
  /** The flight being generated (taken by the handshaker after `generate`). */
  outgoing: OutgoingItem[] = [];

  constructor(
    readonly role: Role,
    readonly config: HandshakeConfig,
    readonly records: RecordLayer,
  ) {}

  /**
   * Adds a handshake message to the flight being generated and to the transcript. It is
   * encoded with its header once: the transcript keeps that array and the flight sends it.
   */
  emit(type: number, body: Uint8Array): void {
    const seq = this.nextSendSeq++;
    const message = type === HandshakeType.hello_verify_request ? encodeWholeMessage(type, seq, body) : this.addToTranscript(type, seq, body);
    this.outgoing.push({ kind: "handshake", type, seq, body, message, epoch: this.writeEpoch });
  }

  /** Adds ChangeCipherSpec; what follows goes out in the next epoch (whose keys must be installed). */
  emitChangeCipherSpec(): void {
    this.outgoing.push({ kind: "change_cipher_spec", epoch: this.writeEpoch });
    this.writeEpoch++;
    if (!this.records.hasWriteEpoch(this.writeEpoch)) throw new Error("ChangeCipherSpec before the keys were derived");
  }

  /**
   * Appends to the transcript and returns the message as hashed (header included); snapshots
   * the session hash after ClientKeyExchange (RFC 7627 §3).
   */
  addToTranscript(type: number, seq: number, body: Uint8Array): Uint8Array {
    const message = this.transcript.add(type, seq, body);
    if (type === HandshakeType.client_key_exchange) this.sessionHash = this.transcript.hash();
    return message;
  }

  /**
   * master_secret from the premaster (extended when negotiated), then the key block, then the
   * epoch-1 record ciphers for both directions.
   */
  deriveKeys(): void {
    const suite = this.suite;
    const pms = this.preMasterSecret;
    if (!suite || !pms) throw new Error("deriveKeys before the key exchange");
    if (this.extendedMasterSecret) {
      if (!this.sessionHash) throw new Error("extended master secret without a session hash");
      this.masterSecret = extendedMasterSecret(pms, this.sessionHash);
    } else {
      this.masterSecret = masterSecret(pms, this.clientRandom, this.serverRandom);
    }
    pms.fill(0);
    this.preMasterSecret = undefined;
    this.#masterPrf = new PrfSecret(this.masterSecret);
    const kb = keyBlock(this.#masterPrf, this.serverRandom, this.clientRandom, keyBlockLength(suite));
    const k = suite.keyLength;
    const iv = suite.fixedIvLength;
    const client = new RecordCipher(suite, kb.subarray(0, k), kb.subarray(2 * k, 2 * k + iv));
    const server = new RecordCipher(suite, kb.subarray(k, 2 * k), kb.subarray(2 * k + iv, 2 * k + 2 * iv));
    kb.fill(0);
    this.records.installWrite(1, this.role === "client" ? client : server);
    this.records.installRead(1, this.role === "client" ? server : client);
  }

  /** Finished.verify_data for `sender` over the first `count` transcript messages. */
  verifyData(sender: Role, count = this.transcript.length): Uint8Array {
    if (!this.#masterPrf) throw new Error("Finished before the master secret");
    return finishedVerifyData(this.#masterPrf, sender, this.transcript.hash(count));
  }

  /** Clears the master secret and its PRF key (the handshake is over). */
  wipeSecrets(): void {
    this.masterSecret?.fill(0);
    this.#masterPrf?.wipe();
    this.#masterPrf = undefined;
  }

  /** Takes the generated flight. */
  takeOutgoing(): OutgoingItem[] {
    const out = this.outgoing;
    this.outgoing = [];
    return out;
  }
}

