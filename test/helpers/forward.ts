// A ForwardRequest as the agent hands one to a cloud forwarder: GET /hello from a PSK device.
import { Method } from "@coaps-edge/shared";
import type { ForwardRequest } from "../../edge-agent/src/forward/index.js";

export const forwardRequest = (over: Partial<ForwardRequest> = {}): ForwardRequest => ({
  method: Method.GET,
  uriPath: ["hello"],
  uriQuery: [],
  options: [],
  payload: new Uint8Array(0),
  peer: { address: "fd00::5", port: 5683 },
  identity: { kind: "psk", identity: "demo" },
  ...over,
});
