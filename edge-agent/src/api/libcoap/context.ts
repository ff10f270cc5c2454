/**
 * `CoapContext`: libcoap's coap_context_t for the client side — the defaults every session
 * created on it starts from (block mode, root CAs, client credentials, transmission
 * parameters, timeouts), and the set of its sessions (coap_free_context releases them all).
 *
 * Context level vs session level (man coap_endpoint_client): "If defined at the context level,
 * then when a session is created, it will inherit the context definitions, unless they have
 * separately been defined for the session level, in which case the session version will get
 * used." So: newClientSessionPsk/Pki's setup wins over setPsk/setPki here; a plain
 * newClientSession with proto "dtls" uses the context's PSK, else its PKI, else is anonymous.
 */
import { readdirSync } from "node:fs";
import { join } from "node:path";
import type { TransmissionParameters } from "../../coap/constants.js";
import { loadCertificates } from "../../pki/credentials.js";
import { TrustStore } from "../../pki/trust-store.js";
import { systemClock, type Clock } from "../../util/clock.js";
import { CoapSessionError } from "./errors.js";
import type { CoapSession } from "./session.js";
import type { CoapDtlsCpsk, CoapDtlsPki } from "./types.js";

export interface CoapContextOptions {
  readonly clock?: Clock;
  /** RFC 7252 §4.8 parameters of every session (ACK_TIMEOUT, MAX_RETRANSMIT, NSTART…). */
  readonly transmission?: Partial<TransmissionParameters>;
  /** Deadline of one request (default MAX_TRANSMIT_WAIT: 93 s with the RFC defaults). */
  readonly requestTimeoutMs?: number;
  /** Deadline of a session set-up: DTLS handshake, TCP/TLS/WebSocket connect + CSM (default 30 s). */
  readonly connectTimeoutMs?: number;
  /** Host name resolution for server addresses given by name (default node:dns lookup). */
  readonly lookup?: (host: string) => Promise<{ address: string; family: 4 | 6 }>;
}

export class CoapContext {
  readonly clock: Clock;
  readonly #options: CoapContextOptions;
  readonly #sessions = new Set<CoapSession>();
  #blockMode = 0;
  #rootCas: TrustStore | undefined;
  #psk: CoapDtlsCpsk | undefined;
  #pki: CoapDtlsPki | undefined;
  #transmission: Partial<TransmissionParameters>;
  #freed = false;

  /** coap_new_context. */
  constructor(options: CoapContextOptions = {}) {
    this.#options = options;
    this.clock = options.clock ?? systemClock;
    this.#transmission = { ...options.transmission };
  }

  /**
   * coap_context_set_block_mode: COAP_BLOCK_USE_LIBCOAP (block-wise done for the caller) |
   * COAP_BLOCK_SINGLE_BODY (one whole body per response). 0 (libcoap's default): each
   * request() is one message and the response comes as it is, Block2 option included.
   * USE_LIBCOAP without SINGLE_BODY is treated as both (bodies are always joined here).
   */
  setBlockMode(mode: number): void {
    if (!Number.isInteger(mode) || mode < 0) throw new RangeError("block mode flags must be a non-negative integer");
    this.#blockMode = mode;
  }

  get blockMode(): number {
    return this.#blockMode;
  }

  /**
   * coap_context_set_pki_root_cas: CAs (a PEM file, and/or every *.pem / *.crt / *.der file of
   * a directory) added to the trust of the PKI sessions created from now on. Throws
   * CoapSessionError "bad-credentials" when nothing loads.
   */
  setPkiRootCas(caFile?: string, caDir?: string): void {
    const certs = [];
    try {
      if (caFile !== undefined) certs.push(...loadCertificates({ path: caFile }, "root CAs"));
      if (caDir !== undefined) {
        for (const name of readdirSync(caDir).sort()) {
          if (/\.(pem|crt|der|cer)$/i.test(name)) certs.push(...loadCertificates({ path: join(caDir, name) }, "root CAs"));
        }
      }
    } catch (e) {
      throw new CoapSessionError("bad-credentials", (e as Error).message, { cause: e });
    }
    if (certs.length === 0) throw new CoapSessionError("bad-credentials", "no root CA certificate found");
    const added = new TrustStore(certs);
    this.#rootCas = this.#rootCas ? this.#rootCas.with(added) : added;
  }

  /** The root CAs set so far. */
  get rootCas(): TrustStore | undefined {
    return this.#rootCas;
  }

  /** Context-level client PSK (used by DTLS/TLS sessions created without their own credentials). */
  setPsk(setup: CoapDtlsCpsk | undefined): void {
    this.#psk = setup;
  }

  /** Context-level client PKI (used when there is no PSK at either level). */
  setPki(setup: CoapDtlsPki | undefined): void {
    this.#pki = setup;
  }

  get psk(): CoapDtlsCpsk | undefined {
    return this.#psk;
  }

  get pki(): CoapDtlsPki | undefined {
    return this.#pki;
  }

  /** Context-level transmission parameters (merged under each session's own). */
  setTransmission(params: Partial<TransmissionParameters>): void {
    this.#transmission = { ...this.#transmission, ...params };
  }

  get transmission(): Partial<TransmissionParameters> {
    return this.#transmission;
  }

  get requestTimeoutMs(): number | undefined {
    return this.#options.requestTimeoutMs;
  }

  get connectTimeoutMs(): number {
    return this.#options.connectTimeoutMs ?? 30_000;
  }

  get lookup(): CoapContextOptions["lookup"] {
    return this.#options.lookup;
  }

  /** The sessions created on this context and not released yet. */
  sessions(): CoapSession[] {
    return [...this.#sessions];
  }

  get freed(): boolean {
    return this.#freed;
  }

  /** @internal */
  addSession(session: CoapSession): void {
    if (this.#freed) throw new CoapSessionError("released", "the context was freed");
    this.#sessions.add(session);
  }

  /** @internal */
  removeSession(session: CoapSession): void {
    this.#sessions.delete(session);
  }

  /**
   * coap_free_context: closes every session of the context, whatever its reference count
   * (close_notify for DTLS/TLS, Release for TCP), and refuses new ones.
   */
  async free(): Promise<void> {
    this.#freed = true;
    await Promise.all([...this.#sessions].map((s) => s.close()));
  }
}
