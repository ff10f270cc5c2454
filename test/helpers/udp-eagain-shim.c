/*
 * udp-eagain-shim.so: an LD_PRELOAD shim that makes sendmmsg(2) on ONE UDP socket refuse
 * (EAGAIN, ENOBUFS) or take only part of a batch, on cue, so a test can drive the native UDP
 * engine's send queue (edge-agent/native/udp/udp.c, flush()) through its backpressure path; and
 * that can have ICMP errors raise POLLERR on that socket (UDP_SHIM_RECVERR), to drive on_poll's
 * error path.
 *
 * Why a shim: over loopback the kernel never makes a sender wait (a datagram goes straight into
 * the receiver's buffer, or is dropped there when that is full), so a non-blocking sendmmsg never
 * fails with EAGAIN/ENOBUFS nor stops short for lack of room, and the queue-and-poll-for-writable
 * path would run only in production, on a congested link or a full socket buffer.
 *
 *   UDP_SHIM_PORT=40123   only the socket bound to this local port is touched (node:dgram in the
 *                         same process may call sendmmsg too: libuv sends its own queue with it);
 *                         unset, the shim passes everything through
 *   UDP_SHIM_PLAN=partial:2,eagain*2,enobufs,pass
 *                         steps, one consumed per sendmmsg call on that socket:
 *                           eagain     fail with EAGAIN, nothing sent
 *                           enobufs    fail with ENOBUFS, nothing sent
 *                           partial:K  send the batch's first K datagrams only (the real call
 *                                      with vlen K) and return what it returns
 *                           pass       the real call
 *                         STEP*N repeats a step N times; STEP* repeats it until the plan changes.
 *                         After the last step every call passes through.
 *
 *   UDP_SHIM_RECVERR=1    at that socket's next sendmmsg, before the call, turn on IP_RECVERR (and
 *                         IPV6_RECVERR too on an IPv6 socket, whose IPv4-mapped peers' errors come
 *                         as ICMPv4), traced once as "recverr on (IPv4|IPv6)". RFC 1122 §4.1.3.3 has
 *                         UDP pass ICMP errors up; Linux does so for an unconnected socket only with
 *                         this option (ip(7), ipv6(7)): the error (a port unreachable from a closed
 *                         loopback port) then waits in the socket's error queue and raises POLLERR,
 *                         which the engine's socket otherwise never sees. Not at bind(): the engine
 *                         binds port 0, so the port this shim targets is known only afterwards.
 *
 * All variables are read at every call (getenv): node's process.env assignments call setenv(3)
 * on the main thread, so the child process under test arms and releases the shim while it runs
 * (the engine calls sendmmsg on that thread too). A plan that differs from the last one seen
 * starts at its first step. A plan the shim cannot parse, or IP_RECVERR refused, ends the process
 * (exit 70), so a typo cannot let a test pass on untouched sends.
 *
 * The shim also wraps epoll_wait/epoll_pwait (libuv's poll, which files each fd under data.fd)
 * and traces each EPOLLERR reported for that socket, so a test sees that an error was raised and
 * how often (an error nobody clears is reported again at every turn of the loop).
 *
 * Trace on stderr, one line per call on that socket, runs of identical lines folded into one
 * with " xN" (a held socket polls writable in a busy loop); written when the line or the plan
 * changes and at exit:
 *   udp-eagain-shim: vlen=40 partial:2 -> 2
 *   udp-eagain-shim: vlen=38 eagain -> EAGAIN x2
 *   udp-eagain-shim: recverr on (IPv4)
 *   udp-eagain-shim: EPOLLERR
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>

typedef enum { PASS, REFUSE_EAGAIN, REFUSE_ENOBUFS, PARTIAL } Action;

typedef struct {
  Action action;
  unsigned keep;  /* PARTIAL: datagrams sent */
  long repeat;    /* calls this step takes; -1: until the plan changes */
} Step;

#define MAX_STEPS 32
static char plan_seen[512];
static Step steps[MAX_STEPS];
static int step_count, step_at;
static long step_used;

static char trace_line[96];
static unsigned long trace_repeats;

typedef int (*sendmmsg_fn)(int, struct mmsghdr*, unsigned int, int);

static void die(const char* why, const char* what) {
  fprintf(stderr, "udp-eagain-shim: %s: %s\n", why, what);
  exit(70);
}

