import { intToIp } from '../lab/ipv4.js';

/**
 * Weave's router on a partially connected network, small (tap mode only): Weave's peers gossip
 * their connections and, to a peer they have no working connection with, send via a peer that
 * has one (shortest path). Here every daemon sends each peer a HEARTBEAT every HEARTBEAT_MS,
 * naming the peers whose heartbeats it heard within DEAD_MS (`heard`) and the peers it can send to
 * (`reach`: those whose own heartbeats name it). A peer that names me in its latest fresh heartbeat
 * is reached directly; otherwise its datagrams go, wrapped in a RELAY header, to the first peer
 * (lowest index) that I reach and that reaches it: paths of at most two hops, the only ones a
 * one-level gossip can see. With nothing known (at start) a peer is tried directly.
 *
 * Wire (control datagrams, beside the unchanged sleeve batches and sealed fragments): bytes 0-1 are
 * zero — never a sleeve batch (a frame's length is at least 14) nor a sealed datagram (version 2) —
 * then a version and a type:
 *
 *   0-1 0x0000   2 version (1)   3 type
 *   heartbeat (1): 4 n, n IPv4 addresses (heard); then m, m addresses (reach)
 *   relay (2):     4 hops left, 5-8 final destination, 9-12 original sender, 13… the datagram as it
 *                  would have gone directly (a batch of frames, or a sealed fragment: a relay
 *                  forwards it unopened, so the encrypted channel stays end to end)
 *
 * Heartbeats are not authenticated, even on the encrypted channel: a forged one can only move
 * sealed datagrams to another member, as a host on the underlay could drop them anyway.
 */

export const CONTROL_VERSION = 1;
const HEARTBEAT = 1;
const RELAY = 2;
export const RELAY_HEADER = 13;
export const HEARTBEAT_MS = 500;
export const DEAD_MS = 1500;
/** A relayed datagram is forwarded at most this many times (a loop while views disagree ends). */
export const MAX_HOPS = 3;

export type Control =
  | { type: 'heartbeat'; heard: number[]; reach: number[] }
  | { type: 'relay'; hops: number; dst: number; src: number; inner: Buffer }
  | { type: 'bad'; why: 'control-version' | 'bad-control' };

/** True when a datagram is a control message (heartbeat or relay), not a sleeve batch or a sealed fragment. */
export function isControl(d: Buffer): boolean {
  return d.length >= 4 && d[0] === 0 && d[1] === 0;
}

function addresses(out: Buffer, at: number, ips: readonly number[]): number {
  out[at++] = ips.length;
  for (const ip of ips) {
    out.writeUInt32BE(ip >>> 0, at);
    at += 4;
  }
  return at;
}

export function encodeHeartbeat(heard: readonly number[], reach: readonly number[]): Buffer {
  const out = Buffer.alloc(4 + 2 + 4 * (heard.length + reach.length));
  out[2] = CONTROL_VERSION;
  out[3] = HEARTBEAT;
  addresses(out, addresses(out, 4, heard), reach);
  return out;
}

export function relayHeader(hops: number, dst: number, src: number): Buffer {
  const h = Buffer.alloc(RELAY_HEADER);
  h[2] = CONTROL_VERSION;
  h[3] = RELAY;
  h[4] = hops;
  h.writeUInt32BE(dst >>> 0, 5);
  h.writeUInt32BE(src >>> 0, 9);
  return h;
}

/** A control datagram (isControl() true) → what it says. */
export function decodeControl(d: Buffer): Control {
  if (d[2] !== CONTROL_VERSION) return { type: 'bad', why: 'control-version' };
  if (d[3] === RELAY) {
    if (d.length <= RELAY_HEADER) return { type: 'bad', why: 'bad-control' };
    return { type: 'relay', hops: d[4], dst: d.readUInt32BE(5), src: d.readUInt32BE(9), inner: d.subarray(RELAY_HEADER) };
  }
  if (d[3] !== HEARTBEAT || d.length < 5) return { type: 'bad', why: 'bad-control' };
  const lists: number[][] = [];
  let at = 4;
  for (let l = 0; l < 2; l++) {
    if (at >= d.length) return { type: 'bad', why: 'bad-control' };
    const n = d[at++];
    if (at + 4 * n > d.length) return { type: 'bad', why: 'bad-control' };
    lists.push(Array.from({ length: n }, (_, i) => d.readUInt32BE(at + 4 * i)));
    at += 4 * n;
  }
  if (at !== d.length) return { type: 'bad', why: 'bad-control' };
  return { type: 'heartbeat', heard: lists[0], reach: lists[1] };
}

/** The peers' latest heartbeats, and the route (next hop) to each peer they imply. Pure: time is passed in. */
export class Mesh {
  private readonly last: Array<{ at: number; heard: Set<number>; reach: Set<number> } | undefined>;
  /** Peer index → the peer index its datagrams go to now (itself: direct). */
  private readonly via: number[];

  constructor(
    /** My underlay address (as an unsigned 32-bit integer). */
    private readonly self: number,
    private readonly peerIps: readonly number[],
  ) {
    this.last = peerIps.map(() => undefined);
    this.via = peerIps.map((_, i) => i);
  }

  heartbeat(peer: number, heard: readonly number[], reach: readonly number[], now: number): void {
    this.last[peer] = { at: now, heard: new Set(heard), reach: new Set(reach) };
    this.update(now);
  }

  private fresh(peer: number, now: number) {
    const l = this.last[peer];
    return l && now - l.at <= DEAD_MS ? l : undefined;
  }

