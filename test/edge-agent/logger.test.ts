/**
 * The agent's buffered logger (edge-agent/src/cli/logger.ts): lines are batched off the event
 * loop, yet none waits longer than LOG_FLUSH_MS, and none is lost when the process exits,
 * normally or by an uncaught error. Each case runs in a child process and reads its stderr.
 */
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { LOG_FLUSH_MS } from "../../edge-agent/src/cli/logger.js";

const LOGGER = fileURLToPath(new URL("../../edge-agent/src/cli/logger.ts", import.meta.url));

/** Runs `body` (ES module code with `log`, a buffered info logger, in scope) in a child; its stderr lines with their arrival times. */
function runChild(body: string): Promise<{ lines: { at: number; msg: string }[]; code: number | null }> {
  const source = `import { createLogger, flushLoggerSync } from ${JSON.stringify(LOGGER)};\nconst log = createLogger("info", "test", { buffered: true });\n${body}`;
  const child = spawn(process.execPath, ["--import", "tsx", "--input-type=module", "-e", source], { stdio: ["ignore", "ignore", "pipe"] });
  const start = Date.now();
  const lines: { at: number; msg: string }[] = [];
  let rest = "";
  child.stderr.setEncoding("utf8");
  child.stderr.on("data", (chunk: string) => {
    const parts = (rest + chunk).split("\n");
    rest = parts.pop() ?? "";
    for (const p of parts) {
      try {
        lines.push({ at: Date.now() - start, msg: (JSON.parse(p) as { msg: string }).msg });
      } catch {
        lines.push({ at: Date.now() - start, msg: `raw: ${p}` });
      }
    }
  });
  return new Promise((resolve) => child.on("close", (code) => resolve({ lines, code })));
}

describe("the agent's buffered logger", () => {
  it("writes a lone line within LOG_FLUSH_MS although the batch is far from full", async () => {
    // One line, then 1.5 s of nothing: only the periodic flush can write it before exit.
    const { lines, code } = await runChild(`const t0 = Date.now(); log.info("lone"); setTimeout(() => { process.stderr.write(JSON.stringify({ msg: "waited " + (Date.now() - t0) }) + "\\n"); }, 1500);`);
    assert.equal(code, 0);
    const lone = lines.find((l) => l.msg === "lone");
    const marker = lines.find((l) => l.msg.startsWith("waited"));
    assert.ok(lone && marker, JSON.stringify(lines));
    assert.ok(lone.at < marker.at, "the line came out during the wait, not at exit");
    assert.ok(marker.at - lone.at > 1500 - LOG_FLUSH_MS - 300, `written ${marker.at - lone.at} ms before the marker`);
  });

  it("loses nothing at exit: many lines then process.exit(), and lines before an uncaught error", async () => {
    const many = await runChild(`for (let i = 0; i < 5000; i++) log.info({ i }, "line " + i); process.exit(3);`);
    assert.equal(many.code, 3);
    assert.equal(many.lines.filter((l) => l.msg.startsWith("line ")).length, 5000);
    assert.equal(many.lines.at(-1)?.msg, "line 4999", "in order, the last one included");

    const crash = await runChild(`log.info("before the error"); setTimeout(() => { throw new Error("boom"); }, 10);`);
    assert.notEqual(crash.code, 0);
    assert.ok(crash.lines.some((l) => l.msg === "before the error"), JSON.stringify(crash.lines));
  });

  it("flushLoggerSync puts the lines logged so far before a line written to stderr directly", async () => {
    const { lines } = await runChild(`log.info("registry loaded"); log.info("listener up"); flushLoggerSync(log); process.stderr.write(JSON.stringify({ msg: "listening on" }) + "\\n"); setTimeout(() => {}, 300);`);
    assert.deepEqual(lines.map((l) => l.msg), ["registry loaded", "listener up", "listening on"]);
  });
});