/* Writes the pending trace line (with its repeat count) and forgets it. */
static void trace_flush(void) {
  if (trace_repeats == 0) return;
  if (trace_repeats == 1) fprintf(stderr, "udp-eagain-shim: %s\n", trace_line);
  else fprintf(stderr, "udp-eagain-shim: %s x%lu\n", trace_line, trace_repeats);
  trace_repeats = 0;
}

__attribute__((destructor)) static void trace_at_exit(void) { trace_flush(); }

static void trace(const char* line) {
  if (trace_repeats > 0 && strcmp(line, trace_line) == 0) {
    trace_repeats++;
    return;
  }
  trace_flush();
  snprintf(trace_line, sizeof trace_line, "%s", line);
  trace_repeats = 1;
}

/* One step: "eagain", "enobufs", "pass" or "partial:K", then optionally "*" or "*N". */
static Step parse_step(char* text) {
  Step s = {PASS, 0, 1};
  char* star = strchr(text, '*');
  if (star != NULL) {
    *star = '\0';
    char* end;
    s.repeat = star[1] == '\0' ? -1 : strtol(star + 1, &end, 10);
    if (star[1] != '\0' && (*end != '\0' || s.repeat < 1)) die("bad repeat count", star + 1);
  }
  if (strcmp(text, "eagain") == 0) s.action = REFUSE_EAGAIN;
  else if (strcmp(text, "enobufs") == 0) s.action = REFUSE_ENOBUFS;
  else if (strcmp(text, "pass") == 0) s.action = PASS;
  else if (strncmp(text, "partial:", 8) == 0) {
    char* end;
    long keep = strtol(text + 8, &end, 10);
    if (*end != '\0' || keep < 1) die("bad partial count", text);
    s.action = PARTIAL;
    s.keep = (unsigned)keep;
  } else {
    die("unknown step", text);
  }
  return s;
}

/* Re-reads UDP_SHIM_PLAN; a changed plan starts over at its first step. */
static void load_plan(void) {
  const char* plan = getenv("UDP_SHIM_PLAN");
  if (plan == NULL) plan = "";
  if (strcmp(plan, plan_seen) == 0) return;
  if (strlen(plan) >= sizeof plan_seen) die("plan too long", plan);
  trace_flush(); /* the trace shows where one plan ended and the next began */
  snprintf(plan_seen, sizeof plan_seen, "%s", plan);
  char copy[sizeof plan_seen];
  snprintf(copy, sizeof copy, "%s", plan);
  step_count = step_at = 0;
  step_used = 0;
  for (char* save = NULL, *token = strtok_r(copy, ",", &save); token != NULL; token = strtok_r(NULL, ",", &save)) {
    if (step_count == MAX_STEPS) die("too many steps", plan);
    steps[step_count++] = parse_step(token);
  }
}

/* The step for this call (PASS once the plan is used up). */
static Step next_step(void) {
  if (step_at >= step_count) return (Step){PASS, 0, 1};
  Step s = steps[step_at];
  if (s.repeat > 0 && ++step_used == s.repeat) {
    step_at++;
    step_used = 0;
  }
  return s;
}

/* The family (AF_INET, AF_INET6) of fd if it is the socket UDP_SHIM_PORT names, else 0
 * (sin_port and sin6_port share their offset). */
static int targeted(int fd) {
  const char* port = getenv("UDP_SHIM_PORT");
  if (port == NULL || *port == '\0') return 0;
  struct sockaddr_in6 local;
  socklen_t length = sizeof local;
  if (getsockname(fd, (struct sockaddr*)&local, &length) != 0) return 0;
  if (local.sin6_family != AF_INET && local.sin6_family != AF_INET6) return 0;
  return ntohs(local.sin6_port) == (unsigned)atoi(port) ? local.sin6_family : 0;
}

/* UDP_SHIM_RECVERR=1: IP_RECVERR on the targeted socket fd (and IPV6_RECVERR if it is IPv6),
 * traced when it turns them on; the kernel reports the state, so nothing is kept here. */
