/**
 * Zod issues as one-line diagnostics ("payload.celsius: Invalid input: expected number, received
 * string"). zod/mini ships no messages by default; the English locale is passed per parse call
 * (no global `z.config`, so the edge's embedded app changes nothing for other zod users).
 */
import en from "zod/v4/locales/en.js";
import type { $ZodIssue } from "zod/v4/core";

/** Parse context giving English messages. */
export const ENGLISH = { error: en().localeError } as const;

/** `prefix.path: message; ...`, at most `max` issues. */
export function formatIssues(issues: readonly $ZodIssue[], prefix?: string, max = 10): string {
  return issues
    .slice(0, max)
    .map((i) => `${[...(prefix ? [prefix] : []), ...i.path.map(String)].join(".") || "(root)"}: ${i.message}`)
    .join("; ");
}
