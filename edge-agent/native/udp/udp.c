/*
 * Optional native UDP socket for the agent (issue 7): node:dgram costs one recvmsg, one sendmsg,
 * a `message` event, a Buffer, an rinfo object and a SendWrap per datagram. This socket reads up
 * to RECV_SLOTS datagrams per recvmmsg(2) into memory shared with JavaScript, calls JavaScript
 * ONCE per batch, and sends the replies queued during that call with one sendmmsg(2).
 *
 * Memory shared with JavaScript (one mmap'd external ArrayBuffer per socket: a slot is 64 KiB of
 * address space so any UDP datagram (≤ 65,507 B) fits, but the kernel only backs the pages a
 * datagram actually touched, so small datagrams cost one page per slot used):
 *   recvArena  RECV_SLOTS × SLOT_BYTES      datagram i at i × SLOT_BYTES
 *   recvMeta   RECV_SLOTS × META_INTS int32 per datagram: length, family (4|6), port, scope id,
 *                                           address (4 or 16 bytes, network order, as raw words),
 *                                           offset in the arena
 *   sendArena  SEND_ARENA_BYTES             queued datagrams' bytes, packed (JavaScript picks
 *                                           the offsets and starts at 0 again once all are sent,
 *                                           so steady traffic touches only the first pages)
 *   sendMeta   SEND_SLOTS × META_INTS int32 a ring of queued datagrams, written by JavaScript
 *   ctrl       CTRL_INTS int32              send ring head and count, send errors counted here
 * JavaScript appends at (head + count) mod SEND_SLOTS; flush() consumes from head. Both run on
 * the event loop thread, so nothing here is concurrent.
 *
 * Sends never throw: a datagram the kernel refuses (EHOSTUNREACH, EACCES, EMSGSIZE, ...) is
 * counted in ctrl[CTRL_SEND_ERRORS] and skipped; EAGAIN/ENOBUFS keep the rest queued and poll
 * for writable (the ring bounds the queue; JavaScript counts overflow as a send error).
 *
 * Everything comes from the node binary itself: N-API, libuv (uv_poll_t on the loop from
 * napi_get_uv_event_loop; uv_ip*_addr, uv_inet_ntop and uv_if_indextoiid give exactly the
 * address strings node:dgram reports) and libc. Linux only (recvmmsg/sendmmsg).
 */
#define NAPI_VERSION 8
#include <node_api.h>
#include <uv.h>
#include <errno.h>
#include <stdio.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

#define SLOT_BYTES 65536
#define RECV_SLOTS 32
#define SEND_SLOTS 128
#define SEND_ARENA_BYTES (512 * 1024)
/* Per datagram: length, family, port, scope id, 4 address words, byte offset in its arena. */
#define META_INTS 9
enum { M_LENGTH = 0, M_FAMILY = 1, M_PORT = 2, M_SCOPE = 3, M_ADDRESS = 4, M_OFFSET = 8 };
enum { CTRL_SEND_HEAD = 0, CTRL_SEND_COUNT = 1, CTRL_SEND_ERRORS = 2, CTRL_INTS = 4 };
/* recvmmsg rounds per readable event before yielding to the rest of the loop (fairness). */
#define MAX_ROUNDS 8
_Static_assert(64 + (RECV_SLOTS + SEND_SLOTS) * META_INTS * 4 <= 16384, "metadata overlaps the arenas");

typedef struct {
  napi_env env;
  int fd;
  int family; /* AF_INET or AF_INET6 */
  uv_poll_t poll;
  int poll_events;
  int started, closed, handle_finalized, uv_closed;
  napi_ref on_batch;
  napi_async_context async;
  napi_ref memory; /* the one mapping below, as an external ArrayBuffer */
  void* base;      /* that mapping, unmapped when JavaScript drops the ArrayBuffer */
  size_t total;
  unsigned char* recv_arena;
  int32_t* recv_meta;
  unsigned char* send_arena;
  int32_t* send_meta;
  int32_t* ctrl;
  struct mmsghdr rmsgs[RECV_SLOTS];
  struct iovec riov[RECV_SLOTS];
  struct sockaddr_in6 raddr[RECV_SLOTS];
  struct mmsghdr smsgs[SEND_SLOTS];
  struct iovec siov[SEND_SLOTS];
  struct sockaddr_in6 saddr[SEND_SLOTS];
} UdpSocket;

