/**
 * The optional native AES-CCM addon (edge-agent/native/ccm, N-API on the node binary's own
 * OpenSSL): one call per record into caller-provided memory, instead of two node:crypto
 * `update()` calls that each allocate their output (bench/micro/record.ts, docs/benchmarks.md).
 * Built by `npm run build:native`; when it is not built, fails to load, or
 * COAPS_EDGE_CCM=node is set, `nativeCcm` is undefined and ccm.ts uses node:crypto.
 */
import { createRequire } from "node:module";

/**
 * A key's OpenSSL contexts, one per direction, each made on its first record. `release` frees
 * them at once; the handle's garbage collection frees whatever is left (the small key record).
 */
export type NativeKey = object & { readonly __nativeCcmKey: unique symbol };

export interface NativeCcm {
  newKey(key: Uint8Array, tagLength: number, nonceLength: number): NativeKey;
  /** Writes ciphertext ‖ tag at out[offset]; the bytes written, or -1 if OpenSSL failed. */
  seal(key: NativeKey, nonce: Uint8Array, aad: Uint8Array, plaintext: Uint8Array, out: Uint8Array, offset: number): number;
  /** Writes the plaintext into `out`; true only when the tag verifies. */
  open(key: NativeKey, nonce: Uint8Array, aad: Uint8Array, sealed: Uint8Array, out: Uint8Array): boolean;
  /** Frees the key's contexts and wipes its bytes now; seal/open on the handle throw after this. */
  release(key: NativeKey): void;
  /** OpenSSL contexts of this process not yet freed (for tests). */
  liveContexts(): number;
}

const ADDON = "../../../native/ccm/build/Release/ccm.node";

function load(): NativeCcm | undefined {
  if (process.env["COAPS_EDGE_CCM"] === "node") return undefined;
  try {
    return createRequire(import.meta.url)(ADDON) as NativeCcm;
  } catch {
    return undefined; // not built (the default): node:crypto serves
  }
}

export const nativeCcm: NativeCcm | undefined = load();