static void recverr_on(int fd, int family) {
  const char* wanted = getenv("UDP_SHIM_RECVERR");
  if (wanted == NULL || strcmp(wanted, "1") != 0) return;
  int on = 1, was = 0;
  socklen_t length = sizeof was;
  int level = family == AF_INET6 ? IPPROTO_IPV6 : IPPROTO_IP;
  int name = family == AF_INET6 ? IPV6_RECVERR : IP_RECVERR;
  if (getsockopt(fd, level, name, &was, &length) != 0) die("getsockopt RECVERR", strerror(errno));
  if (was) return;
  /* On an IPv6 socket, IP_RECVERR covers its IPv4-mapped peers (their ICMPv4 errors). */
  if (setsockopt(fd, IPPROTO_IP, IP_RECVERR, &on, sizeof on) != 0) die("setsockopt IP_RECVERR", strerror(errno));
  if (family == AF_INET6 && setsockopt(fd, IPPROTO_IPV6, IPV6_RECVERR, &on, sizeof on) != 0) die("setsockopt IPV6_RECVERR", strerror(errno));
  trace(family == AF_INET6 ? "recverr on (IPv6)" : "recverr on (IPv4)");
}

int sendmmsg(int fd, struct mmsghdr* msgs, unsigned int vlen, int flags) {
  static sendmmsg_fn real;
  if (real == NULL) real = (sendmmsg_fn)dlsym(RTLD_NEXT, "sendmmsg");
  if (real == NULL) die("no sendmmsg", "dlsym(RTLD_NEXT)");
  int family = targeted(fd);
  if (family == 0) return real(fd, msgs, vlen, flags);
  recverr_on(fd, family);
  load_plan();
  Step step = next_step();
  int result, error = 0;
  char name[32];
  switch (step.action) {
    case REFUSE_EAGAIN:
      result = -1;
      error = EAGAIN;
      snprintf(name, sizeof name, "eagain");
      break;
    case REFUSE_ENOBUFS:
      result = -1;
      error = ENOBUFS;
      snprintf(name, sizeof name, "enobufs");
      break;
    case PARTIAL:
      result = real(fd, msgs, step.keep < vlen ? step.keep : vlen, flags);
      error = errno;
      snprintf(name, sizeof name, "partial:%u", step.keep);
      break;
    default:
      result = real(fd, msgs, vlen, flags);
      error = errno;
      snprintf(name, sizeof name, "pass");
      break;
  }
  char line[sizeof trace_line];
  if (result >= 0) snprintf(line, sizeof line, "vlen=%u %s -> %d", vlen, name, result);
  else snprintf(line, sizeof line, "vlen=%u %s -> %s", vlen, name, error == EAGAIN ? "EAGAIN" : error == ENOBUFS ? "ENOBUFS" : strerror(error));
  trace(line);
  errno = error;
  return result;
}

/* Traces the EPOLLERR events among the n a poll returned that name the targeted socket. Only an
 * EPOLLERR costs a look (getenv, getsockname): other threads' loops (tsx's module loader) poll
 * too, and must not read the environment while the main thread sets it. An epoll user that files
 * a pointer, not an fd, under data costs one getsockname on a stray number, which fails. */
static void trace_epollerr(const struct epoll_event* events, int n) {
  int saved = errno;
  for (int i = 0; i < n; i++)
    if ((events[i].events & EPOLLERR) && targeted(events[i].data.fd)) trace("EPOLLERR");
  errno = saved;
}

typedef int (*epoll_wait_fn)(int, struct epoll_event*, int, int);
typedef int (*epoll_pwait_fn)(int, struct epoll_event*, int, int, const sigset_t*);

int epoll_wait(int epfd, struct epoll_event* events, int maxevents, int timeout) {
  static epoll_wait_fn real;
  if (real == NULL) real = (epoll_wait_fn)dlsym(RTLD_NEXT, "epoll_wait");
  if (real == NULL) die("no epoll_wait", "dlsym(RTLD_NEXT)");
  int n = real(epfd, events, maxevents, timeout);
  trace_epollerr(events, n);
  return n;
}

int epoll_pwait(int epfd, struct epoll_event* events, int maxevents, int timeout, const sigset_t* sigmask) {
  static epoll_pwait_fn real;
  if (real == NULL) real = (epoll_pwait_fn)dlsym(RTLD_NEXT, "epoll_pwait");
  if (real == NULL) die("no epoll_pwait", "dlsym(RTLD_NEXT)");
  int n = real(epfd, events, maxevents, timeout, sigmask);
  trace_epollerr(events, n);
  return n;
}
