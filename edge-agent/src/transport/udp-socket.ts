/**
 * What both UDP engines behind `UdpEndpoint` (udp.ts) provide: node:dgram (udp-dgram.ts) and the
 * optional native batched socket (udp-native.ts, recvmmsg/sendmmsg). Shared options, counters
 * and limits live here so neither engine depends on the other.
 */
import type { DatagramHandler, PeerAddress } from "./types.js";

/** Bytes of IP + UDP headers subtracted from the MTU (IPv6 40 + UDP 8: the larger case). */
export const IP_UDP_OVERHEAD = 48;
/** libcoap's default MTU (coap_session_set_mtu). */
export const DEFAULT_MTU = 1152;
/** Longest `close()` waits for sends still in flight (a stuck DNS-less send must not hang shutdown). */
export const CLOSE_DRAIN_MS = 250;
/** The largest UDP payload over IPv4 (65,535 − 20 IP − 8 UDP); larger sends are counted as errors. */
export const MAX_UDP_PAYLOAD = 65_507;

/** "native": edge-agent/native/udp (recvmmsg/sendmmsg, one JS call per batch); "dgram": node:dgram. */
export type UdpEngine = "native" | "dgram";

export interface UdpBindOptions {
  /** Local address; default "127.0.0.1". "::" binds dual-stack where the OS allows. */
  readonly address?: string;
  /** Local port; 0 picks a free one. */
  readonly port?: number;
  /** Path MTU used for `maxMessageSize` (default 1152, as libcoap). */
  readonly mtu?: number;
  /** IPV6_V6ONLY for "::" binds (default false: dual-stack). */
  readonly ipv6Only?: boolean;
  /** SO_RCVBUF / SO_SNDBUF to ask for, in bytes (0 or absent: the OS default; the kernel caps them). */
  readonly recvBufferSize?: number;
  readonly sendBufferSize?: number;
  /** The engine; default DEFAULT_UDP_ENGINE (native when its addon loaded, unless COAPS_EDGE_UDP=dgram). */
  readonly engine?: UdpEngine;
}

export interface UdpStats {
  readonly received: number;
  readonly sent: number;
  readonly sendErrors: number;
}

/** One bound UDP socket: bytes in with the sender's address, bytes out, send errors counted. */
export interface UdpSocket {
  readonly local: PeerAddress;
  readonly stats: UdpStats;
  onDatagram: DatagramHandler;
  send(peer: PeerAddress, data: Uint8Array): void;
  /** The socket buffer sizes the kernel granted (Linux reports twice the value set). */
  bufferSizes(): { readonly recv: number; readonly send: number };
  /** Stops receiving, drains queued sends for at most CLOSE_DRAIN_MS, then closes. */
  close(): Promise<void>;
}
