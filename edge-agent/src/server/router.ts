/**
 * Resources by path: exact segments and `{param}` segments ("/sensors/{id}/temperature").
 * A segment tree: exact children win over a parameter child at the same depth, with
 * backtracking so "/a/{x}/c" and "/a/b/d" can both match what they should.
 */
import type { ResourceDefinition } from "./types.js";

export interface RouteMatch {
  readonly template: string;
  readonly resource: ResourceDefinition;
  readonly params: Readonly<Record<string, string>>;
}

/** The parameters of a route without `{param}` segments: one frozen object for every match. */
export const NO_PARAMS: Readonly<Record<string, string>> = Object.freeze({});

interface Node {
  readonly exact: Map<string, Node>;
  param: { readonly name: string; readonly node: Node } | undefined;
  resource: ResourceDefinition | undefined;
  template: string | undefined;
}

const newNode = (): Node => ({ exact: new Map(), param: undefined, resource: undefined, template: undefined });

/** Splits "/a/b" into ["a", "b"]; "/" and "" are the root ([]). */
export function splitPath(path: string): string[] {
  const p = path.startsWith("/") ? path.slice(1) : path;
  return p === "" ? [] : p.split("/");
}

const PARAM = /^\{([A-Za-z_][A-Za-z0-9_]*)\}$/;

export class Router {
  readonly #root = newNode();
  readonly #templates = new Map<string, ResourceDefinition>();

  /** Registered templates and their resources, in registration order. */
  entries(): IterableIterator<[string, ResourceDefinition]> {
    return this.#templates.entries();
  }

  /** Adds a resource; throws Error if the template is already taken or malformed. */
  add(template: string, resource: ResourceDefinition): void {
    const segments = splitPath(template);
    const canonical = "/" + segments.join("/");
    if (this.#templates.has(canonical)) throw new Error(`resource already registered: ${canonical}`);
    let node = this.#root;
    for (const seg of segments) {
      const m = PARAM.exec(seg);
      if (m) {
        const name = m[1] as string;
        if (node.param && node.param.name !== name) {
          throw new Error(`conflicting parameter names at ${canonical}: {${node.param.name}} vs {${name}}`);
        }
        node.param ??= { name, node: newNode() };
        node = node.param.node;
      } else {
        if (seg.includes("{") || seg.includes("}")) throw new Error(`malformed path segment: ${seg}`);
        let next = node.exact.get(seg);
        if (!next) {
          next = newNode();
          node.exact.set(seg, next);
        }
        node = next;
      }
    }
    node.resource = resource;
    node.template = canonical;
    this.#templates.set(canonical, resource);
  }

  /** Removes a resource by template; returns whether it existed. */
  remove(template: string): boolean {
    const canonical = "/" + splitPath(template).join("/");
    if (!this.#templates.delete(canonical)) return false;
    const node = this.#find(splitPath(template));
    if (node) {
      node.resource = undefined;
      node.template = undefined;
    }
    return true;
  }

  /** The resource for a request path, with its parameters, or undefined. */
  match(path: readonly string[]): RouteMatch | undefined {
    const values: string[] = [];
    const node = this.#walk(this.#root, path, 0, values);
    if (!node?.resource || node.template === undefined) return undefined;
    if (values.length === 0) return { template: node.template, resource: node.resource, params: NO_PARAMS };
    const params: Record<string, string> = {};
    const names = splitPath(node.template).map((s) => PARAM.exec(s)?.[1]).filter((n): n is string => n !== undefined);
    names.forEach((n, i) => (params[n] = values[i] as string));
    return { template: node.template, resource: node.resource, params };
  }

  #walk(node: Node, path: readonly string[], i: number, values: string[]): Node | undefined {
    if (i === path.length) return node.resource ? node : undefined;
    const seg = path[i] as string;
    const exact = node.exact.get(seg);
    if (exact) {
      const found = this.#walk(exact, path, i + 1, values);
      if (found) return found;
    }
    if (node.param) {
      values.push(seg);
      const found = this.#walk(node.param.node, path, i + 1, values);
      if (found) return found;
      values.pop();
    }
    return undefined;
  }

  #find(segments: readonly string[]): Node | undefined {
    let node: Node | undefined = this.#root;
    for (const seg of segments) {
      if (!node) return undefined;
      const m = PARAM.exec(seg);
      node = m ? node.param?.node : node.exact.get(seg);
    }
    return node;
  }
}
