/*
 * cnlab_tun: the native piece of cnlab's encapsulation daemon (src/encap/), for what Node cannot
 * reach. This file: the device. Node can open files, but it cannot issue the TUNSETIFF ioctl
 * that turns /dev/net/tun into a TUN/TAP device, nor TUNSETOFFLOAD, and it can wait for a
 * character device to become readable only by parking a blocking fs.read in the libuv thread
 * pool, one packet per round trip. udp.c: the socket.
 *
 *   open(name, tap, offload) -> fd   TUNSETIFF with IFF_TUN or IFF_TAP, always IFF_NO_PI; with
 *                                    `offload`, IFF_VNET_HDR and TUNSETOFFLOAD(CSUM | TSO4): every
 *                                    packet then starts with a 10-byte virtio-net header, reads
 *                                    may return TCP super-packets (cut by the daemon) and writes
 *                                    may carry coalesced segments (GSO). Non-blocking, close-on-exec.
 *   watch(fd, callback)             libuv poll on the fd (readable): callback(status) on the main
 *                                    thread, through napi_make_callback so that process.nextTick
 *                                    and promise jobs run after it, as after any Node callback.
 *   readBurst(fd, buf, slot, lens) -> n   read(2) packets until EAGAIN or until the slots run
 *                                    out: packet i lands at buf[i*slot], its length in lens[i].
 *
 * Writing needs nothing native: fs.writeSync / fs.writevSync are one write(2) / writev(2).
 */
#include "cnlab.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/if.h>
#include <linux/if_tun.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <unistd.h>
#include <uv.h>

