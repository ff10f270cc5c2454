/*
 * Optional native SHA-256, HMAC-SHA256 and TLS 1.2 P_SHA256 for the DTLS handshake (issue 7).
 * A handshake hashes little (≈ 40 block compressions: the PRF for the master secret, the key
 * block and both Finished, RFC 5246 §5; the transcript, §7.4.9; the cookie MAC, RFC 6347
 * §4.2.1), but in JS each compression costs ≈ 0.5 µs plus a hash object and a DataView per
 * HMAC, ≈ 30 % of the agent's main thread per handshake in the hs-psk bench. Here a whole
 * P_SHA256 is one call, on OpenSSL's block function (SHA-NI/AVX2 where the CPU has them).
 * OpenSSL is the node binary's own (its symbols are exported; headers come with node's).
 * The @noble/hashes engine (edge-agent/src/dtls/crypto/sha256-noble.ts) is the fallback.
 *
 * No native memory is held: a running hash or an HMAC key's midstates live in a Uint8Array the
 * caller owns (STATE_BYTES per hash), which V8 frees and the caller wipes. States are copied in
 * and out with memcpy, so the array may sit at any offset. The low-level SHA256_* functions are
 * deprecated in OpenSSL 3.0 in favour of EVP, whose per-call provider dispatch and context
 * allocation are what a 1–3 block hash cannot afford; they are still exported and supported.
 */
#define OPENSSL_SUPPRESS_DEPRECATED
#include <node_api.h>
#include "napi-bytes.h"
#include <openssl/crypto.h>
#include <openssl/sha.h>
#include <string.h>

#define BLOCK 64
#define DIGEST 32
/* At most this many parts per MAC or PRF seed (label, randoms, hashes): no call needs more. */
#define MAX_PARTS 6

typedef struct {
  const unsigned char* data;
  size_t length;
} Part;

/* A state argument: a Uint8Array of at least `count` SHA256_CTX. */
static unsigned char* states_of(napi_env env, napi_value v, size_t count) {
  unsigned char* p;
  size_t length;
  if (!bytes_of(env, v, &p, &length)) return NULL;
  if (length < count * sizeof(SHA256_CTX)) {
    napi_throw_range_error(env, NULL, "state array too short");
    return NULL;
  }
  return p;
}

static int int_of(napi_env env, napi_value v, int32_t* out) {
  if (napi_get_value_int32(env, v, out) != napi_ok) {
    napi_throw_type_error(env, NULL, "expected an integer");
    return 0;
  }
  return 1;
}

/* argv[from..argc) as parts. */
static int parts_of(napi_env env, napi_value* argv, size_t from, size_t argc, Part* parts, size_t* count) {
  if (argc - from > MAX_PARTS) {
    napi_throw_range_error(env, NULL, "too many parts");
    return 0;
  }
  for (size_t i = from; i < argc; i++) {
    unsigned char* p;
    if (!bytes_of(env, argv[i], &p, &parts[i - from].length)) return 0;
    parts[i - from].data = p;
  }
  *count = argc - from;
  return 1;
}

/* H(state ‖ parts) into out[32]; `state` is left as it was. */
static void finish_from(const unsigned char* state, const Part* parts, size_t count, unsigned char* out) {
  SHA256_CTX c;
  memcpy(&c, state, sizeof c);
  for (size_t i = 0; i < count; i++) SHA256_Update(&c, parts[i].data, parts[i].length);
  SHA256_Final(out, &c);
  OPENSSL_cleanse(&c, sizeof c);
}

/*
 * HMAC(K, parts) from K's midstates (RFC 2104 §4): keyState holds H's state after K ^ ipad and
 * after K ^ opad, one SHA256_CTX each.
 */
static void hmac_from(const unsigned char* key_state, const Part* parts, size_t count, unsigned char* out) {
  unsigned char inner[DIGEST];
  Part p = {inner, DIGEST};
  finish_from(key_state, parts, count, inner);
  finish_from(key_state + sizeof(SHA256_CTX), &p, 1, out);
  OPENSSL_cleanse(inner, sizeof inner);
}

/* init(state): the empty message. */
static napi_value Init(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  unsigned char* state = argc == 1 ? states_of(env, argv[0], 1) : NULL;
  if (state == NULL) return NULL;
  SHA256_CTX c;
  SHA256_Init(&c);
  memcpy(state, &c, sizeof c);
  return NULL;
}

/* update(state, data, start, end): feeds data[start..end). */
static napi_value Update(napi_env env, napi_callback_info info) {
  size_t argc = 4;
  napi_value argv[4];
  unsigned char* data;
  size_t length;
  int32_t start, end;
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  unsigned char* state = argc == 4 ? states_of(env, argv[0], 1) : NULL;
  if (state == NULL || !bytes_of(env, argv[1], &data, &length) || !int_of(env, argv[2], &start) || !int_of(env, argv[3], &end)) return NULL;
  if (start < 0 || end < start || (size_t)end > length) {
    napi_throw_range_error(env, NULL, "bad range");
    return NULL;
  }
  SHA256_CTX c;
  memcpy(&c, state, sizeof c);
  SHA256_Update(&c, data + start, (size_t)(end - start));
  memcpy(state, &c, sizeof c);
  OPENSSL_cleanse(&c, sizeof c);
  return NULL;
}

