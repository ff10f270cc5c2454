#!/usr/bin/env node
// The `coaps-edge` command. It runs the start-up bundle (bundle.mjs) when one was built and
// nothing it was built from has changed since (fresh-bundle.mjs): ~50 MB less RSS than running
// the TypeScript through tsx (issue 7). Otherwise — no bundle, a stale one, or
// COAPS_EDGE_FROM_SOURCE=1 — it runs src/ through tsx as before (see README).
import { setFlagsFromString } from "node:v8";
import { freshBundle } from "./fresh-bundle.mjs";

// V8 lets the old generation grow to ~2–4× what survived its last full GC before collecting it
// again, and each handshake leaves JS garbage and native garbage (node:crypto objects, buffers)
// that V8 weighs little or not at all. Growing by 20 % per GC keeps that collected while
// sessions pile up. Since the AES-CCM contexts of keys the hot-key LRU drops are freed at once
// (native/ccm), it is worth less than before, but still (bench/micro/idle-agent.ts, 100,000
// idle sessions, agent from source, one run each): 274 MB RSS (1.53 KiB/session, malloc heap
// 24 MB) with the flag, 361 MB (2.40 KiB/session, malloc heap 64 MB, 50 MB more JS heap)
// without. Request and handshake CPU were unchanged within noise when it was introduced
// (dtls-request-path.ts, handshake-server.ts; issue 7).
// Set here, so the bench and the systemd unit (both start this file) run with the same heap.
setFlagsFromString("--heap-growing-percent=20");

const bundle = process.env["COAPS_EDGE_FROM_SOURCE"] === "1" ? undefined : freshBundle();
let main;
if (bundle) {
  ({ main } = await import(bundle));
} else {
  const { register } = await import("tsx/esm/api");
  register();
  ({ main } = await import("../src/cli/main.ts"));
}
process.exitCode = await main(process.argv.slice(2));
