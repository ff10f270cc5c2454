/**
 * The certificates for the ECDHE-ECDSA workloads: a fresh P-256 test PKI (edge-agent/src/pki)
 * written to a temporary directory for the servers; the generator's clients are anonymous
 * ECDHE clients (no client certificate, server not verified), as the handshake cost is what
 * is measured.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { generateTestPki, writeTestPki } from "../edge-agent/src/pki/generate.js";

export interface BenchPki {
  /** Server certificate chain (PEM). */
  readonly cert: string;
  /** Server private key (PKCS#8 PEM). */
  readonly key: string;
  readonly ca: string;
  remove(): void;
}

export function makeBenchPki(): BenchPki {
  const dir = mkdtempSync(join(tmpdir(), "coaps-edge-bench-pki-"));
  writeTestPki(generateTestPki({ devices: 0 }), dir, { overwrite: true });
  return {
    cert: join(dir, "server.crt"),
    key: join(dir, "server.key"),
    ca: join(dir, "ca.crt"),
    remove: () => rmSync(dir, { recursive: true, force: true }),
  };
}