static napi_value tun_open(napi_env env, napi_callback_info info) {
  size_t argc = 3;
  napi_value argv[3];
  CHECK(env, napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  char name[IFNAMSIZ];
  size_t len = 0;
  bool tap = false, offload = false;
  if (argc < 3 || napi_get_value_string_utf8(env, argv[0], name, sizeof name, &len) != napi_ok ||
      napi_get_value_bool(env, argv[1], &tap) != napi_ok || napi_get_value_bool(env, argv[2], &offload) != napi_ok) {
    napi_throw_type_error(env, NULL, "open(name: string, tap: boolean, offload: boolean)");
    return NULL;
  }
  if (len == 0 || len >= IFNAMSIZ - 1) {
    napi_throw_range_error(env, NULL, "device name must be 1-14 characters");
    return NULL;
  }
  int fd = open("/dev/net/tun", O_RDWR | O_NONBLOCK | O_CLOEXEC);
  if (fd < 0) return throw_errno(env, "open /dev/net/tun", errno);
  struct ifreq ifr;
  memset(&ifr, 0, sizeof ifr);
  ifr.ifr_flags = (short)((tap ? IFF_TAP : IFF_TUN) | IFF_NO_PI | (offload ? IFF_VNET_HDR : 0));
  memcpy(ifr.ifr_name, name, len);
  if (ioctl(fd, TUNSETIFF, &ifr) < 0) {
    int err = errno;
    close(fd);
    return throw_errno(env, "TUNSETIFF", err);
  }
  if (offload && ioctl(fd, TUNSETOFFLOAD, (unsigned long)(TUN_F_CSUM | TUN_F_TSO4)) < 0) {
    int err = errno;
    close(fd);
    return throw_errno(env, "TUNSETOFFLOAD", err);
  }
  napi_value out;
  CHECK(env, napi_create_int32(env, fd, &out));
  return out;
}

typedef struct {
  uv_poll_t poll;
  napi_env env;
  napi_ref callback;
  napi_async_context context;
} watcher_t;

static void on_readable(uv_poll_t *handle, int status, int events) {
  (void)events;
  watcher_t *w = (watcher_t *)handle->data;
  napi_env env = w->env;
  napi_handle_scope scope;
  if (napi_open_handle_scope(env, &scope) != napi_ok) return;
  napi_value cb, recv, arg, result;
  napi_get_reference_value(env, w->callback, &cb);
  napi_get_global(env, &recv);
  napi_create_int32(env, status, &arg);
  if (napi_make_callback(env, w->context, recv, cb, 1, &arg, &result) == napi_pending_exception) {
    napi_value exc;
    napi_get_and_clear_last_exception(env, &exc);
    napi_fatal_exception(env, exc);
  }
  napi_close_handle_scope(env, scope);
}

static napi_value tun_watch(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  CHECK(env, napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  int32_t fd = -1;
  napi_valuetype type = napi_undefined;
  if (argc < 2 || napi_get_value_int32(env, argv[0], &fd) != napi_ok || fd < 0 ||
      napi_typeof(env, argv[1], &type) != napi_ok || type != napi_function) {
    napi_throw_type_error(env, NULL, "watch(fd: number, callback: (status: number) => void)");
    return NULL;
  }
  uv_loop_t *loop;
  CHECK(env, napi_get_uv_event_loop(env, &loop));
  /* Lives as long as the process: a daemon watches its device until it exits. */
  watcher_t *w = calloc(1, sizeof *w);
  if (!w) return throw_errno(env, "watch", ENOMEM);
  w->env = env;
  napi_value name;
  CHECK(env, napi_create_string_utf8(env, "cnlab_tun.watch", NAPI_AUTO_LENGTH, &name));
  CHECK(env, napi_async_init(env, NULL, name, &w->context));
  CHECK(env, napi_create_reference(env, argv[1], 1, &w->callback));
  int err = uv_poll_init(loop, &w->poll, fd);
  if (err == 0) {
    w->poll.data = w;
    err = uv_poll_start(&w->poll, UV_READABLE, on_readable);
  }
  if (err != 0) {
    napi_throw_error(env, NULL, uv_strerror(err));
    return NULL;
  }
  return NULL;
}

static napi_value tun_read_burst(napi_env env, napi_callback_info info) {
  size_t argc = 4;
  napi_value argv[4];
  CHECK(env, napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  int32_t fd = -1, slot = 0;
  void *base = NULL;
  size_t buflen = 0, count = 0;
  napi_typedarray_type ttype;
  void *lensData = NULL;
  bool isBuf = false;
  if (argc < 4 || napi_get_value_int32(env, argv[0], &fd) != napi_ok || napi_is_buffer(env, argv[1], &isBuf) != napi_ok || !isBuf ||
      napi_get_buffer_info(env, argv[1], &base, &buflen) != napi_ok || napi_get_value_int32(env, argv[2], &slot) != napi_ok ||
      napi_get_typedarray_info(env, argv[3], &ttype, &count, &lensData, NULL, NULL) != napi_ok || ttype != napi_int32_array ||
      slot <= 0) {
    napi_throw_type_error(env, NULL, "readBurst(fd: number, buf: Buffer, slot: number, lens: Int32Array)");
    return NULL;
  }
  int32_t *lens = (int32_t *)lensData;
  size_t n = 0;
  while (n < count && (n + 1) * (size_t)slot <= buflen) {
    ssize_t r = read(fd, (char *)base + n * (size_t)slot, (size_t)slot);
    if (r < 0) {
      if (errno == EINTR) continue;
      if (errno == EAGAIN) break;
      if (n > 0) break; /* report the error on the next call, after these packets */
      return throw_errno(env, "read", errno);
    }
    lens[n++] = (int32_t)r;
  }
  napi_value out;
  CHECK(env, napi_create_uint32(env, (uint32_t)n, &out));
  return out;
}

static napi_value init(napi_env env, napi_value exports) {
  napi_property_descriptor props[] = {
      {"open", NULL, tun_open, NULL, NULL, NULL, napi_enumerable, NULL},
      {"watch", NULL, tun_watch, NULL, NULL, NULL, napi_enumerable, NULL},
      {"readBurst", NULL, tun_read_burst, NULL, NULL, NULL, napi_enumerable, NULL},
      {"udpOpen", NULL, udp_open, NULL, NULL, NULL, napi_enumerable, NULL},
      {"udpSend", NULL, udp_send, NULL, NULL, NULL, napi_enumerable, NULL},
      {"udpRecvBurst", NULL, udp_recv_burst, NULL, NULL, NULL, napi_enumerable, NULL},
  };
  CHECK(env, napi_define_properties(env, exports, sizeof props / sizeof props[0], props));
  return exports;
}

NAPI_MODULE(NODE_GYP_MODULE_NAME, init)