static void flush(UdpSocket* s);
static void on_poll(uv_poll_t* p, int status, int events);

/* Throws an Error whose .code is the errno name (as node's own socket errors). */
static void throw_errno(napi_env env, int err, const char* what) {
  char message[128];
  snprintf(message, sizeof message, "%s %s", what, uv_err_name(uv_translate_sys_error(err)));
  napi_throw_error(env, uv_err_name(uv_translate_sys_error(err)), message);
}

static void free_mapping(napi_env env, void* data, void* hint) {
  (void)env;
  munmap(data, (size_t)(uintptr_t)hint);
}

/* An mmap'd region as an external ArrayBuffer, unmapped when JavaScript lets go of it. */
static int mapped_buffer(napi_env env, size_t length, void** data, napi_value* out) {
  void* p = mmap(NULL, length, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
  if (p == MAP_FAILED) {
    throw_errno(env, errno, "mmap");
    return 0;
  }
  if (napi_create_external_arraybuffer(env, p, length, free_mapping, (void*)(uintptr_t)length, out) != napi_ok) {
    munmap(p, length);
    napi_throw_error(env, NULL, "external ArrayBuffer refused");
    return 0;
  }
  *data = p;
  return 1;
}

static void free_socket_if_done(UdpSocket* s) {
  if (s->handle_finalized && s->uv_closed) free(s);
}

static void on_uv_closed(uv_handle_t* h) {
  UdpSocket* s = (UdpSocket*)h->data;
  s->uv_closed = 1;
  free_socket_if_done(s);
}

/* Stops polling, closes the fd and drops the references to JavaScript (idempotent). */
static void close_socket(UdpSocket* s) {
  if (s->closed) return;
  s->closed = 1;
  if (s->memory != NULL) napi_delete_reference(s->env, s->memory);
  s->memory = NULL;
  /* The mapping lives until the garbage collector drops its ArrayBuffer; give its pages back now
   * (a closed socket's views then read zeros), so sockets opened and closed in quick succession
   * do not hold memory until the next collection. */
  if (s->base != NULL) madvise(s->base, s->total, MADV_DONTNEED);
  if (s->on_batch != NULL) napi_delete_reference(s->env, s->on_batch);
  s->on_batch = NULL;
  if (s->async != NULL) napi_async_destroy(s->env, s->async);
  s->async = NULL;
  if (s->started) {
    uv_poll_stop(&s->poll);
    uv_close((uv_handle_t*)&s->poll, on_uv_closed);
  } else {
    s->uv_closed = 1;
  }
  close(s->fd);
  s->fd = -1;
}

static void finalize_handle(napi_env env, void* data, void* hint) {
  (void)env;
  (void)hint;
  UdpSocket* s = (UdpSocket*)data;
  close_socket(s);
  s->handle_finalized = 1;
  free_socket_if_done(s);
}

static UdpSocket* socket_of(napi_env env, napi_value v) {
  void* p = NULL;
  if (napi_get_value_external(env, v, &p) != napi_ok || p == NULL) {
    napi_throw_type_error(env, NULL, "expected a native UDP socket handle");
    return NULL;
  }
  UdpSocket* s = (UdpSocket*)p;
  if (s->closed) {
    napi_throw_error(env, "ERR_SOCKET_DGRAM_NOT_RUNNING", "socket is closed");
    return NULL;
  }
  return s;
}

static void set_poll(UdpSocket* s, int events) {
  if (s->closed || !s->started || events == s->poll_events) return;
  s->poll_events = events;
  uv_poll_start(&s->poll, events, on_poll);
}

/* A sockaddr from meta words; 0, or an errno for an address this socket cannot send to. */
static int sockaddr_from_meta(const UdpSocket* s, const int32_t* m, struct sockaddr_in6* out, socklen_t* len) {
  memset(out, 0, sizeof *out);
  if (s->family == AF_INET) {
    if (m[M_FAMILY] != 4) return EAFNOSUPPORT;
    struct sockaddr_in* a = (struct sockaddr_in*)out;
    a->sin_family = AF_INET;
    a->sin_port = htons((uint16_t)m[M_PORT]);
    memcpy(&a->sin_addr, &m[M_ADDRESS], 4);
    *len = sizeof(struct sockaddr_in);
    return 0;
  }
  out->sin6_family = AF_INET6;
  out->sin6_port = htons((uint16_t)m[M_PORT]);
  if (m[M_FAMILY] == 4) {
    /* An IPv4 peer on an IPv6 socket: its v4-mapped address (RFC 4291 §2.5.5.2). */
    out->sin6_addr.s6_addr[10] = 0xff;
    out->sin6_addr.s6_addr[11] = 0xff;
    memcpy(&out->sin6_addr.s6_addr[12], &m[M_ADDRESS], 4);
  } else {
    memcpy(&out->sin6_addr, &m[M_ADDRESS], 16);
    out->sin6_scope_id = (uint32_t)m[M_SCOPE];
  }
  *len = sizeof(struct sockaddr_in6);
  return 0;
}

/* Sends the queued ring from its head with sendmmsg until it is empty or the kernel says wait. */
static void flush(UdpSocket* s) {
  int32_t* ctrl = s->ctrl;
  while (!s->closed && ctrl[CTRL_SEND_COUNT] > 0) {
    int head = ctrl[CTRL_SEND_HEAD];
    int count = ctrl[CTRL_SEND_COUNT];
    int n = 0;
    /* Consecutive ring slots from the head; stop at one this socket cannot send (a peer of the
     * other family, a bad offset): it is counted and skipped below once it is the head. */
    while (n < count) {
      int slot = (head + n) % SEND_SLOTS;
      const int32_t* m = &s->send_meta[slot * META_INTS];
      struct msghdr* h = &s->smsgs[n].msg_hdr;
      socklen_t len;
      if (m[M_LENGTH] < 0 || m[M_OFFSET] < 0 || (size_t)m[M_OFFSET] + (size_t)m[M_LENGTH] > SEND_ARENA_BYTES) break;
      if (sockaddr_from_meta(s, m, &s->saddr[n], &len) != 0) break;
      s->siov[n].iov_base = s->send_arena + m[M_OFFSET];
      s->siov[n].iov_len = (size_t)m[M_LENGTH];
      h->msg_name = &s->saddr[n];
      h->msg_namelen = len;
      h->msg_iov = &s->siov[n];
      h->msg_iovlen = 1;
      h->msg_control = NULL;
      h->msg_controllen = 0;
      h->msg_flags = 0;
      n++;
    }
    int sent;
    if (n == 0) {
      sent = -1; /* the head cannot be sent: counted and skipped below */
      errno = EAFNOSUPPORT;
    } else {
      do sent = sendmmsg(s->fd, s->smsgs, (unsigned)n, 0);
      while (sent < 0 && errno == EINTR);
    }
    if (sent < 0) {
      if (errno == EAGAIN || errno == EWOULDBLOCK || errno == ENOBUFS) {
        set_poll(s, UV_READABLE | UV_WRITABLE); /* retried from on_poll when writable */
        return;
      }
      sent = 1; /* this one datagram failed (sendmmsg reports the first error only) */
      ctrl[CTRL_SEND_ERRORS]++;
    }
    ctrl[CTRL_SEND_HEAD] = (head + sent) % SEND_SLOTS;
    ctrl[CTRL_SEND_COUNT] = count - sent;
  }
  if (!s->closed) set_poll(s, UV_READABLE);
}

/* Fills recvMeta for n received datagrams. */
static void record_meta(UdpSocket* s, int n) {
  for (int i = 0; i < n; i++) {
    int32_t* m = &s->recv_meta[i * META_INTS];
    const struct sockaddr_in6* a = &s->raddr[i];
    m[M_LENGTH] = (int32_t)s->rmsgs[i].msg_len;
    m[M_OFFSET] = i * SLOT_BYTES;
    if (a->sin6_family == AF_INET) {
      const struct sockaddr_in* a4 = (const struct sockaddr_in*)a;
      m[M_FAMILY] = 4;
      m[M_PORT] = ntohs(a4->sin_port);
      m[M_SCOPE] = 0;
      memcpy(&m[M_ADDRESS], &a4->sin_addr, 4);
      m[M_ADDRESS + 1] = m[M_ADDRESS + 2] = m[M_ADDRESS + 3] = 0;
    } else {
      m[M_FAMILY] = 6;
      m[M_PORT] = ntohs(a->sin6_port);
      m[M_SCOPE] = (int32_t)a->sin6_scope_id;
      memcpy(&m[M_ADDRESS], &a->sin6_addr, 16);
    }
  }
}

/* Calls onBatch(n) as an async callback: microtasks, nextTicks and uncaught exceptions behave
 * as after node's own socket events. */
static void deliver(UdpSocket* s, int n) {
  napi_env env = s->env;
  napi_handle_scope scope;
  napi_value fn, global, count, result;
  napi_open_handle_scope(env, &scope);
  napi_get_reference_value(env, s->on_batch, &fn);
  napi_get_global(env, &global);
  napi_create_int32(env, n, &count);
  if (napi_make_callback(env, s->async, global, fn, 1, &count, &result) == napi_pending_exception) {
    napi_value error;
    napi_get_and_clear_last_exception(env, &error);
    napi_fatal_exception(env, error);
  }
  napi_close_handle_scope(env, scope);
}

static void on_poll(uv_poll_t* p, int status, int events) {
  UdpSocket* s = (UdpSocket*)p->data;
  if (s->closed) return;
  if (status < 0) {
    /* POLLERR on the fd: libuv has stopped this poll handle (uv__poll_io) and will not call back
     * again unless it is restarted. Clear what raised it (the pending socket error, and the error
     * queue, which only IP_RECVERR fills) so the restarted poll does not fire again at once, then
     * read: an unconnected UDP socket's errors are not datagrams, and none may stop it receiving. */
    int err = 0;
    socklen_t err_len = sizeof err;
    getsockopt(s->fd, SOL_SOCKET, SO_ERROR, &err, &err_len);
    struct msghdr eh;
    memset(&eh, 0, sizeof eh);
    while (recvmsg(s->fd, &eh, MSG_ERRQUEUE | MSG_DONTWAIT) >= 0) memset(&eh, 0, sizeof eh);
    int wanted = s->poll_events;
    s->poll_events = 0;
    set_poll(s, wanted);
    events = UV_READABLE | (wanted & UV_WRITABLE);
  }
  if (events & UV_WRITABLE) flush(s);
  if (!(events & UV_READABLE)) return;
  for (int round = 0; round < MAX_ROUNDS && !s->closed; round++) {
    for (int i = 0; i < RECV_SLOTS; i++) {
      struct msghdr* h = &s->rmsgs[i].msg_hdr;
      s->riov[i].iov_base = s->recv_arena + (size_t)i * SLOT_BYTES;
      s->riov[i].iov_len = SLOT_BYTES;
      h->msg_name = &s->raddr[i];
      h->msg_namelen = sizeof s->raddr[i];
      h->msg_iov = &s->riov[i];
      h->msg_iovlen = 1;
      h->msg_control = NULL;
      h->msg_controllen = 0;
      h->msg_flags = 0;
    }
    int n;
    do n = recvmmsg(s->fd, s->rmsgs, RECV_SLOTS, MSG_DONTWAIT, NULL);
    while (n < 0 && errno == EINTR);
    if (n <= 0) break; /* EAGAIN: drained; other errors (ICMP reports) are not datagrams */
    record_meta(s, n);
    deliver(s, n);
    /* The replies to this batch leave together (and anything queued by its microtasks). */
    if (!s->closed) flush(s);
    if (n < RECV_SLOTS) break;
  }
}

static int get_int(napi_env env, napi_value v, int32_t* out) {
  if (napi_get_value_int32(env, v, out) != napi_ok) {
    napi_throw_type_error(env, NULL, "expected a number");
    return 0;
  }
  return 1;
}

static void set_named(napi_env env, napi_value obj, const char* name, napi_value v) {
  napi_set_named_property(env, obj, name, v);
}

/*
 * open(address: string, port, ipv6Only: boolean, recvBufferSize, sendBufferSize) →
 *   { handle, port, recvArena, recvMeta, sendArena, sendMeta, ctrl }
 * The address may carry a scope ("fe80::1%wpan0"), resolved as node does (uv_ip6_addr).
 */
static napi_value Open(napi_env env, napi_callback_info info) {
  size_t argc = 5;
  napi_value argv[5];
  char address[128];
  size_t address_length;
  int32_t port, recv_size, send_size;
  bool v6only;
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  if (argc < 5 || napi_get_value_string_utf8(env, argv[0], address, sizeof address, &address_length) != napi_ok) {
    napi_throw_type_error(env, NULL, "open(address, port, ipv6Only, recvBufferSize, sendBufferSize)");
    return NULL;
  }
  if (!get_int(env, argv[1], &port) || !get_int(env, argv[3], &recv_size) || !get_int(env, argv[4], &send_size)) return NULL;
  napi_get_value_bool(env, argv[2], &v6only);
  if (port < 0 || port > 65535) {
    napi_throw_range_error(env, "ERR_SOCKET_BAD_PORT", "port must be 0..65535");
    return NULL;
  }

  struct sockaddr_in6 local;
  socklen_t local_length;
  memset(&local, 0, sizeof local);
  if (uv_ip4_addr(address, port, (struct sockaddr_in*)&local) == 0) {
    local_length = sizeof(struct sockaddr_in);
  } else if (uv_ip6_addr(address, port, &local) == 0) {
    local_length = sizeof(struct sockaddr_in6);
  } else {
    napi_throw_error(env, "EINVAL", "not an IP address literal");
    return NULL;
  }
  int family = local.sin6_family;
  int fd = socket(family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    throw_errno(env, errno, "socket");
    return NULL;
  }
  int on = v6only ? 1 : 0;
  if ((family == AF_INET6 && setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &on, sizeof on) != 0) ||
      (recv_size > 0 && setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &recv_size, sizeof recv_size) != 0) ||
      (send_size > 0 && setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &send_size, sizeof send_size) != 0)) {
    throw_errno(env, errno, "setsockopt");
    close(fd);
    return NULL;
  }
  if (bind(fd, (struct sockaddr*)&local, local_length) != 0) {
    throw_errno(env, errno, "bind");
    close(fd);
    return NULL;
  }
  local_length = sizeof local;
  getsockname(fd, (struct sockaddr*)&local, &local_length);

  UdpSocket* s = (UdpSocket*)calloc(1, sizeof(UdpSocket));
  if (s == NULL) {
    close(fd);
    napi_throw_error(env, "ENOMEM", "out of memory");
    return NULL;
  }
  s->env = env;
  s->fd = fd;
  s->family = family;
  napi_value result, handle, value, buffer;
  napi_create_object(env, &result);
  if (napi_create_external(env, s, finalize_handle, NULL, &handle) != napi_ok) {
    close(fd);
    free(s);
    napi_throw_error(env, NULL, "external refused");
    return NULL;
  }
  s->uv_closed = 1; /* until start() initialises the poll handle */
  set_named(env, result, "handle", handle);
  napi_create_int32(env, ntohs(local.sin6_port), &value); /* sin_port sits at the same offset */
  set_named(env, result, "port", value);

  /* One mapping per socket (one entry in the process's map count, however many sockets):
   * the small arrays first, then the arenas on page boundaries. */
  const size_t ctrl_at = 0, recv_meta_at = 64, send_meta_at = recv_meta_at + RECV_SLOTS * META_INTS * 4;
  const size_t recv_arena_at = 16384, send_arena_at = recv_arena_at + (size_t)RECV_SLOTS * SLOT_BYTES;
  const size_t total = send_arena_at + SEND_ARENA_BYTES;
  void* base;
  if (!mapped_buffer(env, total, &base, &buffer)) return NULL; /* the handle's finalizer closes fd */
  napi_create_reference(env, buffer, 1, &s->memory);
  s->base = base;
  s->total = total;
  s->ctrl = (int32_t*)((char*)base + ctrl_at);
  s->recv_meta = (int32_t*)((char*)base + recv_meta_at);
  s->send_meta = (int32_t*)((char*)base + send_meta_at);
  s->recv_arena = (unsigned char*)base + recv_arena_at;
  s->send_arena = (unsigned char*)base + send_arena_at;
  const struct { const char* name; napi_typedarray_type type; size_t length; size_t at; } views[5] = {
      {"ctrl", napi_int32_array, CTRL_INTS, ctrl_at},
      {"recvMeta", napi_int32_array, RECV_SLOTS * META_INTS, recv_meta_at},
      {"sendMeta", napi_int32_array, SEND_SLOTS * META_INTS, send_meta_at},
      {"recvArena", napi_uint8_array, (size_t)RECV_SLOTS * SLOT_BYTES, recv_arena_at},
      {"sendArena", napi_uint8_array, SEND_ARENA_BYTES, send_arena_at},
  };
  for (int i = 0; i < 5; i++) {
    napi_create_typedarray(env, views[i].type, views[i].length, buffer, views[i].at, &value);
    set_named(env, result, views[i].name, value);
  }
  return result;
}

