/**
 * pino for the CLI, always on stderr (stdout carries response bodies). Levels follow
 * libcoap's `-v` numbers: 0–2 fatal, 3 error, 4 warning, 5–6 info, 7 debug, 8+ trace.
 */
import { pino, type Logger } from "pino";
import type { LogLevel } from "@coaps-edge/shared";

/** A pino level for a libcoap verbosity number. */
export function levelFromVerbosity(v: number): LogLevel {
  if (v <= 2) return "fatal";
  if (v === 3) return "error";
  if (v === 4) return "warn";
  if (v <= 6) return "info";
  if (v === 7) return "debug";
  return "trace";
}

/** How long a buffered logger holds lines at most before writing them. */
export const LOG_FLUSH_MS = 200;
/** A buffered logger writes once this many bytes are waiting (or at LOG_FLUSH_MS). */
const LOG_BATCH_BYTES = 4096;

/**
 * A logger writing JSON lines to stderr (no worker thread, nothing lost on a normal exit or an
 * uncaught error: pino flushes its destination on process exit).
 *
 * `buffered` (the agent): lines are gathered and written together, LOG_BATCH_BYTES at a time or
 * every LOG_FLUSH_MS, off the event loop. At the default level the agent logs every DTLS session
 * it establishes; written synchronously, one write(2) per line cost a gateway taking thousands
 * of handshakes a second 20–50 µs of CPU per handshake (coap-load, issue 7). Unbuffered (the
 * one-shot client commands): each line is written at once.
 */
export function createLogger(level: LogLevel, name = "coaps-edge", options: { readonly buffered?: boolean } = {}): Logger {
  const destination = options.buffered
    ? pino.destination({ fd: 2, sync: false, minLength: LOG_BATCH_BYTES, periodicFlush: LOG_FLUSH_MS })
    : pino.destination({ fd: 2, sync: true });
  return pino({ name, level, base: { name } }, destination);
}

/**
 * Writes out what a buffered logger holds, now. Before a line the CLI writes to stderr directly
 * ("listening on …", a fatal error's summary), so that the log lines logged before it (start-up:
 * the cloud registry, the listeners) come out before it, in order.
 */
export function flushLoggerSync(log: Logger): void {
  const stream = (log as unknown as Record<symbol, { flushSync?: () => void } | undefined>)[pino.symbols.streamSym];
  try {
    stream?.flushSync?.();
  } catch {
    // a sync destination has nothing to flush; a closed one nothing to give
  }
}
