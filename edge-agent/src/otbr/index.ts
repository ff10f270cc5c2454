/** OpenThread Border Router REST API: the Thread part of the gateway health report (optional). */
export {
  OTBR_DEFAULT_DIAGNOSTICS_TIMEOUT_MS,
  OTBR_DEFAULT_TIMEOUT_MS,
  OTBR_DEFAULT_URL,
  OTBR_MAX_BODY_BYTES,
  OtbrClient,
  readThreadStatus,
  type OtbrClientOptions,
} from "./client.js";
export { countDiagnostics, normaliseKeys, parseHex64, parseLeaderData, parseNode, parseRloc16, parseRole, type DiagnosticCounts, type NodeFields } from "./parse.js";
export type * from "./types.js";