/* start(handle, onBatch(count)): begins reading; onBatch runs once per recvmmsg batch. */
static napi_value Start(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2], name;
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  UdpSocket* s = socket_of(env, argv[0]);
  if (s == NULL) return NULL;
  if (s->started) {
    napi_throw_error(env, NULL, "already started");
    return NULL;
  }
  uv_loop_t* loop;
  napi_get_uv_event_loop(env, &loop);
  napi_valuetype type;
  if (napi_typeof(env, argv[1], &type) != napi_ok || type != napi_function) {
    napi_throw_type_error(env, NULL, "start(handle, onBatch): onBatch must be a function");
    return NULL;
  }
  napi_create_string_utf8(env, "coaps-edge:udp", NAPI_AUTO_LENGTH, &name);
  /* An async resource of its own, so each batch runs as a proper async callback (async_hooks,
   * AsyncLocalStorage, microtask and nextTick draining after it). */
  if (napi_async_init(env, NULL, name, &s->async) != napi_ok) {
    napi_throw_error(env, NULL, "napi_async_init failed");
    return NULL;
  }
  napi_create_reference(env, argv[1], 1, &s->on_batch);
  if (uv_poll_init_socket(loop, &s->poll, s->fd) != 0) {
    napi_throw_error(env, NULL, "uv_poll_init_socket failed");
    return NULL;
  }
  s->poll.data = s;
  s->started = 1;
  s->uv_closed = 0;
  s->poll_events = UV_READABLE;
  uv_poll_start(&s->poll, UV_READABLE, on_poll);
  return NULL;
}