/* digestInto(state, out, at): the digest of everything fed so far to out[at..at+32]; the state goes on. */
static napi_value DigestInto(napi_env env, napi_callback_info info) {
  size_t argc = 3;
  napi_value argv[3];
  unsigned char* out;
  size_t out_length;
  int32_t at;
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  unsigned char* state = argc == 3 ? states_of(env, argv[0], 1) : NULL;
  if (state == NULL || !bytes_of(env, argv[1], &out, &out_length) || !int_of(env, argv[2], &at)) return NULL;
  if (at < 0 || (size_t)at + DIGEST > out_length) {
    napi_throw_range_error(env, NULL, "no room for the digest");
    return NULL;
  }
  finish_from(state, NULL, 0, out + at);
  return NULL;
}

/* hmacKey(keyState, key): keyState (2 states) gets H's state after K ^ ipad and after K ^ opad (RFC 2104 §2). */
static napi_value HmacKey(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  unsigned char* key;
  size_t key_length;
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  unsigned char* key_state = argc == 2 ? states_of(env, argv[0], 2) : NULL;
  if (key_state == NULL || !bytes_of(env, argv[1], &key, &key_length)) return NULL;
  unsigned char k[BLOCK] = {0}, pad[BLOCK];
  /* Keys longer than the block are hashed first; shorter ones are zero-padded (RFC 2104 §2). */
  if (key_length > BLOCK) SHA256(key, key_length, k);
  else if (key_length > 0) memcpy(k, key, key_length);
  SHA256_CTX c;
  for (int i = 0; i < 2; i++) {
    unsigned char x = i == 0 ? 0x36 : 0x5c;
    for (int j = 0; j < BLOCK; j++) pad[j] = k[j] ^ x;
    SHA256_Init(&c);
    SHA256_Update(&c, pad, BLOCK);
    memcpy(key_state + i * sizeof c, &c, sizeof c);
  }
  OPENSSL_cleanse(k, sizeof k);
  OPENSSL_cleanse(pad, sizeof pad);
  OPENSSL_cleanse(&c, sizeof c);
  return NULL;
}

/* hmacInto(keyState, out, at, length, ...parts): the first `length` (≤ 32) bytes of HMAC(K, parts) to out[at..]. */
static napi_value HmacInto(napi_env env, napi_callback_info info) {
  size_t argc = 4 + MAX_PARTS + 1;
  napi_value argv[4 + MAX_PARTS + 1];
  unsigned char *out, mac[DIGEST];
  size_t out_length, count;
  int32_t at, length;
  Part parts[MAX_PARTS];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  unsigned char* key_state = argc >= 4 ? states_of(env, argv[0], 2) : NULL;
  if (key_state == NULL || !bytes_of(env, argv[1], &out, &out_length) || !int_of(env, argv[2], &at) || !int_of(env, argv[3], &length) ||
      !parts_of(env, argv, 4, argc, parts, &count)) return NULL;
  if (at < 0 || length < 0 || length > DIGEST || (size_t)at + (size_t)length > out_length) {
    napi_throw_range_error(env, NULL, "no room for the MAC");
    return NULL;
  }
  hmac_from(key_state, parts, count, mac);
  memcpy(out + at, mac, (size_t)length);
  OPENSSL_cleanse(mac, sizeof mac);
  return NULL;
}

/*
 * pSha256Into(keyState, out, ...seed): fills `out` with P_SHA256(K, seed) (RFC 5246 §5):
 *   A(1) = HMAC(K, seed), A(i+1) = HMAC(K, A(i)); output = HMAC(K, A(1) ‖ seed) ‖ HMAC(K, A(2) ‖ seed) ‖ ...
 */
static napi_value PSha256Into(napi_env env, napi_callback_info info) {
  size_t argc = 2 + MAX_PARTS + 1;
  napi_value argv[2 + MAX_PARTS + 1];
  unsigned char *out, a[DIGEST], block[DIGEST];
  size_t out_length, count;
  Part parts[MAX_PARTS + 1];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  unsigned char* key_state = argc >= 2 ? states_of(env, argv[0], 2) : NULL;
  /* parts[0] is A(i), the seed follows it */
  if (key_state == NULL || !bytes_of(env, argv[1], &out, &out_length) || !parts_of(env, argv, 2, argc, parts + 1, &count)) return NULL;
  Part a_part = {a, DIGEST};
  parts[0] = a_part;
  hmac_from(key_state, parts + 1, count, a);
  for (size_t at = 0; at < out_length; at += DIGEST) {
    size_t n = out_length - at < DIGEST ? out_length - at : DIGEST;
    hmac_from(key_state, parts, count + 1, block);
    memcpy(out + at, block, n);
    if (at + DIGEST < out_length) hmac_from(key_state, &a_part, 1, a);
  }
  OPENSSL_cleanse(a, sizeof a);
  OPENSSL_cleanse(block, sizeof block);
  return NULL;
}

NAPI_MODULE_INIT(/* napi_env env, napi_value exports */) {
  napi_value state_bytes;
  napi_create_uint32(env, (uint32_t)sizeof(SHA256_CTX), &state_bytes);
  napi_property_descriptor props[] = {
      {"STATE_BYTES", NULL, NULL, NULL, NULL, state_bytes, napi_enumerable, NULL},
      {"init", NULL, Init, NULL, NULL, NULL, napi_default, NULL},
      {"update", NULL, Update, NULL, NULL, NULL, napi_default, NULL},
      {"digestInto", NULL, DigestInto, NULL, NULL, NULL, napi_default, NULL},
      {"hmacKey", NULL, HmacKey, NULL, NULL, NULL, napi_default, NULL},
      {"hmacInto", NULL, HmacInto, NULL, NULL, NULL, napi_default, NULL},
      {"pSha256Into", NULL, PSha256Into, NULL, NULL, NULL, napi_default, NULL},
  };
  napi_define_properties(env, exports, sizeof(props) / sizeof(props[0]), props);
  return exports;
}
