/**
 * Decoders for the OTBR REST API's JSON (ot-br-posix `src/rest/openapi.yaml`, `json.cpp`), as pure
 * functions of `unknown`. Three generations of otbr-agent are in the field and all are accepted:
 *
 *   2020–21   `/node` keys in PascalCase, `"State": 4` (numeric otDeviceRole)
 *   2021–24   PascalCase, `"State": "leader"`, plus `"BaId"`
 *   2025–     camelCase (`/node` = `/api/node` as application/json): `"role": "leader"`,
 *             `"routerCount"`, `"rloc16": "0xf000"`
 *
 *     GET /node            { State|role, NetworkName, Rloc16, ExtAddress, ExtPanId,
 *                            NumOfRouter|routerCount, LeaderData: { PartitionId, Weighting,
 *                            DataVersion, StableDataVersion, LeaderRouterId }, ... }
 *     GET /node/state      "leader"              GET /node/network-name  "OpenThread-1234"
 *     GET /node/leader-data  LeaderData         GET /node/num-of-router 3
 *     GET /diagnostics     [ { ExtAddress, Rloc16, Route: { IdSequence, RouteData: [ { RouteId,
 *                            LinkQualityOut, LinkQualityIn, RouteCost } ] }, ChildTable: [...],
 *                            LeaderData, ... }, ... ]   (one object per node that answered)
 *
 * Keys are compared after lower-casing their first letter, so both spellings meet one decoder.
 * Fields other than the role are optional: a build that leaves one out still yields a status.
 */
import type { ThreadLeaderData, ThreadRole } from "./types.js";

export type JsonRecord = Readonly<Record<string, unknown>>;

/** The `/node` fields (everything of `ThreadNodeStatus` that one `/node` call can tell). */
export interface NodeFields {
  readonly role: ThreadRole | "unknown";
  readonly networkName?: string;
  readonly leaderData?: ThreadLeaderData;
  readonly rloc16?: number;
  readonly extAddress?: string;
  readonly extPanId?: string;
  readonly routerCount?: number;
}

/** Network diagnostic counts for this node. */
export interface DiagnosticCounts {
  readonly diagnosedNodes: number;
  readonly neighbourCount?: number;
}

/** otDeviceRole order (openthread/include/openthread/thread.h): DISABLED=0 ... LEADER=4. */
const ROLES: readonly ThreadRole[] = ["disabled", "detached", "child", "router", "leader"];

export function isRecord(value: unknown): value is JsonRecord {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** Lower-cases the first letter of every object key, recursively ("LeaderData" → "leaderData"). */
export function normaliseKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(normaliseKeys);
  if (!isRecord(value)) return value;
  const out: Record<string, unknown> = {};
  for (const [key, v] of Object.entries(value)) out[key.charAt(0).toLowerCase() + key.slice(1)] = normaliseKeys(v);
  return out;
}

/** A role from `"leader"` (any case) or the numeric otDeviceRole; undefined if neither. */
export function parseRole(value: unknown): ThreadRole | "unknown" | undefined {
  if (typeof value === "number") return Number.isInteger(value) ? (ROLES[value] ?? "unknown") : "unknown";
  if (typeof value !== "string") return undefined;
  const role = value.trim().toLowerCase();
  return (ROLES as readonly string[]).includes(role) ? (role as ThreadRole) : "unknown";
}

function uint(value: unknown, max: number): number | undefined {
  return typeof value === "number" && Number.isInteger(value) && value >= 0 && value <= max ? value : undefined;
}

/** RLOC16 as a number: 4096, "0x1000" or "1000" (hex) are all accepted. */
export function parseRloc16(value: unknown): number | undefined {
  if (typeof value === "number") return uint(value, 0xffff);
  if (typeof value !== "string" || !/^(0x)?[0-9a-f]{1,4}$/i.test(value)) return undefined;
  return Number.parseInt(value.replace(/^0x/i, ""), 16);
}

/** An 8-byte identifier (extended address, extended PAN ID) as 16 lower-case hex digits, or undefined. */
export function parseHex64(value: unknown): string | undefined {
  if (typeof value !== "string") return undefined;
  const s = value.replace(/^0x/i, "");
  return /^[0-9a-f]{16}$/i.test(s) ? s.toLowerCase() : undefined;
}