/* flush(handle): sends what is queued now (sends made outside a receive batch). */
static napi_value Flush(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  UdpSocket* s = socket_of(env, argv[0]);
  if (s != NULL) flush(s);
  return NULL;
}

/* close(handle): idempotent; what is still queued is dropped (JavaScript drains first). */
static napi_value Close(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  void* p = NULL;
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  if (napi_get_value_external(env, argv[0], &p) == napi_ok && p != NULL) close_socket((UdpSocket*)p);
  return NULL;
}

/* bufferSizes(handle) → [SO_RCVBUF, SO_SNDBUF] as the kernel granted them. */
static napi_value BufferSizes(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1], result, value;
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  UdpSocket* s = socket_of(env, argv[0]);
  if (s == NULL) return NULL;
  int sizes[2] = {0, 0};
  socklen_t len = sizeof(int);
  getsockopt(s->fd, SOL_SOCKET, SO_RCVBUF, &sizes[0], &len);
  len = sizeof(int);
  getsockopt(s->fd, SOL_SOCKET, SO_SNDBUF, &sizes[1], &len);
  napi_create_array_with_length(env, 2, &result);
  for (uint32_t i = 0; i < 2; i++) {
    napi_create_int32(env, sizes[i], &value);
    napi_set_element(env, result, i, value);
  }
  return result;
}

