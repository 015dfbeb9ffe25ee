/**
 * Receive-side coalescing of TCP segments — GRO in userspace, as wireguard-go and Tailscale do —
 * for a device opened with IFF_VNET_HDR. Consecutive in-order segments of one TCP flow that
 * arrive in one burst are written to the device as ONE packet whose virtio-net header asks the
 * kernel to treat it as GSO (gso_type TCPV4, gso_size = the segments' size, checksum partial), so
 * the bridge, the veth and the container's TCP see one large packet instead of dozens: the same
 * work the kernel's own GRO saves VXLAN. Nothing changes on the underlay (one IP packet per
 * datagram, as before); anything that is not such a segment is written as it came, in order.
 *
 * The rules follow Linux's tcp_gro_receive: IPv4 without options and with DF, TCP flags ACK or
 * ACK|PSH only, same addresses, ports, ack, window and options, sequence numbers contiguous, every
 * segment but the last of the same size, at most 64 KiB in all; PSH closes a run.
 */

import { fold, ipChecksum, pseudoHeader } from './csum.js';

export const VNET_HDR_LEN = 10;
const NEEDS_CSUM = 1;
const GSO_TCPV4 = 1;
const MAX_IP_LEN = 65535;
const MAX_SEGS = 64;
const ZERO_HDR = Buffer.alloc(VNET_HDR_LEN);

export interface GroStats {
  /** Device writes. */
  writes: number;
  /** Writes that carried several segments, and the segments they carried. */
  merged: number;
  mergedSegments: number;
}

export class Coalescer {
  private parts: Buffer[] = [];
  private first: Buffer = ZERO_HDR;
  private count = 0;
  /** Bytes of l2 + IP + TCP headers of the run. */
  private hdr = 0;
  private mss = 0;
  private payload = 0;
  private nextSeq = 0;
  private psh = false;
  private short = false;
  readonly stats: GroStats = { writes: 0, merged: 0, mergedSegments: 0 };

  /**
   * `l2`: 14 for Ethernet frames (tap), 0 for IP packets (tun); `write` does one writev(2).
   * `trustTcp` (packets that came through the encrypted channel, authenticated): every IPv4 TCP
   * packet is written with its checksum partial, as coalesced runs always are, so the kernel does
   * not verify what the sender did not compute (splitOffloaded with tcpChecksums false).
   */
  constructor(
    private readonly l2: number,
    private readonly write: (parts: Buffer[]) => void,
    private readonly trustTcp = false,
  ) {}

  /** Deliver one packet (or frame), exactly `p` (a view of its bytes). */
  push(p: Buffer): void {
    const ip = this.l2;
    const len = p.length;
    // IPv4, no options, TCP, DF and no fragment, length exact (no Ethernet padding).
    if (
      len < ip + 40 ||
      (ip > 0 && (p[12] !== 0x08 || p[13] !== 0x00)) ||
      p[ip] !== 0x45 ||
      p[ip + 9] !== 6 ||
      p.readUInt16BE(ip + 6) !== 0x4000 ||
      p.readUInt16BE(ip + 2) !== len - ip
    ) {
      return this.single(p);
    }
    const tcp = ip + 20;
    const hdr = tcp + (p[tcp + 12] >> 4) * 4;
    const flags = p[tcp + 13];
    const size = len - hdr;
    if (hdr < tcp + 20 || size <= 0 || (flags & 0xf7) !== 0x10 || p.readUInt16BE(tcp + 18) !== 0) return this.single(p);
    const seq = p.readUInt32BE(tcp + 4);
    if (this.count > 0 && this.joins(p, hdr, seq, size)) {
      this.parts.push(p.subarray(hdr));
      this.count++;
      this.payload += size;
      this.nextSeq = (seq + size) >>> 0;
      if (size < this.mss) this.short = true;
      if (flags & 0x08) {
        this.psh = true;
        this.flush();
      }
      return;
    }
    this.flush();
    this.first = p;
    this.parts = [ZERO_HDR, p.subarray(0, hdr), p.subarray(hdr)];
    this.count = 1;
    this.hdr = hdr;
    this.mss = size;
    this.payload = size;
    this.nextSeq = (seq + size) >>> 0;
    this.psh = (flags & 0x08) !== 0;
    this.short = false;
    if (this.psh) this.flush();
  }

