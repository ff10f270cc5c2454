/*
 * Optional native AES-128-CCM for the DTLS record path (issue 7). A key handle holds one OpenSSL
 * EVP_CIPHER_CTX per direction, each made on the first record of that direction (a DTLS
 * session's read key only ever opens and its write key only seals, RFC 5246 §6.1: one context
 * per key, not two) and kept; each record only sets the nonce (the key schedule stays) and seals
 * or opens straight into caller-provided memory: one call per record, no output allocation.
 * OpenSSL is the node binary's own (its symbols are exported; headers come with node's). The pure
 * node:crypto engine (edge-agent/src/dtls/crypto/ccm.ts) is the fallback.
 *
 * Memory: the contexts are freed by release(), called when the hot-key LRU in ccm.ts drops the
 * key, not when V8 collects the handle: V8 does not see native memory, and after a burst of
 * 100,000 handshakes the dropped keys' contexts held ~200 MB of malloc heap until a full GC.
 * What a context costs is also reported to V8 (napi_adjust_external_memory) for the keys that
 * are never released explicitly (tests, clients).
 *
 * RFC 3610 via OpenSSL's CCM mode: nonce length sets L = 15 - nonce length; the tag length M
 * is fixed per key. The tag check on open is OpenSSL's (CRYPTO_memcmp, constant time).
 */
#include <node_api.h>
#include "napi-bytes.h"
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <stdlib.h>
#include <string.h>

/* What one AES-128-CCM EVP_CIPHER_CTX costs on node 20's OpenSSL 3.0 (the context, its provider
 * context and key schedule), as reported to V8: ~700 B of RSS growth per context over 50,000. */
#define CTX_EXTERNAL_BYTES 700

/* Contexts alive in this process, for tests (atomic: worker threads may load the addon too). */
static long live_contexts = 0;

typedef struct {
  EVP_CIPHER_CTX* enc; /* NULL until the first seal */
  EVP_CIPHER_CTX* dec; /* NULL until the first open */
  unsigned char key[16];
  int tag_length;
  int nonce_length;
  int released; /* release() was called: the key bytes are wiped, no context may be made */
} CcmKey;

static void free_contexts(napi_env env, CcmKey* k) {
  int64_t ignored;
  int n = (k->enc != NULL) + (k->dec != NULL);
  EVP_CIPHER_CTX_free(k->enc);
  EVP_CIPHER_CTX_free(k->dec);
  k->enc = k->dec = NULL;
  __atomic_sub_fetch(&live_contexts, n, __ATOMIC_RELAXED);
  if (n > 0 && env != NULL) napi_adjust_external_memory(env, -(int64_t)n * CTX_EXTERNAL_BYTES, &ignored);
}

static void free_key(napi_env env, void* data, void* hint) {
  (void)hint;
  CcmKey* k = (CcmKey*)data;
  free_contexts(env, k);
  OPENSSL_cleanse(k->key, sizeof k->key);
  free(k);
}

static EVP_CIPHER_CTX* new_ctx(int encrypt, const unsigned char* key, int nonce_length, int tag_length) {
  EVP_CIPHER_CTX* c = EVP_CIPHER_CTX_new();
  if (c == NULL) return NULL;
  if (EVP_CipherInit_ex(c, EVP_aes_128_ccm(), NULL, NULL, NULL, encrypt) != 1 ||
      EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_AEAD_SET_IVLEN, nonce_length, NULL) != 1 ||
      EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_AEAD_SET_TAG, tag_length, NULL) != 1 ||
      EVP_CipherInit_ex(c, NULL, NULL, key, NULL, encrypt) != 1) {
    EVP_CIPHER_CTX_free(c);
    return NULL;
  }
  return c;
}

