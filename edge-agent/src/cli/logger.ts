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

/** A logger writing JSON lines to stderr synchronously (no worker thread, nothing lost on exit). */
export function createLogger(level: LogLevel, name = "coaps-edge"): Logger {
  return pino({ name, level, base: { name } }, pino.destination({ fd: 2, sync: true }));
}
