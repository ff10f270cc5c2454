/**
 * Which UDP engine the generator's sockets run on — chosen by the bench (`--gen-udp`), never by
 * COAPS_EDGE_UDP: that variable picks our agent's engine for before/after runs, and the load
 * must stay the same while the server under test changes.
 *
 *   native  the agent's batched socket (edge-agent/native/udp: recvmmsg/sendmmsg, one JS call per
 *           batch, sends copied into a shared arena): ≈3 µs per echo against ≈16 µs for
 *           node:dgram (bench/micro/udp-echo.ts), so one core drives far more requests.
 *   dgram   node:dgram, each socket `connect()`ed to its target. Always available.
 *
 * The addon comes from udp-native-addon.ts's loader that ignores COAPS_EDGE_UDP; the socket class
 * itself (NativeUdpSocket) is the agent's, unchanged.
 */
import { loadNativeUdp, type NativeUdp } from "../../edge-agent/src/transport/udp-native-addon.js";

export type GenUdpEngine = "native" | "dgram";

/** The addon for the generator's sockets (built by `npm ci`), whatever COAPS_EDGE_UDP says; undefined when not built. */
export const genNativeUdp: NativeUdp | undefined = loadNativeUdp();

/** Engines the generator can run here, the default first. */
export const GEN_UDP_ENGINES: readonly GenUdpEngine[] = genNativeUdp ? ["native", "dgram"] : ["dgram"];

export const DEFAULT_GEN_UDP: GenUdpEngine = GEN_UDP_ENGINES[0]!;

/** Throws when `engine` cannot run in this process (asked for native without the addon). */
export function requireGenUdp(engine: GenUdpEngine): NativeUdp | undefined {
  if (engine === "dgram") return undefined;
  if (!genNativeUdp) throw new Error("--gen-udp native: the native UDP addon is not built (npm run build:native -w edge-agent)");
  return genNativeUdp;
}

/**
 * The engine a job's sessions run on. Only the load mode (a few long-lived sessions, thousands
 * of datagrams each) takes the requested one; the modes that open a socket per session use
 * node:dgram, because a native socket is dear to open: its mmap'd arenas (≈2.6 MiB of address
 * space, ≈20 KiB RSS) count as V8 external memory, so every few opens trigger a GC, and open +
 * close cost ≈0.8 ms of CPU against ≈0.2 ms for dgram: twice the generator's whole PSK
 * handshake (≈0.4 ms), far more than the native engine saves on its ten datagrams. Idle jobs
 * hold up to 20,000 sockets at once and time nothing.
 */
export function sessionUdp(kind: "load" | "hs" | "idle", requested: GenUdpEngine): GenUdpEngine {
  return kind === "load" ? requested : "dgram";
}

/** One line for the bench's notes. */
export function describeGenUdp(engine: GenUdpEngine): string {
  return engine === "native"
    ? "native (edge-agent/native/udp: recvmmsg/sendmmsg; --gen-udp dgram selects node:dgram)"
    : `node:dgram, connected sockets (${genNativeUdp ? "--gen-udp dgram" : "the native addon is not built: npm run build:native -w edge-agent"})`;
}