/** Leader Data from a normalised object; undefined unless every field is a valid number. */
export function parseLeaderData(value: unknown): ThreadLeaderData | undefined {
  if (!isRecord(value)) return undefined;
  const partitionId = uint(value["partitionId"], 0xffffffff);
  const weighting = uint(value["weighting"], 0xff);
  const dataVersion = uint(value["dataVersion"], 0xff);
  const stableDataVersion = uint(value["stableDataVersion"], 0xff);
  const leaderRouterId = uint(value["leaderRouterId"], 0xff);
  if (partitionId === undefined || weighting === undefined || dataVersion === undefined) return undefined;
  if (stableDataVersion === undefined || leaderRouterId === undefined) return undefined;
  return { partitionId, weighting, dataVersion, stableDataVersion, leaderRouterId };
}

/** `/node` body (already key-normalised) → fields; undefined when it is not a node object. */
export function parseNode(body: unknown): NodeFields | undefined {
  if (!isRecord(body)) return undefined;
  const role = parseRole(body["state"] ?? body["role"]);
  if (role === undefined) return undefined;
  const fields: {
    -readonly [K in keyof NodeFields]: NodeFields[K];
  } = { role };
  if (typeof body["networkName"] === "string") fields.networkName = body["networkName"];
  const leaderData = parseLeaderData(body["leaderData"]);
  if (leaderData) fields.leaderData = leaderData;
  const rloc16 = parseRloc16(body["rloc16"]);
  if (rloc16 !== undefined) fields.rloc16 = rloc16;
  const extAddress = parseHex64(body["extAddress"]);
  if (extAddress) fields.extAddress = extAddress;
  const extPanId = parseHex64(body["extPanId"]);
  if (extPanId) fields.extPanId = extPanId;
  const routerCount = uint(body["numOfRouter"] ?? body["routerCount"], 64);
  if (routerCount !== undefined) fields.routerCount = routerCount;
  return fields;
}

/** The router ID of an RLOC16 (Thread: the upper 6 bits; children carry their parent's). */
function routerIdOf(rloc16: number): number {
  return rloc16 >> 10;
}

/**
 * Counts from a `/diagnostics` body (key-normalised array) for the node `self`: its entry is found
 * by extended address, else by RLOC16. Neighbours are the routers with a link quality above 0
 * in either direction in its Route64 TLV (its own router ID excluded), or its Router Neighbor TLV
 * when there is no route, plus its Child Table entries; a child with neither has one neighbour,
 * its parent. Undefined when the body is not an array.
 */
export function countDiagnostics(body: unknown, self: NodeFields): DiagnosticCounts | undefined {
  if (!Array.isArray(body)) return undefined;
  const entries = body.filter(isRecord);
  const mine =
    (self.extAddress !== undefined ? entries.find((e) => parseHex64(e["extAddress"]) === self.extAddress) : undefined) ??
    (self.rloc16 !== undefined ? entries.find((e) => parseRloc16(e["rloc16"]) === self.rloc16) : undefined);
  if (!mine) return { diagnosedNodes: entries.length };
  const route = isRecord(mine["route"]) ? mine["route"]["routeData"] : undefined;
  const ownRouterId = self.rloc16 !== undefined ? routerIdOf(self.rloc16) : undefined;
  let routers: number | undefined;
  if (Array.isArray(route)) {
    routers = route.filter(
      (r) =>
        isRecord(r) &&
        r["routeId"] !== ownRouterId &&
        ((uint(r["linkQualityIn"], 3) ?? 0) > 0 || (uint(r["linkQualityOut"], 3) ?? 0) > 0),
    ).length;
  } else if (Array.isArray(mine["routerNeighbors"])) {
    routers = mine["routerNeighbors"].length;
  }
  const childList = mine["childTable"] ?? mine["children"];
  const children = Array.isArray(childList) ? childList.length : 0;
  if (routers === undefined && self.role === "child") routers = 1;
  return { diagnosedNodes: entries.length, neighbourCount: (routers ?? 0) + children };
}
