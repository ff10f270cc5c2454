/**
 * What a route file imports (`@coaps-edge/cloud/resource`): `defineResource` and the error to
 * throw. Kept apart from lib.ts, which imports the generated registry and thus every route file.
 */
export { defineResource, isResource } from "./define-resource.js";
export type {
  AnyMethodSpec,
  MethodSpec,
  Resource,
  ResourceAttributes,
  ResourceDefinition,
  ResourceRequest,
  ResourceResult,
  ResponseCodeText,
  Schema,
} from "./define-resource.js";
export { ResourceError } from "./errors.js";
