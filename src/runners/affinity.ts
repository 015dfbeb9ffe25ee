/**
 * CPU affinity for benchmark processes (util-linux taskset): a pure CPU-list parser, the argv
 * prefix that starts a program on a CPU set, and the calls that read or change a running
 * process's set. Affinity set with taskset is inherited by every child a process starts later.
 */
import { readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { InputError } from '../errors.js';
import { execArgs } from '../util/exec.js';

const LIST = /^\d{1,4}(-\d{1,4})?(,\d{1,4}(-\d{1,4})?)*$/;

/** Pure: "0,2-3" → [0, 2, 3] (sorted, unique). Throws InputError on anything else. */
export function parseCpuList(text: string, cpuCount?: number): number[] {
  const s = text.trim();
  if (!LIST.test(s)) throw new InputError(`--cpus must be a CPU list like 0 or 0,2 or 0-3, got "${text}"`);
  const out = new Set<number>();
  for (const part of s.split(',')) {
    const [a, b] = part.split('-').map(Number);
    const hi = b ?? a;
    if (hi < a) throw new InputError(`--cpus: range ${part} runs backwards`);
    for (let c = a; c <= hi; c++) out.add(c);
  }
  const cpus = [...out].sort((x, y) => x - y);
  if (cpuCount !== undefined && cpus[cpus.length - 1] >= cpuCount) {
    throw new InputError(`--cpus ${text}: this machine has CPUs 0-${cpuCount - 1}`);
  }
  return cpus;
}

/** Pure: [0, 2, 3] → "0,2,3" (the form taskset and Cpus_allowed_list accept). */
export function formatCpuList(cpus: readonly number[]): string {
  return cpus.join(',');
}

/** Pure: the argv prefix that starts a program on this CPU list; [] for "no constraint". */
export function tasksetPrefix(cpus?: string): string[] {
  if (cpus === undefined) return [];
  parseCpuList(cpus);
  return ['taskset', '-c', cpus];
}

/** Pure: "Cpus_allowed_list:\t0-1" out of /proc/<pid>/status. */
export function parseCpusAllowed(status: string): string | undefined {
  return /^Cpus_allowed_list:\s*(\S+)/m.exec(status)?.[1];
}

/** A running process's CPU list as the kernel reports it (e.g. "0" or "0-1"), or undefined. */
export function readAffinity(pid: number): string | undefined {
  try {
    return parseCpusAllowed(readFileSync(`/proc/${pid}/status`, 'utf8'));
  } catch {
    return undefined;
  }
}

/** Moves every thread of a running process to a CPU list (`taskset -a -p -c LIST PID`). */
export async function setAffinity(pid: number, cpus: string): Promise<void> {
  parseCpuList(cpus);
  const r = await execArgs('taskset', ['-a', '-p', '-c', cpus, String(pid)]);
  if (r.code !== 0) throw new Error(`taskset -a -p -c ${cpus} ${pid}: ${(r.stderr || r.stdout).trim() || `exit ${r.code}`}`);
}

/** The CPUs this process may run on now (all online CPUs unless something confined it). */
export function ownCpus(): number[] {
  const own = readAffinity(process.pid);
  if (own) return parseCpuList(own);
  return Array.from({ length: availableParallelism() }, (_, i) => i);
}

/**
 * Pure: with pinning, benchmark process number `slot` (0 client, 1 server, 2 load client,
 * 3 load server) gets its own core from `cpus`, round robin; without, the whole set (or none).
 */
export function cpusFor(slot: number, cpus: readonly number[] | undefined, pin: boolean, online: readonly number[]): string | undefined {
  const set = cpus ?? online;
  if (pin) return String(set[slot % set.length]);
  return cpus ? formatCpuList(cpus) : undefined;
}