  private joins(p: Buffer, hdr: number, seq: number, size: number): boolean {
    const f = this.first;
    const ip = this.l2;
    const tcp = ip + 20;
    if (hdr !== this.hdr || seq !== this.nextSeq || this.short || size > this.mss || this.count >= MAX_SEGS) return false;
    if (hdr - ip + this.payload + size > MAX_IP_LEN) return false;
    // Ethernet addresses, then TOS, TTL, addresses; ports, ack, window; options.
    for (let i = 0; i < ip; i += 2) if (p.readUInt16BE(i) !== f.readUInt16BE(i)) return false;
    if (p[ip + 1] !== f[ip + 1] || p[ip + 8] !== f[ip + 8]) return false;
    if (p.readUInt32BE(ip + 12) !== f.readUInt32BE(ip + 12) || p.readUInt32BE(ip + 16) !== f.readUInt32BE(ip + 16)) return false;
    if (
      p.readUInt32BE(tcp) !== f.readUInt32BE(tcp) ||
      p.readUInt32BE(tcp + 8) !== f.readUInt32BE(tcp + 8) ||
      p.readUInt16BE(tcp + 14) !== f.readUInt16BE(tcp + 14)
    )
      return false;
    for (let i = tcp + 20; i < hdr; i++) if (p[i] !== f[i]) return false;
    return true;
  }

  private single(p: Buffer): void {
    this.flush();
    const ip = this.l2;
    if (
      this.trustTcp &&
      p.length >= ip + 40 &&
      (ip === 0 || (p[12] === 0x08 && p[13] === 0x00)) &&
      p[ip] === 0x45 &&
      p[ip + 9] === 6 &&
      p.readUInt16BE(ip + 2) === p.length - ip
    ) {
      this.out([this.partialHeader(p, p.length - ip - 20), p], 1);
    } else this.out([ZERO_HDR, p], 1);
  }

  /** A virtio-net header that leaves the TCP checksum of `p` to the kernel, whose field it seeds. */
  private partialHeader(p: Buffer, tcpLen: number): Buffer {
    const ip = this.l2;
    p.writeUInt16BE(fold(pseudoHeader(p, ip, 6, tcpLen)), ip + 36);
    const h = Buffer.alloc(VNET_HDR_LEN);
    h[0] = NEEDS_CSUM;
    h.writeUInt16LE(ip + 20, 6);
    h.writeUInt16LE(16, 8);
    return h;
  }

  /** Write what is held (call at the end of every burst). */
  flush(): void {
    if (this.count === 0) return;
    const parts = this.parts;
    const count = this.count;
    this.count = 0;
    this.parts = [];
    // parts: [virtio-net header, the first packet's headers, payload, payload, …]
    if (count > 1) parts.splice(0, 2, this.gsoHeaders(parts[1]));
    else if (this.trustTcp) parts[0] = this.partialHeader(parts[1], this.hdr - this.l2 - 20 + this.payload);
    this.out(parts, count);
  }

  private out(parts: Buffer[], segments: number): void {
    this.stats.writes++;
    if (segments > 1) {
      this.stats.merged++;
      this.stats.mergedSegments += segments;
    }
    this.write(parts);
  }

  /** The virtio-net header for the run, then the run's IP and TCP headers (a fixed-up copy of the first's). */
  private gsoHeaders(first: Buffer): Buffer {
    const ip = this.l2;
    const tcp = ip + 20;
    const h = Buffer.allocUnsafe(VNET_HDR_LEN + this.hdr);
    h[0] = NEEDS_CSUM;
    h[1] = GSO_TCPV4;
    h.writeUInt16LE(this.hdr, 2);
    h.writeUInt16LE(this.mss, 4);
    h.writeUInt16LE(tcp, 6);
    h.writeUInt16LE(16, 8);
    first.copy(h, VNET_HDR_LEN);
    const o = VNET_HDR_LEN;
    h.writeUInt16BE(this.hdr - ip + this.payload, o + ip + 2);
    h.writeUInt16BE(0, o + ip + 10);
    h.writeUInt16BE(ipChecksum(h, o + ip), o + ip + 10);
    if (this.psh) h[o + tcp + 13] |= 0x08;
    // Checksum partial: the field holds the pseudo-header sum; the kernel adds the rest.
    h.writeUInt16BE(fold(pseudoHeader(h, o + ip, 6, this.hdr - tcp + this.payload)), o + tcp + 16);
    return h;
  }
}