  /** Whether my datagrams reach `peer`: its fresh heartbeat names me. */
  reaches(peer: number, now: number): boolean {
    return this.fresh(peer, now)?.heard.has(this.self) ?? false;
  }

  /** Recomputes the routes (on each heartbeat and each tick: heartbeats also age). */
  update(now: number): void {
    for (let p = 0; p < this.peerIps.length; p++) {
      if (this.reaches(p, now)) {
        this.via[p] = p;
        continue;
      }
      const v = this.peerIps.findIndex((_, i) => i !== p && this.reaches(i, now) && this.fresh(i, now)!.reach.has(this.peerIps[p]));
      this.via[p] = v >= 0 ? v : p;
    }
  }

  /** The peer to send `peer`'s datagrams to (itself when direct, or when nothing better is known). */
  nextHop(peer: number): number {
    return this.via[peer];
  }

  /** What my heartbeat says: the peers I heard and the peers I reach (addresses). */
  view(now: number): { heard: number[]; reach: number[] } {
    const heard = this.peerIps.filter((_, i) => this.fresh(i, now));
    const reach = this.peerIps.filter((_, i) => this.reaches(i, now));
    return { heard, reach };
  }

  /** Peers reached through another one: destination address → relay address (for the counters). */
  relayed(): Record<string, string> {
    const out: Record<string, string> = {};
    this.via.forEach((v, p) => {
      if (v !== p) out[intToIp(this.peerIps[p])] = intToIp(this.peerIps[v]);
    });
    return out;
  }
}

/** The relay's counters (in counters.json under `relay`). */
export interface RelayStats {
  /** Heartbeats received. */
  heartbeats: number;
  /** Datagrams of mine sent through a relay. */
  sentVia: number;
  /** Relayed datagrams passed on for other peers. */
  forwarded: number;
  /** Relayed datagrams that ended here. */
  arrived: number;
  /** Peers reached through another one now: destination → relay. */
  via: Record<string, string>;
}

export interface RelayIo {
  /** One datagram to a peer, at once and alone (relayed datagrams are a little larger than the rest). */
  send(peer: number, parts: Buffer[], len: number): void;
  /** A datagram that arrived relayed, as if it came from its original sender (−1: not a peer). */
  deliver(d: Buffer, peer: number): void;
  drop(why: string): void;
}

/** The daemon's side of the relaying: heartbeats out (tick), control datagrams in, and the route of each datagram out. */
export class Relayer {
  private readonly mesh: Mesh;
  private readonly index = new Map<number, number>();
  readonly stats: RelayStats = { heartbeats: 0, sentVia: 0, forwarded: 0, arrived: 0, via: {} };

  constructor(
    private readonly self: number,
    private readonly peerIps: readonly number[],
    private readonly io: RelayIo,
    private readonly clock: () => number = Date.now,
  ) {
    this.mesh = new Mesh(self, peerIps);
    peerIps.forEach((ip, i) => this.index.set(ip, i));
  }

  /** Heartbeats every HEARTBEAT_MS from now on (the timer does not keep the process alive). */
  start(onError: (e: unknown) => void): void {
    const tick = () => {
      try {
        this.tick();
      } catch (e) {
        onError(e);
      }
    };
    setInterval(tick, HEARTBEAT_MS).unref();
  }

  /** Every HEARTBEAT_MS: routes age, and every peer hears from me (directly: a heartbeat tests the direct path). */
  tick(): void {
    const now = this.clock();
    this.mesh.update(now);
    this.stats.via = this.mesh.relayed();
    const { heard, reach } = this.mesh.view(now);
    const hb = encodeHeartbeat(heard, reach);
    for (let p = 0; p < this.peerIps.length; p++) this.io.send(p, [hb], hb.length);
  }

  /** A datagram for `peer` about to leave: true when it was sent through a relay instead (the caller sends it otherwise). */
  divert(peer: number, parts: Buffer[], len: number): boolean {
    const via = this.mesh.nextHop(peer);
    if (via === peer) return false;
    this.stats.sentVia++;
    this.relay(via, peer, this.self, MAX_HOPS, parts, len);
    return true;
  }

  /** Wrapped, also on its last hop: the receiver learns MACs behind the original sender, not behind the relay. */
  private relay(via: number, dst: number, src: number, hops: number, parts: Buffer[], len: number): void {
    this.io.send(via, [relayHeader(hops, this.peerIps[dst], src), ...parts], len + RELAY_HEADER);
  }

  /** A control datagram from peer `from` (−1: not a peer). */
  control(d: Buffer, from: number): void {
    const c = decodeControl(d);
    if (c.type === 'bad') return this.io.drop(c.why);
    if (from < 0) return this.io.drop('unknown-peer');
    if (c.type === 'heartbeat') {
      this.stats.heartbeats++;
      return this.mesh.heartbeat(from, c.heard, c.reach, this.clock());
    }
    if (isControl(c.inner)) return this.io.drop('bad-control');
    if (c.dst === this.self) {
      this.stats.arrived++;
      return this.io.deliver(c.inner, this.index.get(c.src) ?? -1);
    }
    const to = this.index.get(c.dst);
    if (to === undefined) return this.io.drop('relay-unknown-peer');
    if (c.hops <= 1) return this.io.drop('relay-hops');
    this.stats.forwarded++;
    this.relay(this.mesh.nextHop(to), to, c.src, c.hops - 1, [c.inner], c.inner.length);
  }
}
