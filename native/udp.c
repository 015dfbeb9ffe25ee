/*
 * The daemon's UDP socket, native because Node's dgram cannot reach what makes a userspace tunnel
 * fast (measured: README.md, "Userspace encapsulation"): one sendmsg for a run of equal-sized datagrams
 * (UDP_SEGMENT, the kernel cuts them; on the wire they are ordinary datagrams), one recvmmsg for
 * many datagrams, each possibly a train the kernel coalesced (UDP_GRO), and a receive buffer
 * beyond net.core.rmem_max (SO_RCVBUFFORCE; the daemon runs as root) without touching the host's
 * global sysctl. The socket is never connected, so an ICMP port-unreachable from a peer that is not
 * up yet is never an error.
 *
 *   udpOpen(ip, port, bufBytes)                  -> fd
 *   udpSend(fd, ip, port, buf, off, len, segSize) -> bytes sent, or -errno (never throws for the network):
 *                                                   buf[off..off+len) cut into segSize-byte datagrams
 *   udpRecvBurst(fd, buf, slot, lens, segs, srcs) -> n: datagram i at buf[i*slot], lens[i] bytes
 *                                                   (-1: truncated), segs[i] the GRO segment size
 *                                                   (0: a single datagram), srcs[i] its source IPv4
 */
#define _GNU_SOURCE /* recvmmsg */
#include "cnlab.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/udp.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define MAX_BURST 64

static int parse_ip(napi_env env, napi_value v, struct in_addr *out) {
  char text[INET_ADDRSTRLEN];
  size_t len = 0;
  if (napi_get_value_string_utf8(env, v, text, sizeof text, &len) != napi_ok) return 0;
  return inet_pton(AF_INET, text, out) == 1;
}

napi_value udp_open(napi_env env, napi_callback_info info) {
  size_t argc = 3;
  napi_value argv[3];
  CHECK(env, napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  struct sockaddr_in addr = {.sin_family = AF_INET};
  int32_t port = 0, bytes = 0;
  if (argc < 3 || !parse_ip(env, argv[0], &addr.sin_addr) || napi_get_value_int32(env, argv[1], &port) != napi_ok ||
      napi_get_value_int32(env, argv[2], &bytes) != napi_ok || port < 1 || port > 65535 || bytes < 0) {
    napi_throw_type_error(env, NULL, "udpOpen(ip: string, port: number, bufBytes: number)");
    return NULL;
  }
  addr.sin_port = htons((uint16_t)port);
  int fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) return throw_errno(env, "socket", errno);
  if (bytes > 0) {
    if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &bytes, sizeof bytes) < 0) setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &bytes, sizeof bytes);
    if (setsockopt(fd, SOL_SOCKET, SO_SNDBUFFORCE, &bytes, sizeof bytes) < 0) setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &bytes, sizeof bytes);
  }
  int one = 1;
  setsockopt(fd, IPPROTO_UDP, UDP_GRO, &one, sizeof one); /* best effort: without it, one datagram per message */
  if (bind(fd, (struct sockaddr *)&addr, sizeof addr) < 0) {
    int err = errno;
    close(fd);
    return throw_errno(env, "bind", err);
  }
  napi_value out;
  CHECK(env, napi_create_int32(env, fd, &out));
  return out;
}

napi_value udp_send(napi_env env, napi_callback_info info) {
  size_t argc = 7;
  napi_value argv[7];
  CHECK(env, napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  int32_t fd = -1, port = 0, off = 0, len = 0, seg = 0;
  uint32_t ip = 0;
  void *base = NULL;
  size_t buflen = 0;
  bool isBuf = false;
  if (argc < 7 || napi_get_value_int32(env, argv[0], &fd) != napi_ok || napi_get_value_uint32(env, argv[1], &ip) != napi_ok ||
      napi_get_value_int32(env, argv[2], &port) != napi_ok || napi_is_buffer(env, argv[3], &isBuf) != napi_ok || !isBuf ||
      napi_get_buffer_info(env, argv[3], &base, &buflen) != napi_ok || napi_get_value_int32(env, argv[4], &off) != napi_ok ||
      napi_get_value_int32(env, argv[5], &len) != napi_ok || napi_get_value_int32(env, argv[6], &seg) != napi_ok || off < 0 || len <= 0 ||
      (size_t)off + (size_t)len > buflen || seg < 0 || seg > 65535) {
    napi_throw_type_error(env, NULL, "udpSend(fd, ip: number, port, buf: Buffer, offset, length, segSize)");
    return NULL;
  }
  struct iovec iov = {.iov_base = (char *)base + off, .iov_len = (size_t)len};
  struct sockaddr_in to = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port), .sin_addr = {.s_addr = htonl(ip)}};
  char ctrl[CMSG_SPACE(sizeof(uint16_t))];
  struct msghdr msg = {.msg_name = &to, .msg_namelen = sizeof to, .msg_iov = &iov, .msg_iovlen = 1};
  if (seg > 0) {
    memset(ctrl, 0, sizeof ctrl);
    msg.msg_control = ctrl;
    msg.msg_controllen = sizeof ctrl;
    struct cmsghdr *c = CMSG_FIRSTHDR(&msg);
    c->cmsg_level = SOL_UDP;
    c->cmsg_type = UDP_SEGMENT;
    c->cmsg_len = CMSG_LEN(sizeof(uint16_t));
    uint16_t s = (uint16_t)seg;
    memcpy(CMSG_DATA(c), &s, sizeof s);
  }
  ssize_t r;
  do r = sendmsg(fd, &msg, MSG_DONTWAIT);
  while (r < 0 && errno == EINTR);
  napi_value out;
  CHECK(env, napi_create_int32(env, r < 0 ? -errno : (int32_t)r, &out));
  return out;
}

