/*
 * Reading a Uint8Array argument in place, shared by the native addons (ccm, sha256). A typed
 * array on the V8 heap (≤ 64 bytes, made with `new Uint8Array`) is moved off it by this call
 * (an allocation and a copy, once per array); Buffers and larger arrays are read where they are.
 */
#ifndef COAPS_EDGE_NAPI_BYTES_H
#define COAPS_EDGE_NAPI_BYTES_H

#include <node_api.h>

/* The bytes of a Uint8Array argument: 1, or 0 with a TypeError thrown. */
static inline int bytes_of(napi_env env, napi_value v, unsigned char** data, size_t* length) {
  napi_typedarray_type type;
  napi_value buffer;
  size_t offset;
  void* p;
  if (napi_get_typedarray_info(env, v, &type, length, &p, &buffer, &offset) != napi_ok || type != napi_uint8_array) {
    napi_throw_type_error(env, NULL, "expected a Uint8Array");
    return 0;
  }
  *data = (unsigned char*)p;
  return 1;
}

#endif
