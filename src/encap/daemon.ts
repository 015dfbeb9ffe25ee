import { mkdirSync, writeFileSync, writeSync, writevSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { ipToInt } from '../lab/ipv4.js';
import { OVERHEAD, Sealer } from './aead.js';
import { PeerBatches, eachFrame, validFrames } from './batch.js';
import type { DaemonConfig, Route } from './config.js';
import { newCounters, setKernelDrops, udpKernelDrops, writeCounters, type EncapCounters } from './counters.js';
import { Coalescer, VNET_HDR_LEN } from './gro.js';
import { nextEpoch, readKeyFile } from './keys.js';
import { loadAddon } from './native.js';
import { SendRuns } from './runs.js';
import { MacTable, RouteTable, isGroupMac, macAt } from './tables.js';
import { Opener } from './opener.js';
import { Relayer, isControl } from './relay.js';
import { splitOffloaded } from './tso.js';

/**
 * cnlab's userspace encapsulation daemon, one per host: packets (tun) or frames (tap) read from
 * the device go to the peer host that owns the destination, as UDP payload; what peers send is
 * written back to the device. As flanneld's udp backend and Weave's sleeve do, in TypeScript, with
 * the system calls batched the way modern userspace tunnels batch them (on the wire nothing
 * changes: one packet, or one batch of frames, per datagram):
 *
 *   device → peers: every packet waiting on the device is read in one burst (one JS call), a TCP
 *     super-packet whole, cut into segments here (tso.ts); runs of equal-sized datagrams to one
 *     peer leave in one sendmsg (UDP_SEGMENT, runs.ts).
 *   peers → device: one recvmmsg takes many messages, each possibly a train of datagrams the
 *     kernel coalesced (UDP_GRO); consecutive TCP segments are written as one GSO packet (gro.ts).
 *
 * Without offloads (`--no-offload`, the default of flannel-udp and weave-sleeve) it moves packets
 * the way the products do: one packet per read(2) and write(2) on the device, one datagram per
 * sendmsg and per recvmmsg of one message. In tap mode it also heartbeats its peers and relays
 * through one when another cannot be reached directly (relay.ts), as Weave's router.
 */

const BURST = 64;
const UDP_BURST = 16;
const UDP_SLOT = 65536;
const SOCKET_BUFFER = 8 << 20;

export class EncapDaemon {
  private readonly addon = loadAddon();
  private fd = -1;
  private udp = -1;
  private readonly peers: string[];
  private readonly peerIps: number[];
  private readonly peerBySource = new Map<number, number>();
  private routes: RouteTable;
  private readonly macs = new MacTable();
  /** Plaintext (tap) batching; encrypted, records batch (the sealer). */
  private readonly batches?: PeerBatches;
  private readonly sealer?: Sealer;
  private readonly opener?: Opener;
  /** tap: heartbeats to the peers, and relaying through one when a peer cannot be reached directly (relay.ts). */
  private readonly relayer?: Relayer;
  /** With offloads: the coalescer for writes (reads are cut by splitOffloaded). */
  private readonly gro?: Coalescer;
  private readonly l2: number;
  private readonly slot: number;
  /** The largest plaintext one datagram carries. */
  private readonly maxPayload: number;
  private readonly rbuf: Buffer;
  private readonly lens = new Int32Array(BURST);
  private readonly ubuf = Buffer.allocUnsafeSlow(UDP_SLOT * UDP_BURST);
  /** Their length is recvmmsg's count: 1 without offloads (one datagram per system call). */
  private readonly ulens: Int32Array;
  private readonly usegs: Int32Array;
  private readonly usrcs: Uint32Array;
  private readonly runs: SendRuns;
  private flushTimer: NodeJS.Timeout | undefined;
  /** Date.now() at the start of the current device burst (MAC ageing). */
  private now = 0;
  private readonly kernelAtStart = udpKernelDrops();
  readonly counters: EncapCounters;

  private readonly logged = new Set<string>();

  constructor(
    private readonly cfg: DaemonConfig,
    private readonly log: (line: string) => void,
  ) {
    this.peers = cfg.mode === 'tun' ? [...new Set(cfg.routes.map((r) => r.peer))] : cfg.peers;
    this.peerIps = this.peers.map(ipToInt);
    this.peerIps.forEach((ip, i) => this.peerBySource.set(ip, i));
    this.routes = this.routeTable(cfg.routes);
    let epoch: number | undefined;
    if (cfg.keyFile) {
      const key = readKeyFile(cfg.keyFile);
      epoch = nextEpoch(join(cfg.stateDir, 'epoch'));
      this.sealer = new Sealer(
        key,
        cfg.sender,
        epoch,
        { peers: this.peers.length, datagram: cfg.maxDatagram, record: cfg.record },
        this.out,
      );
      this.opener = new Opener(key, cfg.maxDatagram, (why) => this.drop(why));
    }
    const payload = cfg.maxDatagram - (cfg.keyFile ? OVERHEAD : 0);
    this.maxPayload = payload;
    this.l2 = cfg.mode === 'tap' ? 14 : 0;
    const io = {
      send: this.sendAlone,
      deliver: (d: Buffer, peer: number) => this.fromPeer(d, peer),
      drop: (why: string) => this.drop(why),
    };
    if (cfg.mode === 'tap') this.relayer = new Relayer(ipToInt(cfg.listen.ip), this.peerIps, io);
    // Without offloads, the products' pattern: one datagram per sendto and per recvfrom too.
    const udpBurst = cfg.offload ? UDP_BURST : 1;
    [this.ulens, this.usegs, this.usrcs] = [new Int32Array(udpBurst), new Int32Array(udpBurst), new Uint32Array(udpBurst)];
    this.runs = new SendRuns(
      (peer, buf, off, len, seg) => this.addon.udpSend(this.udp, this.peerIps[peer], cfg.listen.port, buf, off, len, seg),
      (count, bytes, error) => {
        const { tx, io } = this.counters;
        io.udpSends++;
        if (error) this.drop(error, count);
        else {
          tx.datagrams += count;
          tx.datagramBytes += bytes;
        }
      },
      cfg.offload ? undefined : 1,
    );
    if (cfg.offload) this.gro = new Coalescer(this.l2, (parts) => writevSync(this.fd, parts), Boolean(cfg.keyFile));
    // One byte more than the largest read (a TCP super-packet with offloads, else a datagram's
    // worth): a read that fills the slot was truncated.
    this.slot = cfg.offload ? VNET_HDR_LEN + this.l2 + 65535 + 1 : payload + 1;
    this.rbuf = Buffer.allocUnsafeSlow(this.slot * BURST);
    this.counters = newCounters(
      { dev: cfg.dev, mode: cfg.mode, encrypted: Boolean(cfg.keyFile), batching: cfg.batch, epoch },
      this.sealer && this.opener ? { sealed: this.sealer.stats, opened: this.opener.stats } : undefined,
      this.relayer?.stats,
    );
    // Encrypted, records do the batching (queue()).
    if (!this.sealer)
      this.batches = new PeerBatches(
        payload,
        cfg.batch,
        this.peers.length,
        (peer, d) => this.out(peer, [d], d.length),
        this.counters.batches,
      );
  }

  private routeTable(routes: Route[]): RouteTable {
    return new RouteTable(routes, (ip) => this.peers.indexOf(ip));
  }

  /**
   * tun: a new peer table (a control plane's, reloaded). A new peer gets the next index (its
   * batch, its record); a peer no route names keeps its index and simply gets no more packets.
   */
  setRoutes(routes: Route[]): void {
    for (const r of routes) {
      const ip = ipToInt(r.peer);
      if (this.peerBySource.has(ip)) continue;
      this.peers.push(r.peer);
      this.peerIps.push(ip);
      this.peerBySource.set(ip, this.peers.length - 1);
      if (this.sealer) this.sealer.addPeer();
      else this.batches?.addPeer();
    }
    this.routes = this.routeTable(routes);
  }

  private drop(reason: string, n = 1): void {
    this.counters.drops[reason] = (this.counters.drops[reason] ?? 0) + n;
  }

  start(): void {
    const { cfg } = this;
    this.udp = this.addon.udpOpen(cfg.listen.ip, cfg.listen.port, SOCKET_BUFFER);
    this.fd = this.addon.open(cfg.dev, cfg.mode === 'tap', cfg.offload);
    this.addon.watch(this.udp, this.onSocket);
    this.addon.watch(this.fd, this.onDevice);
    setInterval(() => this.writeCounters(), 1000).unref();
    this.relayer?.start((e) => this.internalError(e));
    mkdirSync(dirname(cfg.readyFile), { recursive: true });
    writeFileSync(cfg.readyFile, `${process.pid}\n`);
  }

  writeCounters(): void {
    // Send what waits in a batch first, so a snapshot never shows a frame as read but not sent
    // (packets/bytes are counted on read, datagrams on send). At worst one batch leaves early.
    try {
      this.flushAll();
      this.flushRun();
    } catch {
      /* a send error is counted as a drop by the run's callback; the snapshot still gets written */
    }
    this.opener?.expire();
    const c = this.counters;
    const cpu = process.cpuUsage();
    c.cpuSeconds = { user: cpu.user / 1e6, system: cpu.system / 1e6 };
    if (this.gro) c.io.deviceWrites = this.gro.stats.writes;
    if (this.sealer && this.cfg.mode === 'tap')
      c.batches = { multiFrame: this.sealer.stats.multiItem, maxFrames: this.sealer.stats.maxItems };
    setKernelDrops(c, this.kernelAtStart);
    c.writtenAt = new Date().toISOString();
    writeCounters(this.cfg.stateDir, c);
  }

  // ------------------------------------------------------------------ device → peers

  private readonly onDevice = (status: number): void => {
    try {
      this.deviceBurst(status);
    } catch (e) {
      this.internalError(e);
    }
  };

  private deviceBurst(status: number): void {
    if (status < 0) return this.drop('device-poll');
    this.now = this.cfg.mode === 'tap' ? Date.now() : 0;
    // Drain the device (a bounded number of bursts, so the socket gets its turn too). Everything
    // taken from the read buffer is copied (runs, batches, ciphertext): it is reused at once.
    for (let round = 0; round < 8; round++) {
      let n: number;
      try {
        n = this.addon.readBurst(this.fd, this.rbuf, this.slot, this.lens);
      } catch {
        this.drop('device-read');
        break;
      }
      this.counters.io.deviceReads += n;
      for (let i = 0; i < n; i++) {
        const off = i * this.slot;
        const len = this.lens[i];
        if (len >= this.slot) this.drop('oversize');
        else if (!this.cfg.offload) this.fromDevice([this.rbuf.subarray(off, off + len)], len);
        else {
          const why = splitOffloaded(this.rbuf, off, len, this.l2, this.fromDevice, !this.sealer);
          if (why) this.drop(why);
        }
      }
      if (n < BURST) break;
    }
    if (this.cfg.mode === 'tap') {
      // Batches leave when the device has no more frames waiting, or after the timer.
      if (this.cfg.flushUs === 0) this.flushAll();
      else if (!this.flushTimer) this.flushTimer = setTimeout(this.onFlushTimer, this.cfg.flushUs / 1000);
    }
    this.flushRun();
  }

  private readonly onFlushTimer = (): void => {
    this.flushTimer = undefined;
    try {
      this.flushAll();
      this.flushRun();
    } catch (e) {
      this.internalError(e);
    }
  };

  /** One packet (tun) or frame (tap) from the device, as [whole] or [headers, payload]. */
  private readonly fromDevice = (parts: Buffer[], len: number): void => {
    const head = parts[0];
    if (this.cfg.mode === 'tun') {
      if (head.length < 20 || head[0] >> 4 !== 4) return this.drop('not-ipv4');
      const peer = this.routes.lookup(head.readUInt32BE(16));
      if (peer < 0) return this.drop('no-route');
      if (len > this.maxPayload) return this.drop('oversize');
      this.counters.tx.packets++;
      this.counters.tx.bytes += len;
      return this.send(peer, parts, len);
    }
    if (len < 14) return this.drop('short-frame');
    if (this.peers.length === 0) return this.drop('no-peer');
    this.counters.tx.packets++;
    this.counters.tx.bytes += len;
    // The Ethernet header is in the first part (the frame, or its headers after TSO).
    const peer = isGroupMac(head, 0) ? -1 : this.macs.lookup(macAt(head, 0), this.now);
    if (peer >= 0) this.queue(peer, parts, len);
    else for (let p = 0; p < this.peers.length; p++) this.queue(p, parts, len);
  };

  private queue(peer: number, parts: Buffer[], len: number): void {
    if (this.sealer) {
      // Encrypted, the record is the batch: frames are its payloads (each with its length).
      if (len > this.sealer.maxItem) return this.drop('oversize');
      return this.sealer.add(peer, parts, len);
    }
    const why = this.batches!.add(peer, parts, len);
    if (why) this.drop(why);
  }

  private flushAll(): void {
    this.batches?.flushAll();
  }

  /** One datagram payload to a peer: into its record when encrypting, else into the current sendmsg run. */
  private send(peer: number, plain: Buffer[], plainLen: number): void {
    if (this.sealer) this.sealer.add(peer, plain, plainLen);
    else this.out(peer, plain, plainLen);
  }

  /** One datagram (plaintext, or a sealed fragment) on its way: into the current sendmsg run, or through a relay. */
  private readonly out = (peer: number, parts: Buffer[], len: number): void => {
    if (!this.relayer?.divert(peer, parts, len)) this.runs.add(peer, parts, len);
  };

  /** A heartbeat or a relayed datagram: alone, at once. */
  private readonly sendAlone = (peer: number, parts: Buffer[], len: number): void => {
    const b = parts.length === 1 ? parts[0] : Buffer.concat(parts, len);
    if (this.addon.udpSend(this.udp, this.peerIps[peer], this.cfg.listen.port, b, 0, len, 0) < 0) this.drop('relay-send-error');
  };

  /** Seal the open records, and send. */
  private flushRun(): void {
    this.sealer?.flush();
    this.runs.flush();
  }

  // ------------------------------------------------------------------ peers → device

  private readonly onSocket = (status: number): void => {
    try {
      this.socketBurst(status);
    } catch (e) {
      this.internalError(e);
    }
  };

  private socketBurst(status: number): void {
    if (status < 0) return this.drop('socket-poll');
    // About 64 messages per wakeup either way, so the device gets its turn too.
    for (let round = 0; round < (4 * UDP_BURST) / this.ulens.length; round++) {
      let n: number;
      try {
        n = this.addon.udpRecvBurst(this.udp, this.ubuf, UDP_SLOT, this.ulens, this.usegs, this.usrcs);
      } catch {
        this.drop('socket-read');
        break;
      }
      this.counters.io.udpMessages += n;
      for (let i = 0; i < n; i++) {
        const len = this.ulens[i];
        if (len < 0) {
          this.drop('truncated');
          continue;
        }
        const base = i * UDP_SLOT;
        const seg = this.usegs[i] || len;
        const peer = this.peerBySource.get(this.usrcs[i]) ?? -1;
        for (let o = 0; o < len; o += seg) this.fromPeer(this.ubuf.subarray(base + o, base + Math.min(o + seg, len)), peer);
      }
      // The coalescer holds views of this round's buffer: write them before it is reused.
      this.flushDevice();
      if (n < this.ulens.length) break;
    }
  }

  /** A bug must not take the data plane down mid-measurement: count it, log each kind once. */
  private internalError(e: unknown): void {
    this.drop('internal-error');
    const msg = (e as Error)?.stack ?? String(e);
    if (!this.logged.has(msg)) {
      this.logged.add(msg);
      this.log(`internal error (counted as drop internal-error): ${msg}`);
    }
  }

  /** One datagram from the wire: a payload, or (encrypted) a fragment of a record of payloads. */
  private fromPeer(d: Buffer, peer: number): void {
    if (this.relayer && isControl(d)) return this.relayer.control(d, peer);
    const rx = this.counters.rx;
    rx.datagrams++;
    rx.datagramBytes += d.length;
    if (this.opener) this.opener.open(d, (p) => this.fromPayload(p, peer));
    else this.fromPayload(d, peer);
  }

  private fromPayload(p: Buffer, peer: number): void {
    if (this.cfg.mode === 'tun') {
      if (p.length < 20 || p[0] >> 4 !== 4) return this.drop('not-ipv4');
      return this.toDevice(p);
    }
    if (peer < 0) return this.drop('unknown-peer');
    const now = Date.now();
    if (this.opener) {
      // Encrypted: every payload of a record is one frame.
      if (p.length < 14) return this.drop('bad-frame');
      return this.fromFrame(p, peer, now);
    }
    if (!validFrames(p)) return this.drop('bad-frame');
    eachFrame(p, (off, len) => this.fromFrame(p.subarray(off, off + len), peer, now));
  }

  private fromFrame(f: Buffer, peer: number, now: number): void {
    if (!isGroupMac(f, 6)) this.macs.learn(macAt(f, 6), peer, now);
    this.toDevice(f);
  }

  private toDevice(p: Buffer): void {
    this.counters.rx.packets++;
    this.counters.rx.bytes += p.length;
    // A write fails while the device is down (e.g. before the plan brings it up): count, go on.
    try {
      if (this.gro) this.gro.push(p);
      else {
        writeSync(this.fd, p);
        this.counters.io.deviceWrites++;
      }
    } catch {
      this.drop('device-write');
    }
  }

  private flushDevice(): void {
    try {
      this.gro?.flush();
    } catch {
      this.drop('device-write');
    }
  }
}
