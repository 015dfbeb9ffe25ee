/**
 * System-wide CPU accounting from the aggregate "cpu " line of /proc/stat.
 *
 * Fields (in USER_HZ ticks): user nice system idle iowait irq softirq steal [guest guest_nice].
 * guest and guest_nice are already counted inside user and nice, so they are ignored.
 */
import { readFile } from 'node:fs/promises';
import type { CpuUse } from '../result/types.js';

export interface CpuTimes {
  user: number;
  nice: number;
  system: number;
  idle: number;
  iowait: number;
  irq: number;
  softirq: number;
  steal: number;
}

export type { CpuUse } from '../result/types.js';

const FIELDS = ['user', 'nice', 'system', 'idle', 'iowait', 'irq', 'softirq', 'steal'] as const;

/** Pure: parses the aggregate "cpu " line. Fields an old kernel does not report count as 0. */
export function parseProcStat(text: string): CpuTimes {
  const m = /^cpu\s+([\d\s]+)$/m.exec(text);
  const nums = m ? m[1].trim().split(/\s+/).map(Number) : [];
  if (nums.length < 4) throw new Error('/proc/stat has no aggregate "cpu" line');
  const out = {} as CpuTimes;
  FIELDS.forEach((f, i) => (out[f] = nums[i] ?? 0));
  return out;
}

/** Pure: the per-CPU lines ("cpu0 …", "cpu1 …") → CPU number → its times. */
export function parseProcStatPerCpu(text: string): Map<number, CpuTimes> {
  const out = new Map<number, CpuTimes>();
  for (const m of text.matchAll(/^cpu(\d+)\s+([\d\s]+)$/gm)) {
    const nums = m[2].trim().split(/\s+/).map(Number);
    const t = {} as CpuTimes;
    FIELDS.forEach((f, i) => (t[f] = nums[i] ?? 0));
    out.set(Number(m[1]), t);
  }
  return out;
}

export async function readCpuTimes(path = '/proc/stat'): Promise<CpuTimes> {
  return parseProcStat(await readFile(path, 'utf8'));
}

/**
 * Pure: CPU-seconds between two snapshots. USER_HZ is 100 on every mainstream Linux build.
 * A counter that went backwards (iowait can, on tickless kernels) counts as 0; if the snapshots
 * are in the wrong order overall, it throws.
 */
export function cpuDelta(before: CpuTimes, after: CpuTimes, ticksPerSecond = 100): CpuUse {
  if (!(ticksPerSecond > 0)) throw new RangeError(`invalid ticksPerSecond ${ticksPerSecond}`);
  const rawTotal = FIELDS.reduce((acc, f) => acc + after[f] - before[f], 0);
  if (rawTotal < 0) throw new RangeError('cpuDelta: "after" snapshot is older than "before"');
  const d = (f: (typeof FIELDS)[number]) => Math.max(0, after[f] - before[f]) / ticksPerSecond;
  const user = d('user') + d('nice');
  const system = d('system');
  const irq = d('irq');
  const softirq = d('softirq');
  const steal = d('steal');
  const idle = d('idle') + d('iowait');
  const busy = user + system + irq + softirq;
  return { user, system, softirq, irq, steal, idle, busy, total: busy + steal + idle };
}

/** CPU-seconds per gigabit moved (1 Gbit = 1e9 bits). */
export function cpuSecondsPerGbit(busySeconds: number, bytes: number): number {
  if (!(bytes > 0)) throw new RangeError(`cpuSecondsPerGbit: bytes must be positive, got ${bytes}`);
  return busySeconds / ((bytes * 8) / 1e9);
}
