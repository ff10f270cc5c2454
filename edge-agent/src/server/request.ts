/** The CoapRequest handlers receive: one object per request, fields computed once. */
import { utf8Decode, type CoapOption } from "@coaps-edge/shared";
import type { PeerAddress, PeerIdentity } from "../transport/types.js";
import type { CoapRequest, MethodName } from "./types.js";

export class IncomingRequest implements CoapRequest {
  constructor(
    readonly method: MethodName,
    readonly path: readonly string[],
    readonly params: Readonly<Record<string, string>>,
    readonly query: readonly string[],
    readonly options: readonly CoapOption[],
    readonly payload: Uint8Array,
    readonly contentFormat: number | undefined,
    readonly accept: number | undefined,
    readonly token: Uint8Array,
    readonly confirmable: boolean,
    readonly peer: PeerAddress,
    readonly identity: PeerIdentity,
    readonly scheme: "coap" | "coaps",
  ) {}

  queryParam(name: string): string | undefined {
    let found: string | undefined;
    for (const item of this.query) {
      const eq = item.indexOf("=");
      const key = eq < 0 ? item : item.slice(0, eq);
      if (key === name) found = eq < 0 ? "" : item.slice(eq + 1);
    }
    return found;
  }

  text(): string {
    return utf8Decode(this.payload);
  }
}
