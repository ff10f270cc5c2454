/**
 * Shared by the examples: run `main` when the file is executed directly (not when a test
 * imports it), print errors to stderr and exit 1 on failure.
 */
import { pathToFileURL } from "node:url";

export function runIfMain(meta: ImportMeta, main: (args: string[]) => Promise<void>): void {
  const entry = process.argv[1];
  if (entry === undefined || meta.url !== pathToFileURL(entry).href) return;
  main(process.argv.slice(2)).catch((e: unknown) => {
    console.error(e instanceof Error ? `${e.name}: ${e.message}` : String(e));
    process.exitCode = 1;
  });
}
