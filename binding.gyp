{
  "targets": [
    {
      "target_name": "cnlab_tun",
      "sources": ["native/tun.c", "native/udp.c"],
      "cflags": ["-O2", "-Wall", "-Wextra"]
    }
  ]
}
