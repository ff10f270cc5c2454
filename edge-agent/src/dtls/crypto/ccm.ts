/**
 * AES-128-CCM (RFC 3610) on two node:crypto contexts kept per key, instead of one
 * createCipheriv("aes-128-ccm") per record: setting up a CCM context (key schedule, nonce,
 * AAD, tag) costs more than the AES work on a small CoAP record (bench/micro/record.ts).
 *
 * RFC 3610 §2, with L = 15 − nonce length and M the tag length:
 *   B_0 = flags(Adata·0x40 | ((M−2)/2) << 3 | (L−1)) ‖ nonce ‖ l(m) (L bytes)
 *   then l(a) (2 bytes, or 0xFFFE ‖ 4 bytes from 0xFF00 on) ‖ a, zero-padded to 16 bytes,
 *   then the message, zero-padded to 16 bytes;
 *   T = first M bytes of CBC-MAC over those blocks (§2.2)
 *   A_i = (L−1) ‖ nonce ‖ i (L bytes);  S_i = E(K, A_i)
 *   C = m ⊕ (S_1 ‖ S_2 ‖ …);  U = T ⊕ first M bytes of S_0 (§2.3)
 *
 * The CBC-MAC runs on an AES-128-CBC context, the keystream on an AES-128-ECB context, both
 * made once per key with padding off. node:crypto cannot reset a context's IV, so the CBC
 * context keeps chaining from its last output block C_prev: XORing C_prev into the first MAC
 * block makes its first step E((B_0 ⊕ C_prev) ⊕ C_prev) = E(B_0), i.e. a CBC-MAC from IV 0,
 * and one update() call covers the whole MAC. The constant-time property is OpenSSL's (AES-NI
 * where present); the JS here only moves and XORs bytes, and the tag check is timingSafeEqual.
 *
 * Contexts cost native memory (~1.2 kB per context here), and a gateway may hold 100,000 idle
 * sessions with two keys each. So a key keeps only its 16 bytes while cold; its contexts are
 * made on first use and dropped again when more than MAX_HOT_KEYS other keys were used since
 * (an LRU list of HotKey records, made when a key turns hot: moving one to the front allocates
 * nothing, and a cold key is three fields). The cold key is a 16-character latin1 string: 32
 * bytes on the V8 heap, where a 16-byte Uint8Array costs ~200 (its JSTypedArray, JSArrayBuffer
 * and backing-store record; bench/micro/idle-sessions.ts).
 *
 * When the optional native addon is built (ccm-native.ts), keys use it instead: OpenSSL's own
 * CCM, one call per record, under the same LRU. A native key makes the context of a direction on
 * its first record in it (a DTLS read key only opens, a write key only seals), and a key the LRU
 * drops releases its contexts at once: left to the garbage collector, the dropped keys of a
 * burst of 100,000 handshakes held ~200 MB of malloc heap that V8 did not know about.
 */
import { createCipheriv, timingSafeEqual, type Cipher } from "node:crypto";
import { nativeCcm, type NativeKey } from "./ccm-native.js";
import { OffHeapScratch, ON_HEAP_MAX } from "./off-heap.js";

/** The engines: node:crypto (always there) and the optional native addon (ccm-native.ts). */
export type CcmEngine = "native" | "node:crypto";
/** The engine new keys use: the native addon when it is built, else node:crypto. */
export const DEFAULT_CCM_ENGINE: CcmEngine = nativeCcm ? "native" : "node:crypto";
/** Engines that can run here (tests run every one of them). */
export const CCM_ENGINES: readonly CcmEngine[] = nativeCcm ? ["native", "node:crypto"] : ["node:crypto"];

/** Keys that hold live contexts at once (2 per DTLS session: read and write). */
export const MAX_HOT_KEYS = 2048;

const ZERO_IV = Buffer.alloc(16);

