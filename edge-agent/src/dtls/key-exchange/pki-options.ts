/**
 * Certificate (PKI) options of the DTLS endpoints, as the agent and CLI pass them, and their
 * resolution into what one handshake uses. The knobs are libcoap's coap_dtls_pki_t (see
 * pki/validate.ts) and OpenThread's SetCertificate / SetCaCertificateChain / SetSslAuthMode.
 */
import type { Credentials } from "../../pki/credentials.js";
import { TrustStore } from "../../pki/trust-store.js";
import { resolvePolicy, type PkiPolicy } from "../../pki/validate.js";

/** Server certificates: what we present, and whether (and how) clients must present theirs. */
export interface DtlsServerPki {
  /**
   * Our chain and key, or a chooser by the client's server_name (SNI, RFC 6066; undefined when
   * the client sent none). A chooser returning undefined makes the certificate suites
   * unavailable for that hello (a PSK suite may still be chosen; else handshake_failure).
   */
  readonly credentials: Credentials | ((sni: string | undefined) => Credentials | undefined);
  /** CAs that client certificates must chain to (libcoap ca_file / -C, OpenThread SetCaCertificateChain). */
  readonly trust?: TrustStore;
  /**
   * How client chains are validated (libcoap coap_dtls_pki_t). `verifyPeerCert` is implied by
   * `verifyPeer`; `purpose` defaults to "client" (a leaf with extKeyUsage must allow clientAuth).
   */
  readonly policy?: Partial<PkiPolicy>;
  /**
   * Request, require and validate a client certificate (OpenThread SetSslAuthMode(true),
   * libcoap coap-server -C). Off: no CertificateRequest is sent, clients stay anonymous.
   */
  readonly verifyPeer: boolean;
}

/**
 * Client certificates. With neither `psk` nor `pki` on the client (or `pki` without credentials
 * and `policy.verifyPeerCert: false`) the client is an ANONYMOUS ECDHE client, like libcoap's
 * coap_new_client_session with COAP_PROTO_DTLS and no credentials: it sends no certificate and
 * does NOT authenticate the server (any P-256 certificate is accepted; the session is encrypted
 * but open to a man in the middle).
 */
export interface DtlsClientPki {
  /** Our chain and key, sent when the server asks for a certificate (else an empty Certificate). */
  readonly credentials?: Credentials;
  /** CAs the server's certificate must chain to (libcoap -C / -R). Missing: an empty store. */
  readonly trust?: TrustStore;
  /**
   * How the server's chain is validated. Default: libcoap's checks with a CA (DEFAULT_PKI_POLICY,
   * verifyPeerCert on); `purpose` defaults to "server"; `host` (no default) checks the leaf's
   * names.
   */
  readonly policy?: Partial<PkiPolicy>;
}

/** A server's PKI, resolved once per configuration. */
export interface ServerPkiConfig {
  readonly credentials: (sni: string | undefined) => Credentials | undefined;
  readonly trust: TrustStore;
  readonly policy: PkiPolicy;
  readonly verifyPeer: boolean;
  /** CertificateRequest.certificate_authorities: our CA names when checkCommonCa, else none. */
  readonly caNames: readonly Uint8Array[];
}

/** A client's PKI, resolved once per connection. */
export interface ClientPkiConfig {
  readonly credentials: Credentials | undefined;
  readonly trust: TrustStore;
  readonly policy: PkiPolicy;
}

const EMPTY_TRUST = new TrustStore();
/** certificate_authorities is a <0..2^16-1> vector of <1..2^16-1> names: stop before it overflows. */
const MAX_CA_NAMES_BYTES = 0xffff;

export function resolveServerPki(pki: DtlsServerPki): ServerPkiConfig {
  const chooser = pki.credentials;
  const trust = pki.trust ?? EMPTY_TRUST;
  const policy: PkiPolicy = { ...pki.policy, purpose: pki.policy?.purpose ?? "client", verifyPeerCert: true };
  const caNames: Uint8Array[] = [];
  if (pki.verifyPeer && resolvePolicy(policy).checkCommonCa) {
    let total = 0;
    for (const name of trust.subjectNames()) {
      if (total + 2 + name.length > MAX_CA_NAMES_BYTES) break;
      caNames.push(name);
      total += 2 + name.length;
    }
  }
  return {
    credentials: typeof chooser === "function" ? chooser : () => chooser,
    trust,
    policy,
    verifyPeer: pki.verifyPeer,
    caNames,
  };
}

/** `undefined` (no pki option): the anonymous client — no certificate, the server not verified. */
export function resolveClientPki(pki: DtlsClientPki | undefined): ClientPkiConfig {
  if (!pki) return { credentials: undefined, trust: EMPTY_TRUST, policy: { verifyPeerCert: false } };
  return {
    credentials: pki.credentials,
    trust: pki.trust ?? EMPTY_TRUST,
    policy: { ...pki.policy, purpose: pki.policy?.purpose ?? "server" },
  };
}