/*
 * encodeAddress(address: string, port, meta: Int32Array, offset) → 0, or -1 when `address` is
 * not an IP literal. Writes family, port, scope and address words as recvMeta holds them.
 */
static napi_value EncodeAddress(napi_env env, napi_callback_info info) {
  size_t argc = 4;
  napi_value argv[4], result;
  char address[128];
  size_t length;
  int32_t port, offset;
  napi_typedarray_type type;
  size_t elements;
  void* data;
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  if (argc < 4 || napi_get_value_string_utf8(env, argv[0], address, sizeof address, &length) != napi_ok ||
      napi_get_typedarray_info(env, argv[2], &type, &elements, &data, NULL, NULL) != napi_ok || type != napi_int32_array) {
    napi_throw_type_error(env, NULL, "encodeAddress(address, port, Int32Array, offset)");
    return NULL;
  }
  if (!get_int(env, argv[1], &port) || !get_int(env, argv[3], &offset)) return NULL;
  if (offset < 0 || (size_t)offset + META_INTS > elements) {
    napi_throw_range_error(env, NULL, "offset out of range");
    return NULL;
  }
  int32_t* m = (int32_t*)data + offset;
  struct sockaddr_in a4;
  struct sockaddr_in6 a6;
  int status = 0;
  memset(&m[M_ADDRESS], 0, 16);
  m[M_PORT] = port;
  if (uv_ip4_addr(address, port, &a4) == 0) {
    m[M_FAMILY] = 4;
    m[M_SCOPE] = 0;
    memcpy(&m[M_ADDRESS], &a4.sin_addr, 4);
  } else if (uv_ip6_addr(address, port, &a6) == 0) {
    m[M_FAMILY] = 6;
    m[M_SCOPE] = (int32_t)a6.sin6_scope_id;
    memcpy(&m[M_ADDRESS], &a6.sin6_addr, 16);
  } else {
    status = -1;
  }
  napi_create_int32(env, status, &result);
  return result;
}

