import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { ADDON_PATH } from './paths.js';

/** The native addon (native/tun.c): see that file for why each of its three functions exists. */
export interface TunAddon {
  /**
   * TUNSETIFF on /dev/net/tun (IFF_TUN or IFF_TAP, IFF_NO_PI; with `offload`, IFF_VNET_HDR and
   * TUNSETOFFLOAD CSUM|TSO4): a non-blocking, close-on-exec fd.
   */
  open(name: string, tap: boolean, offload: boolean): number;
  /** Call `onReadable` on the main thread whenever the fd is readable (libuv poll). */
  watch(fd: number, onReadable: (status: number) => void): void;
  /** Read packets until EAGAIN or the slots run out: packet i at buf[i*slot], its length in lens[i]. */
  readBurst(fd: number, buf: Buffer, slot: number, lens: Int32Array): number;
  /** A bound, unconnected, non-blocking UDP socket with UDP_GRO and buffers of `bufBytes` (forced). */
  udpOpen(ip: string, port: number, bufBytes: number): number;
  /** One sendmsg of buf[offset..offset+length) to ip:port, cut into datagrams of `segSize` bytes (UDP_SEGMENT) when > 0: bytes sent or −errno. */
  udpSend(fd: number, ip: number, port: number, buf: Buffer, offset: number, length: number, segSize: number): number;
  /** recvmmsg: datagram i at buf[i*slot], lens[i] bytes (−1: truncated), segs[i] its GRO segment size (0: one datagram), srcs[i] its source. */
  udpRecvBurst(fd: number, buf: Buffer, slot: number, lens: Int32Array, segs: Int32Array, srcs: Uint32Array): number;
}

export function loadAddon(): TunAddon {
  if (!existsSync(ADDON_PATH)) {
    throw new Error(`native TUN addon not built (${ADDON_PATH} is missing): run make build (or npm run build:native)`);
  }
  return createRequire(import.meta.url)(ADDON_PATH) as TunAddon;
}
