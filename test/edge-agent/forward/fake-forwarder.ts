/** A CloudForwarder stand-in that records calls, with a registry and answers the test controls. */
import { Code, REGISTRY_VERSION, utf8Encode, type Registry, type RegistryResource } from "@coaps-edge/shared";
import type { CloudForwarder, ForwardRequest, ForwardResult, RegistryResult } from "../../../edge-agent/src/forward/index.js";

export class FakeForwarder implements CloudForwarder {
  readonly requests: ForwardRequest[] = [];
  registryFetches = 0;
  closed = false;
  /** The registry fetchRegistry returns; undefined → a 5.03-style failure. */
  resources: RegistryResource[] | undefined;
  /** The answer to forward(); default 2.05 "cloud <path>". */
  answer: (req: ForwardRequest) => ForwardResult | Promise<ForwardResult> = (req) => ({
    code: Code.Content,
    options: [],
    payload: utf8Encode(`cloud /${req.uriPath.join("/")}`),
  });
  /** Resolves pending registry fetches when set (to test single flight). */
  registryGate: Promise<void> | undefined;

  constructor(resources?: RegistryResource[]) {
    this.resources = resources;
  }

  async forward(request: ForwardRequest): Promise<ForwardResult> {
    this.requests.push(request);
    return this.answer(request);
  }

  async fetchRegistry(): Promise<RegistryResult> {
    this.registryFetches++;
    await this.registryGate;
    if (this.resources === undefined) return { ok: false, failure: { kind: "unreachable", message: "cloud unreachable: ECONNREFUSED" } };
    const registry: Registry = { version: REGISTRY_VERSION, resources: this.resources };
    return { ok: true, registry };
  }

  async close(): Promise<void> {
    this.closed = true;
  }
}
