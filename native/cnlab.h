/* Shared by the addon's two files (tun.c: the device and init; udp.c: the socket). */
#ifndef CNLAB_H
#define CNLAB_H
#define NAPI_VERSION 8
#include <node_api.h>
#include <stdio.h>
#include <string.h>

#define CHECK(env, call)                                                        \
  do {                                                                          \
    if ((call) != napi_ok) {                                                    \
      napi_throw_error((env), NULL, "cnlab_tun: N-API call failed: " #call);    \
      return NULL;                                                              \
    }                                                                           \
  } while (0)

static inline napi_value throw_errno(napi_env env, const char *what, int err) {
  char msg[256];
  snprintf(msg, sizeof msg, "%s: %s", what, strerror(err));
  napi_throw_error(env, NULL, msg);
  return NULL;
}

napi_value udp_open(napi_env env, napi_callback_info info);
napi_value udp_send(napi_env env, napi_callback_info info);
napi_value udp_recv_burst(napi_env env, napi_callback_info info);
#endif