/*
 * formatAddress(meta: Int32Array, offset) → the address string node:dgram reports for it:
 * uv_inet_ntop ("::ffff:127.0.0.1" for a v4-mapped peer) and, for a link-local address with a
 * scope, "%" and the interface name (node's AddressToJS).
 */
static napi_value FormatAddress(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2], result;
  int32_t offset;
  napi_typedarray_type type;
  size_t elements;
  void* data;
  char text[INET6_ADDRSTRLEN + UV_IF_NAMESIZE + 2];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  if (argc < 2 || napi_get_typedarray_info(env, argv[0], &type, &elements, &data, NULL, NULL) != napi_ok ||
      type != napi_int32_array || !get_int(env, argv[1], &offset) || offset < 0 || (size_t)offset + META_INTS > elements) {
    napi_throw_type_error(env, NULL, "formatAddress(Int32Array, offset)");
    return NULL;
  }
  const int32_t* m = (const int32_t*)data + offset;
  if (m[M_FAMILY] == 4) {
    uv_inet_ntop(AF_INET, &m[M_ADDRESS], text, sizeof text);
  } else {
    struct in6_addr a;
    memcpy(&a, &m[M_ADDRESS], 16);
    uv_inet_ntop(AF_INET6, &a, text, sizeof text);
    if (IN6_IS_ADDR_LINKLOCAL(&a) && m[M_SCOPE] != 0) {
      size_t used = strlen(text);
      size_t room = sizeof text - used - 1;
      text[used] = '%';
      if (uv_if_indextoiid((unsigned)m[M_SCOPE], text + used + 1, &room) != 0) text[used] = '\0';
    }
  }
  napi_create_string_utf8(env, text, NAPI_AUTO_LENGTH, &result);
  return result;
}

