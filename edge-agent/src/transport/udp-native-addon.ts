/**
 * The optional native UDP addon (edge-agent/native/udp, N-API + the node binary's libuv):
 * recvmmsg/sendmmsg over memory shared with JavaScript. Built by `npm run build:native`; when it
 * is not built, fails to load, the platform has no recvmmsg (not Linux), or COAPS_EDGE_UDP=dgram
 * is set, `nativeUdp` is undefined and UdpEndpoint uses node:dgram.
 */
import { createRequire } from "node:module";

/** A native socket; closed by `close()` or when garbage collected. */
export type NativeUdpHandle = object & { readonly __nativeUdpSocket: unique symbol };

/** Offsets inside one datagram's metadata (META_INTS int32 words; native/udp/udp.c). */
export const META_LENGTH = 0;
export const META_FAMILY = 1;
export const META_PORT = 2;
export const META_SCOPE = 3;
export const META_ADDRESS = 4;
/** Byte offset of the datagram in its arena (recv: slot × SLOT_BYTES; send: picked by the writer). */
export const META_OFFSET = 8;
/** Offsets inside `ctrl`: the send ring's head and length, and sends the kernel refused. */
export const CTRL_SEND_HEAD = 0;
export const CTRL_SEND_COUNT = 1;
export const CTRL_SEND_ERRORS = 2;

export interface NativeUdpOpened {
  readonly handle: NativeUdpHandle;
  /** The bound port (the kernel's pick when 0 was asked for). */
  readonly port: number;
  /** RECV_SLOTS datagrams of SLOT_BYTES each; valid during one onBatch call. */
  readonly recvArena: Uint8Array;
  readonly recvMeta: Int32Array;
  /** Bytes of queued sends (SEND_ARENA_BYTES, packed); their metadata is a ring of SEND_SLOTS. */
  readonly sendArena: Uint8Array;
  readonly sendMeta: Int32Array;
  readonly ctrl: Int32Array;
}

export interface NativeUdp {
  readonly SLOT_BYTES: number;
  readonly RECV_SLOTS: number;
  readonly SEND_SLOTS: number;
  readonly SEND_ARENA_BYTES: number;
  readonly META_INTS: number;
  /** Creates and binds the socket; throws an Error with an errno `code` (EADDRINUSE, EINVAL…). */
  open(address: string, port: number, ipv6Only: boolean, recvBufferSize: number, sendBufferSize: number): NativeUdpOpened;
  /** Starts reading: `onBatch(n)` once per recvmmsg batch of n datagrams (n ≤ RECV_SLOTS). */
  start(handle: NativeUdpHandle, onBatch: (count: number) => void): void;
  /** Sends what the ring holds now (sendmmsg); what the kernel cannot take yet stays queued. */
  flush(handle: NativeUdpHandle): void;
  close(handle: NativeUdpHandle): void;
  bufferSizes(handle: NativeUdpHandle): [recv: number, send: number];
  /** Writes family, port, scope and address words at meta[offset]; -1 if not an IP literal. */
  encodeAddress(address: string, port: number, meta: Int32Array, offset: number): number;
  /** The address string node:dgram reports for the metadata at meta[offset]. */
  formatAddress(meta: Int32Array, offset: number): string;
}

const ADDON = "../../native/udp/build/Release/udp.node";

/**
 * The addon whatever COAPS_EDGE_UDP says (the bench's generator picks its own engine); undefined
 * when it is not built or the platform has no recvmmsg/sendmmsg (not Linux).
 */
export function loadNativeUdp(): NativeUdp | undefined {
  if (process.platform !== "linux") return undefined;
  try {
    return createRequire(import.meta.url)(ADDON) as NativeUdp;
  } catch {
    return undefined; // not built: node:dgram serves
  }
}

/** The addon for the agent's endpoints: none when COAPS_EDGE_UDP=dgram. */
export const nativeUdp: NativeUdp | undefined = process.env["COAPS_EDGE_UDP"] === "dgram" ? undefined : loadNativeUdp();