// Scratch for the MAC input, the counter blocks and the expected tag, shared by every key and
// grown on demand: seal/open run synchronously and node copies update()'s input, so no record
// ever sees another's bytes, and an idle session carries no scratch of its own. Plain
// Uint8Arrays (> 64 bytes, so their storage is off the V8 heap, as update() needs it): their
// fill/subarray are the fast builtins, not node's Buffer wrappers.
let macScratch = new Uint8Array(16 * 8);
let ctrScratch = new Uint8Array(16 * 8);
/** The expected tag of `open`, per tag length (timingSafeEqual compares equal lengths). */
const tagScratch: Uint8Array[] = Array.from({ length: 17 }, (_, m) => new Uint8Array(m));

interface Contexts {
  readonly cbc: Cipher;
  readonly ecb: Cipher;
  /** The CBC context's last output block is chain[chainAt .. chainAt + 16] (zero at first: its IV). */
  chain: Uint8Array;
  chainAt: number;
}

/**
 * What a key holds only while hot: its contexts and its links in the LRU list. Kept apart from
 * AesCcm so that a cold key (all but MAX_HOT_KEYS of them) is three fields, not eight.
 */
class HotKey {
  /** LRU links, most recent towards `hot.head`. */
  prev: HotKey | undefined = undefined;
  next: HotKey | undefined = undefined;
  /** node:crypto engine: the CBC and ECB contexts. */
  ctx: Contexts | undefined = undefined;
  /** Native engine: the OpenSSL contexts, for nonces of `nonceLength` bytes. */
  nativeKey: NativeKey | undefined = undefined;
  nonceLength = 0;
  constructor(readonly owner: AesCcm) {}
}

/** The hot keys, most recently used first. */
class HotList {
  head: HotKey | undefined;
  tail: HotKey | undefined;
  size = 0;
}
const hot = new HotList();

/** AesCcm's #spec: the tag length in the low bits, this bit for the native engine. */
const NATIVE = 0x100;

/** Where a small plaintext (a CoAP response, a Finished) is copied off the V8 heap for the addon (off-heap.ts). */
const smallPlaintext = new OffHeapScratch();
/** Where a small record is sealed before it is copied to its own array. */
const smallRecord = new OffHeapScratch();

export class AesCcm {
  /** The AES key, one latin1 character per byte (see the module comment). */
  readonly #key: string;
  /** Tag length | NATIVE: one small integer, not two fields (an idle session has two keys). */
  readonly #spec: number;
  /** Contexts and LRU links while the key is hot. */
  #hot: HotKey | undefined = undefined;

  constructor(key: Uint8Array, tagLength: number, engine: CcmEngine = DEFAULT_CCM_ENGINE) {
    if (engine === "native" && !nativeCcm) throw new RangeError("the native CCM addon is not built (npm run build:native)");
    if (key.length !== 16) throw new RangeError(`aes-128-ccm needs a 16-byte key, got ${key.length}`);
    // §2: M ∈ {4, 6, 8, 10, 12, 14, 16}.
    if (tagLength < 4 || tagLength > 16 || tagLength % 2 !== 0) throw new RangeError(`invalid CCM tag length ${tagLength}`);
    this.#spec = tagLength | (engine === "native" ? NATIVE : 0);
    // Not a Buffer.from copy either: that takes a slice of node's shared slab, and a long-lived
    // key there would pin the whole 8 KiB slab (one per idle session in the worst case).
    this.#key = Buffer.from(key.buffer, key.byteOffset, key.length).toString("latin1");
  }

  /** M, the tag length in bytes. */
  get tagLength(): number {
    return this.#spec & 0xff;
  }

  /** The engine this key runs on. */
  get engine(): CcmEngine {
    return this.#spec & NATIVE ? "native" : "node:crypto";
  }

  /** True while this key holds live cipher contexts (for tests). */
  get hot(): boolean {
    return this.#hot !== undefined;
  }