static bool typed(napi_env env, napi_value v, napi_typedarray_type want, void **data, size_t *len) {
  napi_typedarray_type t;
  return napi_get_typedarray_info(env, v, &t, len, data, NULL, NULL) == napi_ok && t == want;
}

napi_value udp_recv_burst(napi_env env, napi_callback_info info) {
  size_t argc = 6;
  napi_value argv[6];
  CHECK(env, napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  int32_t fd = -1, slot = 0;
  void *base = NULL, *lensData = NULL, *segsData = NULL, *srcsData = NULL;
  size_t buflen = 0, nLens = 0, nSegs = 0, nSrcs = 0;
  bool isBuf = false;
  if (argc < 6 || napi_get_value_int32(env, argv[0], &fd) != napi_ok || napi_is_buffer(env, argv[1], &isBuf) != napi_ok || !isBuf ||
      napi_get_buffer_info(env, argv[1], &base, &buflen) != napi_ok || napi_get_value_int32(env, argv[2], &slot) != napi_ok || slot <= 0 ||
      !typed(env, argv[3], napi_int32_array, &lensData, &nLens) || !typed(env, argv[4], napi_int32_array, &segsData, &nSegs) ||
      !typed(env, argv[5], napi_uint32_array, &srcsData, &nSrcs)) {
    napi_throw_type_error(env, NULL, "udpRecvBurst(fd, buf: Buffer, slot, lens: Int32Array, segs: Int32Array, srcs: Uint32Array)");
    return NULL;
  }
  size_t count = buflen / (size_t)slot;
  if (count > nLens) count = nLens;
  if (count > nSegs) count = nSegs;
  if (count > nSrcs) count = nSrcs;
  if (count > MAX_BURST) count = MAX_BURST;
  struct mmsghdr msgs[MAX_BURST];
  struct iovec iov[MAX_BURST];
  struct sockaddr_in from[MAX_BURST];
  char ctrl[MAX_BURST][CMSG_SPACE(sizeof(int))];
  memset(msgs, 0, sizeof msgs[0] * count);
  for (size_t i = 0; i < count; i++) {
    iov[i].iov_base = (char *)base + i * (size_t)slot;
    iov[i].iov_len = (size_t)slot;
    msgs[i].msg_hdr.msg_iov = &iov[i];
    msgs[i].msg_hdr.msg_iovlen = 1;
    msgs[i].msg_hdr.msg_name = &from[i];
    msgs[i].msg_hdr.msg_namelen = sizeof from[i];
    msgs[i].msg_hdr.msg_control = ctrl[i];
    msgs[i].msg_hdr.msg_controllen = sizeof ctrl[i];
  }
  int n;
  do n = recvmmsg(fd, msgs, (unsigned)count, MSG_DONTWAIT, NULL);
  while (n < 0 && errno == EINTR);
  if (n < 0) {
    if (errno == EAGAIN) n = 0;
    else return throw_errno(env, "recvmmsg", errno);
  }
  int32_t *lens = lensData, *segs = segsData;
  uint32_t *srcs = srcsData;
  for (int i = 0; i < n; i++) {
    struct msghdr *h = &msgs[i].msg_hdr;
    lens[i] = (h->msg_flags & MSG_TRUNC) ? -1 : (int32_t)msgs[i].msg_len;
    segs[i] = 0;
    for (struct cmsghdr *c = CMSG_FIRSTHDR(h); c; c = CMSG_NXTHDR(h, c)) {
      if (c->cmsg_level == SOL_UDP && c->cmsg_type == UDP_GRO) {
        int s;
        memcpy(&s, CMSG_DATA(c), sizeof s);
        segs[i] = s;
      }
    }
    srcs[i] = ntohl(from[i].sin_addr.s_addr);
  }
  napi_value out;
  CHECK(env, napi_create_int32(env, n, &out));
  return out;
}
