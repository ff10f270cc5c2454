/**
 * Certificates for the ECDHE_ECDSA handshake tests, made on the spot with pki's generator
 * (no committed keys). Validity is relative to the fixed instant T0 and every endpoint gets
 * `wallClock: () => T0`, so "expired" means the same thing on every machine and every day.
 */
import type { KeyObject } from "node:crypto";
import {
  generateTestPki,
  loadCredentials,
  TrustStore,
  type Credentials,
  type IssuedCredential,
  type TestPki,
  type TestPkiOptions,
} from "../../../edge-agent/src/pki/index.js";
import type { DtlsServerPki } from "../../../edge-agent/src/dtls/index.js";
import { DAY, makeLeaf, T0, type TestIdentity } from "../../helpers/pki.js";
import { fixture, type Fixture } from "./helpers.js";

export { T0, DAY };

export const wallClock = (): number => T0;

/** A test PKI valid at T0: CA, server "localhost", devices device-001... (optionally via an intermediate). */
export function testPki(options: TestPkiOptions = {}): TestPki {
  return generateTestPki({ now: new Date(T0), devices: 2, ...options });
}

/** Chain (leaf, then intermediate) and key of an issued credential, as the engine takes them. */
export function credentials(c: IssuedCredential): Credentials {
  return loadCredentials(c.chainPem, c.keyPem);
}

/** The CA (root) of a PKI as a trust store. */
export function trustOf(...pkis: TestPki[]): TrustStore {
  return new TrustStore(pkis.map((p) => p.ca.cert.info));
}

/** An issued credential as the issuer identity test/helpers/pki.ts builds leaves from. */
export function issuer(c: IssuedCredential): TestIdentity {
  return { cert: c.cert, key: c.privateKey, der: c.cert.der };
}

/** A leaf issued by `by` with custom validity etc., as credentials. */
export function leafCredentials(commonName: string, by: IssuedCredential, extra: Parameters<typeof makeLeaf>[2] = {}): Credentials {
  const leaf = makeLeaf(commonName, issuer(by), extra);
  return loadCredentials({ der: [leaf.der] }, { pem: pkcs8(leaf.key) });
}

export function pkcs8(key: KeyObject): string {
  return key.export({ type: "pkcs8", format: "pem" }) as string;
}

/** A server fixture (MemoryNetwork, FakeClock) with certificates only, no PSK. */
export function pkiFixture(pki: DtlsServerPki, options: Parameters<typeof fixture>[0] = {}): Fixture {
  return fixture({ ...options, server: { psk: undefined, pki, wallClock, ...options.server } });
}