  /**
   * Encrypts `plaintext` and writes ciphertext ‖ tag into `out` at `offset` (room for
   * plaintext.length + tagLength bytes). Returns the number of bytes written.
   */
  sealInto(nonce: Uint8Array, aad: Uint8Array, plaintext: Uint8Array, out: Uint8Array, offset: number): number {
    if (this.#spec & NATIVE) {
      // A small record (an alert) may be sealed into an array on the V8 heap: seal into the scratch, then copy.
      const target = out.length <= ON_HEAP_MAX ? smallRecord.of(out) : out;
      const written = nativeCcm!.seal(this.#nativeContexts(nonce.length), nonce, aad, smallPlaintext.of(plaintext), target, offset);
      if (target !== out) out.set(target);
      if (written < 0) throw new RangeError("OpenSSL refused to seal the record");
      return written;
    }
    const ctx = this.#contexts();
    const n = plaintext.length;
    this.#mac(ctx, nonce, aad, plaintext);
    const t = ctx.chain;
    const at = ctx.chainAt;
    const s = this.#keystream(ctx, nonce, n);
    for (let i = 0; i < n; i++) out[offset + i] = plaintext[i]! ^ s[16 + i]!;
    const M = this.tagLength;
    for (let i = 0; i < M; i++) out[offset + n + i] = t[at + i]! ^ s[i]!;
    return n + M;
  }

  /** Decrypts ciphertext ‖ tag; the plaintext, or undefined when the tag does not verify. */
  open(nonce: Uint8Array, aad: Uint8Array, sealed: Uint8Array): Uint8Array | undefined {
    const M = this.tagLength;
    const n = sealed.length - M;
    if (n < 0) return undefined;
    if (this.#spec & NATIVE) {
      // From node's shared slab: OpenSSL writes into it, and a fresh off-heap array would cost
      // a malloc per record. The caller keeps a copy of what outlives the datagram (STYLE.md §4).
      const slab = Buffer.allocUnsafe(n);
      const plaintext = new Uint8Array(slab.buffer, slab.byteOffset, n); // a plain Uint8Array, as the other engine returns
      return nativeCcm!.open(this.#nativeContexts(nonce.length), nonce, aad, sealed, plaintext) ? plaintext : undefined;
    }
    const ctx = this.#contexts();
    const s = this.#keystream(ctx, nonce, n);
    const pt = new Uint8Array(n);
    for (let i = 0; i < n; i++) pt[i] = sealed[i]! ^ s[16 + i]!;
    this.#mac(ctx, nonce, aad, pt);
    const t = ctx.chain;
    const at = ctx.chainAt;
    const expected = tagScratch[M]!;
    for (let i = 0; i < M; i++) expected[i] = t[at + i]! ^ s[i]!;
    // §4: the tag is checked before anything of the plaintext is released, in constant time.
    return timingSafeEqual(expected, sealed.subarray(n)) ? pt : undefined;
  }

  /** Marks the key most recently used (making it hot if it was not); the coldest may be pushed out. */
  #touch(): HotKey {
    const h = this.#hot;
    if (h !== undefined) {
      if (hot.head !== h) {
        unlink(h);
        pushFront(h);
      }
      return h;
    }
    const made = (this.#hot = new HotKey(this));
    pushFront(made);
    if (hot.size > MAX_HOT_KEYS) hot.tail!.owner.#cool();
    return made;
  }

  #nativeContexts(nonceLength: number): NativeKey {
    const h = this.#touch();
    if (h.nativeKey === undefined || h.nonceLength !== nonceLength) {
      if (h.nativeKey !== undefined) nativeCcm!.release(h.nativeKey);
      h.nativeKey = nativeCcm!.newKey(keyBytes(this.#key), this.tagLength, nonceLength);
      h.nonceLength = nonceLength;
    }
    return h.nativeKey;
  }

  #contexts(): Contexts {
    const h = this.#touch();
    if (h.ctx !== undefined) return h.ctx;
    const made: Contexts = {
      cbc: createCipheriv("aes-128-cbc", keyBytes(this.#key), ZERO_IV).setAutoPadding(false),
      ecb: createCipheriv("aes-128-ecb", keyBytes(this.#key), null).setAutoPadding(false),
      chain: ZERO_IV,
      chainAt: 0,
    };
    h.ctx = made;
    return made;
  }

  /** Frees the contexts (they are rebuilt from the key on next use). */
  #cool(): void {
    const h = this.#hot;
    if (h === undefined) return;
    unlink(h);
    this.#hot = undefined;
    // node:crypto has no explicit free: its contexts go with the GC.
    if (h.nativeKey !== undefined) nativeCcm!.release(h.nativeKey);
  }

  /** CBC-MAC(B_0 ‖ encoded AAD ‖ payload), §2.2: T is the first M bytes of ctx.chain at ctx.chainAt. */
  #mac(ctx: Contexts, nonce: Uint8Array, aad: Uint8Array, payload: Uint8Array): void {
    const L = 15 - nonce.length;
    if (L < 2 || L > 8) throw new RangeError(`CCM nonce must be 7..13 bytes, got ${nonce.length}`);
    const aadLenBytes = aad.length === 0 ? 0 : aad.length < 0xff00 ? 2 : 6;
    const aadBlocks = Math.ceil((aadLenBytes + aad.length) / 16);
    const size = 16 * (1 + aadBlocks + Math.ceil(payload.length / 16));
    if (macScratch.length < size) macScratch = new Uint8Array(size);
    const b = macScratch.subarray(0, size);
    b.fill(0);
    b[0] = (aad.length > 0 ? 0x40 : 0) | (((this.tagLength - 2) / 2) << 3) | (L - 1);
    b.set(nonce, 1);
    for (let i = 15, len = payload.length; i > 15 - L; i--, len = Math.floor(len / 256)) b[i] = len & 0xff;
    if (aadLenBytes === 2) {
      b[16] = aad.length >>> 8;
      b[17] = aad.length & 0xff;
    } else if (aadLenBytes === 6) {
      b[16] = 0xff;
      b[17] = 0xfe;
      b[18] = aad.length >>> 24;
      b[19] = (aad.length >>> 16) & 0xff;
      b[20] = (aad.length >>> 8) & 0xff;
      b[21] = aad.length & 0xff;
    }
    b.set(aad, 16 + aadLenBytes);
    b.set(payload, 16 * (1 + aadBlocks));
    const chain = ctx.chain;
    const at = ctx.chainAt;
    for (let i = 0; i < 16; i++) b[i]! ^= chain[at + i]!;
    ctx.chain = ctx.cbc.update(b);
    ctx.chainAt = size - 16;
  }

  /** S_0 ‖ S_1 ‖ … covering `length` payload bytes, §2.3. */
  #keystream(ctx: Contexts, nonce: Uint8Array, length: number): Uint8Array {
    const L = 15 - nonce.length;
    const blocks = 1 + Math.ceil(length / 16);
    if (ctrScratch.length < 16 * blocks) ctrScratch = new Uint8Array(16 * blocks);
    const a = ctrScratch.subarray(0, 16 * blocks);
    a.fill(0);
    for (let i = 0; i < blocks; i++) {
      const o = 16 * i;
      a[o] = L - 1;
      a.set(nonce, o + 1);
      a[o + 14] = i >>> 8; // a record has < 2^16 blocks (2^14 + 2048 bytes at most)
      a[o + 15] = i & 0xff;
    }
    return ctx.ecb.update(a);
  }
}

/**
 * A cold key's bytes for making contexts: a short-lived slab slice (OpenSSL copies the key into
 * its context; the slice is garbage right after).
 */
function keyBytes(key: string): Buffer {
  return Buffer.from(key, "latin1");
}

function pushFront(k: HotKey): void {
  k.prev = undefined;
  k.next = hot.head;
  if (hot.head) hot.head.prev = k;
  else hot.tail = k;
  hot.head = k;
  hot.size++;
}

function unlink(k: HotKey): void {
  if (k.prev) k.prev.next = k.next;
  else if (hot.head === k) hot.head = k.next;
  else return; // not in the list
  if (k.next) k.next.prev = k.prev;
  else hot.tail = k.prev;
  k.prev = k.next = undefined;
  hot.size--;
}
