/**
 * The set of trusted CA certificates (OpenThread SetCaCertificateChain, libcoap ca_file /
 * coap_context_set_pki_root_cas). Immutable: a credential reload (SIGHUP) builds a new store and
 * swaps it, so a handshake in progress keeps the store it started with.
 */
import type { CertificateInfo } from "./certificate.js";

export class TrustStore {
  readonly certificates: readonly CertificateInfo[];
  readonly #bySha256: ReadonlyMap<string, CertificateInfo>;

  constructor(certificates: readonly CertificateInfo[] = []) {
    const byHash = new Map<string, CertificateInfo>();
    for (const c of certificates) if (!byHash.has(c.sha256)) byHash.set(c.sha256, c);
    this.certificates = [...byHash.values()];
    this.#bySha256 = byHash;
  }

  get size(): number {
    return this.certificates.length;
  }

  /** True when this exact certificate (same DER) is trusted. */
  has(cert: CertificateInfo): boolean {
    return this.#bySha256.has(cert.sha256);
  }

  /** A new store with the certificates of both (duplicates dropped). */
  with(more: TrustStore | readonly CertificateInfo[]): TrustStore {
    return new TrustStore([...this.certificates, ...(more instanceof TrustStore ? more.certificates : more)]);
  }

  /**
   * DER subject Names of the CAs, for CertificateRequest.certificate_authorities
   * (RFC 5246 §7.4.4: `opaque DistinguishedName<1..2^16-1>`), sent when check_common_ca is on.
   */
  subjectNames(): Uint8Array[] {
    return this.certificates.map((c) => c.subjectDer);
  }
}
