#!/usr/bin/env node
// The `coaps-edge` command. It runs the start-up bundle (bundle.mjs) when one was built and
// nothing it was built from has changed since (fresh-bundle.mjs): ~50 MB less RSS than running
// the TypeScript through tsx (issue 7). Otherwise — no bundle, a stale one, or
// COAPS_EDGE_FROM_SOURCE=1 — it runs src/ through tsx as before (see README).
import { setFlagsFromString } from "node:v8";
import { freshBundle } from "./fresh-bundle.mjs";

// V8 lets the old generation grow to ~2–4× what survived its last full GC before collecting it
// again. An idle DTLS session keeps ~1.4 kB of heap, but each handshake leaves garbage whose
// native memory (OpenSSL contexts of record keys the hot-key LRU dropped, crypto objects) V8
// does not see: after a burst of 100,000 handshakes that garbage held ~200 MB of malloc heap
// until the next full GC. Growing by 20 % per GC keeps it collected as sessions pile up:
// 100,000 idle sessions in 320 instead of 500–580 MB RSS, request and handshake CPU unchanged
// within noise (bench/micro/idle-agent.ts, dtls-request-path.ts, handshake-server.ts; issue 7).
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
