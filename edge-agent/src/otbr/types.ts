/**
 * What the agent learns from the OpenThread Border Router (OTBR) REST API on its host, as values.
 * The OTBR is optional: every read yields either a status or a typed `OtbrUnavailable`, never an
 * exception, so the health report simply leaves the Thread fields out when there is no OTBR.
 */

/**
 * Thread device role as `/node/state` reports it (ot-br-posix openapi.yaml: disabled, detached,
 * child, router, leader). Older otbr-agent builds sent the numeric `otDeviceRole` (0..4).
 */
export type ThreadRole = "disabled" | "detached" | "child" | "router" | "leader";

/** Thread Leader Data (Thread 1.x §5.18.5 Leader Data TLV), as `/node/leader-data` returns it. */
export interface ThreadLeaderData {
  readonly partitionId: number;
  readonly weighting: number;
  readonly dataVersion: number;
  readonly stableDataVersion: number;
  readonly leaderRouterId: number;
}

/** The Thread state of the border router, from `/node` (or its per-field endpoints). */
export interface ThreadNodeStatus {
  readonly available: true;
  /** "unknown" when the OTBR answered but sent a role this client does not know. */
  readonly role: ThreadRole | "unknown";
  readonly networkName?: string;
  readonly partitionId?: number;
  readonly leaderData?: ThreadLeaderData;
  /** RLOC16 as a number (newer OTBRs send it as a "0xf000" string). */
  readonly rloc16?: number;
  /** IEEE 802.15.4 extended address, lower-case hex (16 digits). */
  readonly extAddress?: string;
  /** Extended PAN ID, lower-case hex (16 digits). */
  readonly extPanId?: string;
  /** Routers in the partition (`NumOfRouter` / `routerCount`). */
  readonly routerCount?: number;
  /**
   * Direct radio neighbours of this node from `/diagnostics`: routers it has a link to (Route64 TLV
   * entries with a non-zero link quality) plus its children (Child Table TLV). Absent when the
   * diagnostics were not asked for, not answered, or did not include this node.
   */
  readonly neighbourCount?: number;
  /** Nodes that answered the network diagnostic query (entries in `/diagnostics`). */
  readonly diagnosedNodes?: number;
  /** Which endpoint(s) the status came from: `/node` in one call, or the per-field endpoints. */
  readonly source: "node" | "node-fields";
}

/** Why the OTBR could not be read. */
export type OtbrUnavailableReason =
  /** the configured base URL is not an http(s) URL */
  | "bad-url"
  /** nothing listens there (ECONNREFUSED, no route, DNS failure): no OTBR, or otbr-agent is down */
  | "unreachable"
  /** no complete answer within the timeout */
  | "timeout"
  /** an HTTP status other than 200 */
  | "http-error"
  /** an answer that is not the documented JSON shape (or larger than the size cap) */
  | "malformed";

/** A typed "the OTBR is not there (or not usable)": never thrown, always returned. */
export interface OtbrUnavailable {
  readonly available: false;
  readonly reason: OtbrUnavailableReason;
  /** The endpoint path that failed, e.g. "/node". */
  readonly path: string;
  /** A plain-words explanation (for logs and `doctor`). */
  readonly detail: string;
  /** The HTTP status for "http-error". */
  readonly status?: number;
}

/** What a health read yields. */
export type ThreadStatus = ThreadNodeStatus | OtbrUnavailable;

/** The result of one endpoint read. */
export type OtbrResult<T> = { readonly ok: true; readonly value: T } | { readonly ok: false; readonly error: OtbrUnavailable };
