/**
 * `coaps-edge doctor [--config FILE]`: checks a live installation (health/doctor.ts) and prints
 * one line per finding; exit 0 when nothing failed, 1 otherwise. Default config: the installed
 * one, /etc/coaps-edge/agent.json (infra/gateway/install.sh).
 */
import { diagnose, formatFindings, type DoctorOptions } from "../health/doctor.js";
import { ExitCode } from "./exit-codes.js";
import type { CliIo } from "./request-command.js";

export const DEFAULT_CONFIG_FILE = "/etc/coaps-edge/agent.json";

export interface DoctorFlags {
  config?: string;
}

/** Runs the checks; resolves with the exit code. */
export async function runDoctor(flags: DoctorFlags, io: Pick<CliIo, "stdout" | "stderr">, options: DoctorOptions = {}): Promise<number> {
  const findings = await diagnose(flags.config ?? DEFAULT_CONFIG_FILE, options);
  io.stdout.write(`${formatFindings(findings)}\n`);
  const failed = findings.filter((f) => f.status === "fail").length;
  io.stdout.write(failed === 0 ? "doctor: no problems found\n" : `doctor: ${failed} problem${failed === 1 ? "" : "s"} found\n`);
  return failed === 0 ? ExitCode.Ok : ExitCode.Failure;
}
