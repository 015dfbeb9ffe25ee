import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Direction, EncapCounters } from '../result/types.js';

/**
 * The daemon's counters, written as JSON to <its state directory>/counters.json every second and
 * at once on SIGUSR1, e.g. `cnlab exec LAB h1 -- cat /run/cnlab/LAB/encap/h1/counters.json`.
 * The measurement suite copies them into the result file.
 */
// Their shape is declared by the result file, which records them (src/result/types.ts).
export type { Direction, EncapCounters, RecordStats } from '../result/types.js';

export const COUNTERS_FILE = 'counters.json';

/** A daemon's directory inside the lab's state directory. */
export function encapHostDir(labStateDir: string, host: string): string {
  return join(labStateDir, 'encap', host);
}

export function newDirection(): Direction {
  return { packets: 0, bytes: 0, datagrams: 0, datagramBytes: 0 };
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
    const lines = readFileSync('/proc/net/snmp', 'utf8').split('\n').filter((l) => l.startsWith('Udp: '));
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
