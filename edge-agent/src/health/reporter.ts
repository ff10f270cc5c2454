/**
 * Sends the gateway health report to the Worker on a schedule: POST {url}/v1/health with the
 * gateway token (the same key and token source as the forwarder, forward/token-source.ts).
 * Best effort: a failed report is counted and logged, never thrown — the agent serves devices
 * whether or not the cloud hears about it. Reports do not overlap (a slow one skips a tick).
 */
import { GatewayTokenSource } from "../forward/token-source.js";
import type { GatewayHealthReport } from "./report.js";

export interface HealthReporterOptions {
  /** Base URL of the Worker. */
  readonly url: string;
  readonly gatewayId: string;
  /** Ed25519 private key (base64url seed). */
  readonly gatewayKey: string | Uint8Array;
  /** Builds the report (reads the OTBR if configured). */
  readonly collect: () => Promise<GatewayHealthReport>;
  /** Between reports; the first goes out at start(). */
  readonly intervalMs: number;
  /** A report slower than this is abandoned; default 10 000 ms. */
  readonly timeoutMs?: number;
  readonly fetch?: typeof fetch;
  readonly now?: () => number;
  readonly logger?: { warn(obj: object, msg?: string): void; debug?(obj: object, msg?: string): void };
}

export interface HealthReporterStats {
  sent: number;
  failed: number;
  /** The last failure in plain words (undefined after a success). */
  lastError: string | undefined;
}

export class HealthReporter {
  readonly stats: HealthReporterStats = { sent: 0, failed: 0, lastError: undefined };
  readonly #o: HealthReporterOptions;
  readonly #tokens: GatewayTokenSource;
  readonly #endpoint: string;
  #timer: NodeJS.Timeout | undefined;
  #running: Promise<boolean> | undefined;

  constructor(options: HealthReporterOptions) {
    this.#o = options;
    this.#endpoint = `${options.url.replace(/\/+$/, "")}/v1/health`;
    this.#tokens = new GatewayTokenSource({ gatewayId: options.gatewayId, gatewayKey: options.gatewayKey, ...(options.now && { now: options.now }) });
  }

  /** Reports now, then every intervalMs (the timer does not keep the process alive). */
  start(): void {
    if (this.#timer) return;
    void this.reportNow();
    this.#timer = setInterval(() => void this.reportNow(), this.#o.intervalMs);
    this.#timer.unref();
  }

  /** Sends one report; resolves whether the Worker accepted it. Never rejects. */
  reportNow(): Promise<boolean> {
    return (this.#running ??= this.#send().finally(() => (this.#running = undefined)));
  }

  async #send(): Promise<boolean> {
    const f = this.#o.fetch ?? globalThis.fetch;
    try {
      const report = await this.#o.collect();
      const res = await f(this.#endpoint, {
        method: "POST",
        headers: { authorization: `Bearer ${this.#tokens.current()}`, "content-type": "application/json" },
        body: JSON.stringify(report),
        signal: AbortSignal.timeout(this.#o.timeoutMs ?? 10_000),
      });
      if (!res.ok) {
        const detail = (await res.text().catch(() => "")).slice(0, 200);
        throw new Error(`HTTP ${res.status} ${detail}`);
      }
      this.stats.sent++;
      this.stats.lastError = undefined;
      this.#o.logger?.debug?.({ url: this.#endpoint }, "health report sent");
      return true;
    } catch (e) {
      this.stats.failed++;
      this.stats.lastError = (e as Error).message;
      this.#o.logger?.warn({ url: this.#endpoint, err: this.stats.lastError }, "health report failed");
      return false;
    }
  }

  /** Stops the schedule and waits for a report in flight. */
  async stop(): Promise<void> {
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = undefined;
    await this.#running;
  }
}
