import { ipToInt, maskOf } from '../lab/ipv4.js';
import type { Route } from './config.js';

/** Where a packet goes: flannel's subnet → host table, and weave's learned MAC → peer table. */

/** Destination address → peer index, by longest prefix among the configured blocks. */
export class RouteTable {
  /** Prefix lengths present, longest first, each with its masked network → peer. */
  private readonly byPrefix: Array<{ mask: number; nets: Map<number, number> }> = [];

  constructor(routes: Route[], peerIndex: (ip: string) => number) {
    const prefixes = [...new Set(routes.map((r) => r.block.prefix))].sort((a, b) => b - a);
    for (const p of prefixes) {
      const nets = new Map<number, number>();
      for (const r of routes) if (r.block.prefix === p) nets.set(ipToInt(r.block.network), peerIndex(r.peer));
      this.byPrefix.push({ mask: maskOf(p), nets });
    }
  }

  /** The peer owning `dst` (an address as an unsigned 32-bit integer), or −1. */
  lookup(dst: number): number {
    for (const { mask, nets } of this.byPrefix) {
      const peer = nets.get((dst & mask) >>> 0);
      if (peer !== undefined) return peer;
    }
    return -1;
  }
}

/** A MAC address at buf[off..off+6) as a number (48 bits fit a double exactly). */
export function macAt(buf: Buffer, off: number): number {
  return buf.readUIntBE(off, 6);
}

/** Group bit: broadcast and multicast destinations. */
export function isGroupMac(buf: Buffer, off: number): boolean {
  return (buf[off] & 1) === 1;
}

/**
 * MAC learning: a source MAC seen in a frame from peer P lives behind P until it is seen behind
 * another peer or not seen for `ageMs` (a container moved or was replaced).
 */
export class MacTable {
  private readonly entries = new Map<number, { peer: number; seen: number }>();

  constructor(private readonly ageMs = 300_000) {}

  learn(mac: number, peer: number, now: number): void {
    const e = this.entries.get(mac);
    if (e) {
      e.peer = peer;
      e.seen = now;
    } else this.entries.set(mac, { peer, seen: now });
  }

  /** The peer behind `mac`, or −1 when unknown (flood to all). */
  lookup(mac: number, now: number): number {
    const e = this.entries.get(mac);
    if (!e) return -1;
    if (now - e.seen > this.ageMs) {
      this.entries.delete(mac);
      return -1;
    }
    return e.peer;
  }

  get size(): number {
    return this.entries.size;
  }
}
