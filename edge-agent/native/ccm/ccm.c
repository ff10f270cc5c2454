/*
 * Optional native AES-128-CCM for the DTLS record path (issue 7). One OpenSSL EVP_CIPHER_CTX
 * per key and direction, created once; each record only sets the nonce (the key schedule stays)
 * and seals or opens straight into caller-provided memory: one call per record, no output
 * allocation. OpenSSL is the node binary's own (its symbols are exported; headers come with
 * node's). The pure node:crypto engine (edge-agent/src/dtls/crypto/ccm.ts) is the fallback.
 *
 * RFC 3610 via OpenSSL's CCM mode: nonce length sets L = 15 - nonce length; the tag length M
 * is fixed per key. The tag check on open is OpenSSL's (CRYPTO_memcmp, constant time).
 */
#include <node_api.h>
#include <openssl/evp.h>
#include <stdlib.h>

typedef struct {
  EVP_CIPHER_CTX* enc;
  EVP_CIPHER_CTX* dec;
  int tag_length;
} CcmKey;

static void free_key(napi_env env, void* data, void* hint) {
  (void)env;
  (void)hint;
  CcmKey* k = (CcmKey*)data;
  EVP_CIPHER_CTX_free(k->enc);
  EVP_CIPHER_CTX_free(k->dec);
  free(k);
}

/* The bytes of a Uint8Array argument. */
static int bytes_of(napi_env env, napi_value v, unsigned char** data, size_t* length) {
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

/* newKey(key: Uint8Array(16), tagLength, nonceLength) → external key handle */
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
  if (k == NULL) return NULL;
  k->tag_length = tag_length;
  k->enc = new_ctx(1, key, nonce_length, tag_length);
  k->dec = new_ctx(0, key, nonce_length, tag_length);
  if (k->enc == NULL || k->dec == NULL) {
    free_key(env, k, NULL);
    napi_throw_error(env, NULL, "OpenSSL refused the CCM context");
    return NULL;
  }
  napi_create_external(env, k, free_key, NULL, &out);
  return out;
}

static CcmKey* key_of(napi_env env, napi_value v) {
  void* p = NULL;
  if (napi_get_value_external(env, v, &p) != napi_ok) napi_throw_type_error(env, NULL, "expected a CCM key handle");
  return (CcmKey*)p;
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
  EVP_CIPHER_CTX* c = k->enc;
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
  if (sealed_length >= (size_t)k->tag_length && out_length >= sealed_length - (size_t)k->tag_length) {
    int n = (int)(sealed_length - (size_t)k->tag_length);
    static unsigned char empty[1];
    EVP_CIPHER_CTX* c = k->dec;
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

NAPI_MODULE_INIT(/* napi_env env, napi_value exports */) {
  napi_property_descriptor props[] = {
      {"newKey", NULL, NewKey, NULL, NULL, NULL, napi_default, NULL},
      {"seal", NULL, Seal, NULL, NULL, NULL, napi_default, NULL},
      {"open", NULL, Open, NULL, NULL, NULL, napi_default, NULL},
  };
  napi_define_properties(env, exports, sizeof(props) / sizeof(props[0]), props);
  return exports;
}
