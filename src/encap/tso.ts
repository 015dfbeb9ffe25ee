import { completeChecksum, fold, sumView, viewOf } from './csum.js';
import { VNET_HDR_LEN } from './gro.js';

/**
 * The read side of device offloads (TUN_F_CSUM | TUN_F_TSO4): every packet read starts with a
 * virtio-net header. A checksum the kernel left partial is completed here; a TCP super-packet (up
 * to 64 KiB, what the container's TCP handed to the stack) is cut into segments of gso_size, each
 * with its own IP and TCP headers and checksums — exactly what the kernel's GSO would have done
 * before handing them over one read(2) at a time. The segments are the packets that cross the
 * underlay, one per datagram, as without offloads.
 */

const NEEDS_CSUM = 1;
const GSO_NONE = 0;
const GSO_TCPV4 = 1;
const GSO_ECN = 0x80;
const TCP_FIN = 0x01;
const TCP_PSH = 0x08;
const TCP_CWR = 0x80;

/**
 * Receives each packet: [packet] or [headers, payload] (views), and its length.
 *
 * `tcpChecksums: false` (the encrypted channel, whose AEAD authenticates every byte, as WireGuard
 * trusts its own and marks decrypted packets CHECKSUM_UNNECESSARY): IPv4 TCP checksums the kernel
 * left partial stay partial (the segments' are left zero), and the receiving daemon hands them to
 * its kernel as partial (Coalescer with trustTcp). Saves summing every payload byte here.
 */
export type PacketOut = (parts: Buffer[], len: number) => void;

/**
 * The packets in one read at b[off..off+len) (virtio-net header first); `l2` is 14 for Ethernet
 * frames, 0 for IP packets. Returns a drop reason, or null.
 */
export function splitOffloaded(b: Buffer, off: number, len: number, l2: number, out: PacketOut, tcpChecksums = true): string | null {
  if (len < VNET_HDR_LEN + l2 + 20) return 'short';
  const flags = b[off];
  const gso = b[off + 1] & ~GSO_ECN;
  const gsoSize = b.readUInt16LE(off + 4);
  const csumStart = b.readUInt16LE(off + 6);
  const csumOffset = b.readUInt16LE(off + 8);
  const p = off + VNET_HDR_LEN;
  const plen = len - VNET_HDR_LEN;
  if (gso === GSO_NONE) {
    if (flags & NEEDS_CSUM) {
      if (csumStart + csumOffset + 2 > plen) return 'bad-offload';
      const tcp4 = b[p + l2] === 0x45 && b[p + l2 + 9] === 6 && csumStart === l2 + 20 && csumOffset === 16;
      if (tcpChecksums || !tcp4) completeChecksum(b, p + csumStart, csumOffset, p + plen);
    }
    out([b.subarray(p, p + plen)], plen);
    return null;
  }
  const ip = p + l2;
  if (gso !== GSO_TCPV4 || (l2 > 0 && b.readUInt16BE(p + 12) !== 0x0800) || b[ip] !== 0x45 || b[ip + 9] !== 6 || gsoSize === 0)
    return 'bad-offload';
  const tcp = ip + 20;
  const thl = (b[tcp + 12] >> 4) * 4;
  const hdr = l2 + 20 + thl;
  const total = plen - hdr;
  if (thl < 20 || total <= 0) return 'bad-offload';
  const id0 = b.readUInt16BE(ip + 4);
  const seq0 = b.readUInt32BE(tcp + 4);
  const flags0 = b[tcp + 13];
  const count = Math.ceil(total / gsoSize);
  // All the segments' headers in one allocation, each a copy of the super-packet's, fixed up.
  const hb = Buffer.allocUnsafe(hdr * count);
  const hv = viewOf(hb);
  const bv = viewOf(b);
  const template = b.subarray(p, p + hdr);
  for (let i = 0; i < count; i++) {
    const o = i * gsoSize;
    const n = Math.min(gsoSize, total - o);
    const h0 = i * hdr;
    const hip = h0 + l2;
    const htcp = hip + 20;
    hb.set(template, h0);
    hv.setUint16(hip + 2, 20 + thl + n);
    hv.setUint16(hip + 4, (id0 + i) & 0xffff);
    hv.setUint16(hip + 10, 0);
    hv.setUint16(hip + 10, ~fold(sumView(hv, hip, hip + 20)) & 0xffff);
    hv.setUint32(htcp + 4, (seq0 + o) >>> 0);
    let f = flags0;
    if (i < count - 1) f &= ~(TCP_FIN | TCP_PSH);
    if (i > 0) f &= ~TCP_CWR;
    hb[htcp + 13] = f;
    hv.setUint16(htcp + 16, 0);
    const start = p + hdr + o;
    if (tcpChecksums) {
      const sum = sumView(hv, hip + 12, hip + 20) + 6 + thl + n + sumView(hv, htcp, htcp + thl) + sumView(bv, start, start + n);
      hv.setUint16(htcp + 16, ~fold(sum) & 0xffff);
    }
    out([hb.subarray(h0, h0 + hdr), b.subarray(start, start + n)], hdr + n);
  }
  return null;
}
