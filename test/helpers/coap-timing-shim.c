/*
 * coap-timing-shim.so: an LD_PRELOAD shim for libcoap 4.3.1 clients (coap-client-openssl etc.)
 * that sets the CoAP transmission parameters of each new client session (RFC 7252 §4.8: "the
 * values ... may be adjusted", e.g. ACK_TIMEOUT for a link with a known short round trip):
 *
 *   COAP_SHIM_ACK_TIMEOUT_MS=250   ACK_TIMEOUT in ms (libcoap's default is 2000)
 *   COAP_SHIM_MAX_RETRANSMIT=10    MAX_RETRANSMIT (libcoap's default is 4)
 *
 * Why: coap-client has no flags for them, and on the lossy-proxy test (20 % loss both ways,
 * 64 + 64 block exchanges) the fixed 2 s ACK_TIMEOUT makes a run take ~5 minutes, and
 * MAX_RETRANSMIT 4 makes the client give up on ~half of the runs (0.36^5 per exchange).
 *
 * libcoap's setter coap_session_set_ack_timeout() ignores values below 1 s (it requires an
 * integer part > 0), so the shim finds the field the setter writes: it sets two marker values
 * through the setter, keeps the one offset inside the session's allocation that followed both,
 * writes the wanted value there and checks it through coap_session_get_ack_timeout(). Anything
 * unexpected aborts the client (exit 70), so a test can never silently run on other timers.
 * The effective values are printed on stderr: "coap-timing-shim: ack_timeout=0.250 ...".
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <malloc.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* From <coap3/coap_session.h> (4.3.1), declared here so only libcoap3-bin is needed. */
typedef struct { uint16_t integer_part; uint16_t fractional_part; } fixed_point;
typedef struct coap_session_t coap_session_t;

static void die(const char *what) {
  fprintf(stderr, "coap-timing-shim: %s\n", what);
  exit(70);
}

static void *sym(void *handle, const char *name) {
  void *f = dlsym(handle, name);
  if (!f) die(name);
  return f;
}

static int same(const fixed_point *a, fixed_point b) {
  return a->integer_part == b.integer_part && a->fractional_part == b.fractional_part;
}

static void set_ack_timeout(coap_session_t *s, unsigned ms) {
  void (*set)(coap_session_t *, fixed_point) = (void (*)(coap_session_t *, fixed_point))sym(RTLD_DEFAULT, "coap_session_set_ack_timeout");
  fixed_point (*get)(const coap_session_t *) = (fixed_point (*)(const coap_session_t *))sym(RTLD_DEFAULT, "coap_session_get_ack_timeout");
  fixed_point want = {(uint16_t)(ms / 1000), (uint16_t)(ms % 1000)};
  if (ms >= 1000) {
    set(s, want);
  } else {
    const fixed_point m1 = {7, 777}, m2 = {9, 333};
    size_t size = malloc_usable_size(s), found = 0, at = 0;
    set(s, m1);
    for (size_t off = 0; off + sizeof(fixed_point) <= size; off += 2) {
      fixed_point v;
      memcpy(&v, (unsigned char *)s + off, sizeof v);
      if (!same(&v, m1)) continue;
      set(s, m2);
      memcpy(&v, (unsigned char *)s + off, sizeof v);
      if (same(&v, m2)) {
        found++;
        at = off;
      }
      set(s, m1);
    }
    if (found != 1) die("ack_timeout field not found");
    memcpy((unsigned char *)s + at, &want, sizeof want);
  }
  fixed_point got = get(s);
  if (!same(&got, want)) die("ack_timeout not applied");
}

static void tune(coap_session_t *s) {
  if (!s) return;
  const char *ack = getenv("COAP_SHIM_ACK_TIMEOUT_MS");
  const char *max = getenv("COAP_SHIM_MAX_RETRANSMIT");
  if (ack && *ack) set_ack_timeout(s, (unsigned)strtoul(ack, NULL, 10));
  if (max && *max) {
    void (*set)(coap_session_t *, uint16_t) = (void (*)(coap_session_t *, uint16_t))sym(RTLD_DEFAULT, "coap_session_set_max_retransmit");
    uint16_t (*get)(const coap_session_t *) = (uint16_t (*)(const coap_session_t *))sym(RTLD_DEFAULT, "coap_session_get_max_retransmit");
    uint16_t want = (uint16_t)strtoul(max, NULL, 10);
    set(s, want);
    if (get(s) != want) die("max_retransmit not applied");
  }
  fixed_point (*get_ack)(const coap_session_t *) = (fixed_point (*)(const coap_session_t *))sym(RTLD_DEFAULT, "coap_session_get_ack_timeout");
  uint16_t (*get_max)(const coap_session_t *) = (uint16_t (*)(const coap_session_t *))sym(RTLD_DEFAULT, "coap_session_get_max_retransmit");
  fixed_point a = get_ack(s);
  fprintf(stderr, "coap-timing-shim: ack_timeout=%u.%03u max_retransmit=%u\n", a.integer_part, a.fractional_part, (unsigned)get_max(s));
}

/* The three ways coap-client opens a session: no credentials, PSK, PKI. */
typedef coap_session_t *(*open4)(void *, const void *, const void *, int);
typedef coap_session_t *(*open5)(void *, const void *, const void *, int, void *);

coap_session_t *coap_new_client_session(void *ctx, const void *local, const void *server, int proto) {
  coap_session_t *s = ((open4)sym(RTLD_NEXT, "coap_new_client_session"))(ctx, local, server, proto);
  tune(s);
  return s;
}

coap_session_t *coap_new_client_session_psk2(void *ctx, const void *local, const void *server, int proto, void *setup) {
  coap_session_t *s = ((open5)sym(RTLD_NEXT, "coap_new_client_session_psk2"))(ctx, local, server, proto, setup);
  tune(s);
  return s;
}

coap_session_t *coap_new_client_session_pki(void *ctx, const void *local, const void *server, int proto, void *setup) {
  coap_session_t *s = ((open5)sym(RTLD_NEXT, "coap_new_client_session_pki"))(ctx, local, server, proto, setup);
  tune(s);
  return s;
}
