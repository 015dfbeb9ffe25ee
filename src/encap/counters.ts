import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { RelayStats } from './relay.js';

/**
 * The daemon's counters, written as JSON to <its state directory>/counters.json every second and
 * at once on SIGUSR1, e.g. `cnlab exec LAB h1 -- cat /run/cnlab/LAB/encap/h1/counters.json`.
 * The measurement suite copies them into the result file.
 */

export interface Direction {
  /** Packets (tun) or frames (tap). */
  packets: number;
  /** Their bytes, without any encapsulation. */
  bytes: number;
  /** UDP datagrams. */
  datagrams: number;
  /** UDP payload bytes, encapsulation included. */
  datagramBytes: number;
}

export interface EncapCounters {
  format: 'cnlab-encap-counters';
  version: 1;
  dev: string;
  mode: 'tun' | 'tap';
  encrypted: boolean;
  batching: boolean;
  pid: number;
  /** This start's epoch under the lab key (encrypted only). */
  epoch?: number;
  startedAt: string;
  writtenAt: string;
  /** Device → peers. */
  tx: Direction;
  /** Peers → device. */
  rx: Direction;
  /**
   * System calls and what they carried: device reads (one packet each), device writes (with GRO,
   * several segments each), UDP sendmsg calls (with UDP_SEGMENT, several datagrams each), UDP
   * messages received (with UDP_GRO, several datagrams each).
   */
  io: { deviceReads: number; deviceWrites: number; udpSends: number; udpMessages: number };
  /** Datagrams (encrypted: records) sent carrying more than one frame, and the most frames one carried. */
  batches: { multiFrame: number; maxFrames: number };
  /**
   * Encrypted only: records sealed (tx) and opened (rx), and the datagram payloads (packets, or
   * batches of frames) they carried. Each record crosses the underlay as one or more datagrams.
   */
  records?: { sealed: RecordStats; opened: RecordStats };
  /** tap only: heartbeats and relaying through a peer (relay.ts). */
  relay?: RelayStats;
  /** Packets dropped, by reason (auth, replay, stale-epoch, no-route, send-error, …). */
  drops: Record<string, number>;
  /** The daemon's own CPU time since it started (process.cpuUsage). */
  cpuSeconds: { user: number; system: number };
}

export interface RecordStats {
  records: number;
  items: number;
  /** Sealed records only: zero bytes that fill a record's last fragment. */
  padding?: number;
  /** Sealed records only: records of more than one payload, and the most payloads in one. */
  multiItem?: number;
  maxItems?: number;
}

export const COUNTERS_FILE = 'counters.json';

/** A daemon's directory inside the lab's state directory. */
export function encapHostDir(labStateDir: string, host: string): string {
  return join(labStateDir, 'encap', host);
}

export function newDirection(): Direction {
  return { packets: 0, bytes: 0, datagrams: 0, datagramBytes: 0 };
}

/** A daemon's counters at its start: every count zero. */
export function newCounters(
  d: { dev: string; mode: 'tun' | 'tap'; encrypted: boolean; batching: boolean; epoch?: number },
  records?: EncapCounters['records'],
  relay?: RelayStats,
): EncapCounters {
  return {
    format: 'cnlab-encap-counters',
    version: 1,
    ...d,
    pid: process.pid,
    startedAt: new Date().toISOString(),
    writtenAt: '',
    tx: newDirection(),
    rx: newDirection(),
    io: { deviceReads: 0, deviceWrites: 0, udpSends: 0, udpMessages: 0 },
    batches: { multiFrame: 0, maxFrames: 0 },
    records,
    relay,
    drops: {},
    cpuSeconds: { user: 0, system: 0 },
  };
}

/** The drops only the kernel counts, since the daemon's start: UDP buffer overflows (machine-wide) and the device's queue. */
export function setKernelDrops(c: EncapCounters, atStart: { rcvbuf: number; sndbuf: number }): void {
  const k = udpKernelDrops();
  const set = (reason: string, n: number) => {
    if (n > 0) c.drops[reason] = n;
  };
  set('udp-rcvbuf', k.rcvbuf - atStart.rcvbuf);
  set('udp-sndbuf', k.sndbuf - atStart.sndbuf);
  set('device-queue', deviceTxDropped(c.dev));
}

export function writeCounters(dir: string, c: EncapCounters): void {
  const file = join(dir, COUNTERS_FILE);
  writeFileSync(`${file}.tmp`, `${JSON.stringify(c, null, 1)}\n`);
  renameSync(`${file}.tmp`, file);
}

export function readCounters(dir: string): EncapCounters | null {
  const file = join(dir, COUNTERS_FILE);
  if (!existsSync(file)) return null;
  try {
    const c = JSON.parse(readFileSync(file, 'utf8')) as EncapCounters;
    return c.format === 'cnlab-encap-counters' ? c : null;
  } catch {
    return null;
  }
}

/** A daemon the lab tracks: its host and pid. */
export interface DaemonRef {
  host: string;
  pid: number;
}

/**
 * Fresh counters of these daemons: each is asked (SIGUSR1) to write them now, and read once it
 * has (up to `waitMs`; older counters are returned rather than none).
 */
export async function collectCounters(labStateDir: string, daemons: DaemonRef[], waitMs = 1500): Promise<Record<string, EncapCounters>> {
  const asked = Date.now();
  for (const d of daemons) {
    try {
      process.kill(d.pid, 'SIGUSR1');
    } catch {
      /* gone: its last counters are still read */
    }
  }
  const out: Record<string, EncapCounters> = {};
  const deadline = asked + waitMs;
  for (const d of daemons) {
    const dir = encapHostDir(labStateDir, d.host);
    let c = readCounters(dir);
    while ((!c || Date.parse(c.writtenAt) < asked) && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 20));
      c = readCounters(dir);
    }
    if (c) out[d.host] = c;
  }
  return out;
}

/** UDP drop counters of this namespace's kernel (/proc/net/snmp), e.g. a full receive buffer. */
export function udpKernelDrops(): { rcvbuf: number; sndbuf: number } {
  try {
    const lines = readFileSync('/proc/net/snmp', 'utf8')
      .split('\n')
      .filter((l) => l.startsWith('Udp: '));
    const keys = lines[0].split(/\s+/);
    const vals = lines[1].split(/\s+/);
    const get = (k: string) => Number(vals[keys.indexOf(k)] ?? 0);
    return { rcvbuf: get('RcvbufErrors'), sndbuf: get('SndbufErrors') };
  } catch {
    return { rcvbuf: 0, sndbuf: 0 };
  }
}

/** Packets the device dropped because the daemon did not read them in time. */
export function deviceTxDropped(dev: string): number {
  try {
    return Number(readFileSync(`/sys/class/net/${dev}/statistics/tx_dropped`, 'utf8'));
  } catch {
    return 0;
  }
}