/* newKey(key: Uint8Array(16), tagLength, nonceLength) → external key handle (no context yet) */
static napi_value NewKey(napi_env env, napi_callback_info info) {
  size_t argc = 3;
  napi_value argv[3];
  unsigned char* key;
  size_t key_length;
  int32_t tag_length, nonce_length;
  napi_value out;
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  if (argc < 3 || !bytes_of(env, argv[0], &key, &key_length)) return NULL;
  napi_get_value_int32(env, argv[1], &tag_length);
  napi_get_value_int32(env, argv[2], &nonce_length);
  if (key_length != 16 || tag_length < 4 || tag_length > 16 || (tag_length & 1) || nonce_length < 7 || nonce_length > 13) {
    napi_throw_range_error(env, NULL, "bad CCM key, tag or nonce length");
    return NULL;
  }
  CcmKey* k = (CcmKey*)calloc(1, sizeof(CcmKey));
  if (k == NULL) {
    napi_throw_error(env, NULL, "out of memory for a CCM key");
    return NULL;
  }
  memcpy(k->key, key, sizeof k->key);
  k->tag_length = tag_length;
  k->nonce_length = nonce_length;
  if (napi_create_external(env, k, free_key, NULL, &out) != napi_ok) {
    free_key(NULL, k, NULL);
    return NULL;
  }
  return out;
}

/* The context of one direction, made on its first use; NULL (with a JS error thrown) on failure. */
static EVP_CIPHER_CTX* context_of(napi_env env, CcmKey* k, int encrypt) {
  EVP_CIPHER_CTX** slot = encrypt ? &k->enc : &k->dec;
  if (*slot != NULL) return *slot;
  if (k->released) {
    napi_throw_error(env, NULL, "CCM key handle used after release()");
    return NULL;
  }
  *slot = new_ctx(encrypt, k->key, k->nonce_length, k->tag_length);
  if (*slot == NULL) {
    napi_throw_error(env, NULL, "OpenSSL refused the CCM context");
    return NULL;
  }
  __atomic_add_fetch(&live_contexts, 1, __ATOMIC_RELAXED);
  int64_t ignored;
  napi_adjust_external_memory(env, CTX_EXTERNAL_BYTES, &ignored);
  return *slot;
}

static CcmKey* key_of(napi_env env, napi_value v) {
  void* p = NULL;
  if (napi_get_value_external(env, v, &p) != napi_ok) napi_throw_type_error(env, NULL, "expected a CCM key handle");
  return (CcmKey*)p;
}

/* release(key): frees the key's contexts and wipes its bytes now; the handle is dead after. */
static napi_value Release(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  CcmKey* k = argc == 1 ? key_of(env, argv[0]) : NULL;
  if (k == NULL) return NULL;
  free_contexts(env, k);
  OPENSSL_cleanse(k->key, sizeof k->key);
  k->released = 1;
  return NULL;
}

/* seal(key, nonce, aad, plaintext, out, offset) → bytes written (plaintext length + tag), -1 on failure */
static napi_value Seal(napi_env env, napi_callback_info info) {
  size_t argc = 6;
  napi_value argv[6];
  unsigned char *nonce, *aad, *pt, *out;
  size_t nonce_length, aad_length, pt_length, out_length;
  int32_t offset;
  int len = 0, result = -1;
  napi_value ret;
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  CcmKey* k = argc == 6 ? key_of(env, argv[0]) : NULL;
  if (k == NULL || !bytes_of(env, argv[1], &nonce, &nonce_length) || !bytes_of(env, argv[2], &aad, &aad_length) ||
      !bytes_of(env, argv[3], &pt, &pt_length) || !bytes_of(env, argv[4], &out, &out_length)) return NULL;
  napi_get_value_int32(env, argv[5], &offset);
  if (offset < 0 || (size_t)offset + pt_length + (size_t)k->tag_length > out_length) {
    napi_throw_range_error(env, NULL, "no room for ciphertext and tag");
    return NULL;
  }
  unsigned char* dst = out + offset;
  /* An empty payload still goes through EncryptUpdate (it finishes the CCM length block), and
   * OpenSSL wants real pointers there: an empty typed array may have none. */
  static unsigned char empty[1];
  if (pt_length == 0) pt = empty;
  EVP_CIPHER_CTX* c = context_of(env, k, 1);
  if (c == NULL) return NULL;
  if (EVP_EncryptInit_ex(c, NULL, NULL, NULL, nonce) == 1 &&
      EVP_EncryptUpdate(c, NULL, &len, NULL, (int)pt_length) == 1 &&
      (aad_length == 0 || EVP_EncryptUpdate(c, NULL, &len, aad, (int)aad_length) == 1) &&
      EVP_EncryptUpdate(c, pt_length > 0 ? dst : empty, &len, pt, (int)pt_length) == 1 &&
      EVP_EncryptFinal_ex(c, empty, &len) == 1 &&
      EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_AEAD_GET_TAG, k->tag_length, dst + pt_length) == 1) {
    result = (int)pt_length + k->tag_length;
  }
  napi_create_int32(env, result, &ret);
  return ret;
}