static void export_int(napi_env env, napi_value exports, const char* name, int32_t v) {
  napi_value value;
  napi_create_int32(env, v, &value);
  napi_set_named_property(env, exports, name, value);
}

NAPI_MODULE_INIT() {
  napi_property_descriptor functions[] = {
      {"open", NULL, Open, NULL, NULL, NULL, napi_enumerable, NULL},
      {"start", NULL, Start, NULL, NULL, NULL, napi_enumerable, NULL},
      {"flush", NULL, Flush, NULL, NULL, NULL, napi_enumerable, NULL},
      {"close", NULL, Close, NULL, NULL, NULL, napi_enumerable, NULL},
      {"bufferSizes", NULL, BufferSizes, NULL, NULL, NULL, napi_enumerable, NULL},
      {"encodeAddress", NULL, EncodeAddress, NULL, NULL, NULL, napi_enumerable, NULL},
      {"formatAddress", NULL, FormatAddress, NULL, NULL, NULL, napi_enumerable, NULL},
  };
  napi_define_properties(env, exports, sizeof functions / sizeof functions[0], functions);
  export_int(env, exports, "SLOT_BYTES", SLOT_BYTES);
  export_int(env, exports, "RECV_SLOTS", RECV_SLOTS);
  export_int(env, exports, "SEND_SLOTS", SEND_SLOTS);
  export_int(env, exports, "SEND_ARENA_BYTES", SEND_ARENA_BYTES);
  export_int(env, exports, "META_INTS", META_INTS);
  return exports;
}