/* open(key, nonce, aad, sealed, out) → true when the tag verifies (out holds the plaintext) */
static napi_value Open(napi_env env, napi_callback_info info) {
  size_t argc = 5;
  napi_value argv[5];
  unsigned char *nonce, *aad, *sealed, *out;
  size_t nonce_length, aad_length, sealed_length, out_length;
  int len = 0, ok = 0;
  napi_value ret;
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  CcmKey* k = argc == 5 ? key_of(env, argv[0]) : NULL;
  if (k == NULL || !bytes_of(env, argv[1], &nonce, &nonce_length) || !bytes_of(env, argv[2], &aad, &aad_length) ||
      !bytes_of(env, argv[3], &sealed, &sealed_length) || !bytes_of(env, argv[4], &out, &out_length)) return NULL;
  EVP_CIPHER_CTX* c = context_of(env, k, 0);
  if (c == NULL) return NULL;
  if (sealed_length >= (size_t)k->tag_length && out_length >= sealed_length - (size_t)k->tag_length) {
    int n = (int)(sealed_length - (size_t)k->tag_length);
    static unsigned char empty[1];
    ok = EVP_DecryptInit_ex(c, NULL, NULL, NULL, nonce) == 1 &&
         EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_AEAD_SET_TAG, k->tag_length, sealed + n) == 1 &&
         EVP_DecryptUpdate(c, NULL, &len, NULL, n) == 1 &&
         (aad_length == 0 || EVP_DecryptUpdate(c, NULL, &len, aad, (int)aad_length) == 1) &&
         /* CCM verifies the tag inside this call: > 0 only when it matches */
         EVP_DecryptUpdate(c, n > 0 ? out : empty, &len, n > 0 ? sealed : empty, n) > 0;
  }
  napi_get_boolean(env, ok, &ret);
  return ret;
}

/* liveContexts() → OpenSSL contexts not yet freed, in this process */
static napi_value LiveContexts(napi_env env, napi_callback_info info) {
  (void)info;
  napi_value ret;
  napi_create_int64(env, __atomic_load_n(&live_contexts, __ATOMIC_RELAXED), &ret);
  return ret;
}

NAPI_MODULE_INIT(/* napi_env env, napi_value exports */) {
  napi_property_descriptor props[] = {
      {"newKey", NULL, NewKey, NULL, NULL, NULL, napi_default, NULL},
      {"seal", NULL, Seal, NULL, NULL, NULL, napi_default, NULL},
      {"open", NULL, Open, NULL, NULL, NULL, napi_default, NULL},
      {"release", NULL, Release, NULL, NULL, NULL, napi_default, NULL},
      {"liveContexts", NULL, LiveContexts, NULL, NULL, NULL, napi_default, NULL},
  };
  napi_define_properties(env, exports, sizeof(props) / sizeof(props[0]), props);
  return exports;
}
