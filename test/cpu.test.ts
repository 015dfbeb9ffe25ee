import { describe, expect, it } from 'vitest';
import { cpuDelta, cpuSecondsPerGbit, parseProcStat, readCpuTimes } from '../src/measure/cpu.js';

// Captured from this 2-CPU Debian 12 VM, before and after 1 s of a busy loop (intr line shortened).
const BEFORE = `cpu  2343 0 2568 41287 215 0 222 10 0 0
cpu0 810 0 1073 21347 10 0 89 3 0 0
cpu1 1533 0 1494 19940 205 0 133 7 0 0
intr 283491 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 1 1 14 0 0 0 0 46 22 0 16 1 30429
ctxt 618080
btime 1795295066
processes 6208
procs_running 1
procs_blocked 0
softirq 789332 0 8766 1008 557469 30429 0 710 21159 65537 104254
`;
const AFTER = `cpu  2443 0 2569 41385 215 0 223 10 0 0
cpu0 910 0 1073 21347 10 0 89 3 0 0
cpu1 1533 0 1496 20037 205 0 134 7 0 0
intr 283942 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 1 1 14 0 0 0 0 46 22 0 16 1
ctxt 618388
btime 1795295066
processes 6217
procs_running 3
procs_blocked 0
softirq 789581 0 8801 1008 557469 30431 0 710 21264 65537 104361
`;

describe('parseProcStat', () => {
  it('reads the aggregate cpu line, not cpu0/cpu1', () => {
    expect(parseProcStat(BEFORE)).toEqual({
      user: 2343,
      nice: 0,
      system: 2568,
      idle: 41287,
      iowait: 215,
      irq: 0,
      softirq: 222,
      steal: 10,
    });
  });

  it('treats fields an old kernel lacks as 0', () => {
    expect(parseProcStat('cpu  5 1 3 90\ncpu0 5 1 3 90\n')).toEqual({
      user: 5,
      nice: 1,
      system: 3,
      idle: 90,
      iowait: 0,
      irq: 0,
      softirq: 0,
      steal: 0,
    });
  });

  it('throws when there is no aggregate line', () => {
    expect(() => parseProcStat('cpu0 1 2 3 4\nintr 5\n')).toThrow(/aggregate/);
    expect(() => parseProcStat('')).toThrow(/aggregate/);
  });
});

describe('cpuDelta', () => {
  it('turns the captured snapshots into CPU-seconds', () => {
    const use = cpuDelta(parseProcStat(BEFORE), parseProcStat(AFTER));
    expect(use.user).toBeCloseTo(1.0, 10);
    expect(use.system).toBeCloseTo(0.01, 10);
    expect(use.softirq).toBeCloseTo(0.01, 10);
    expect(use.irq).toBe(0);
    expect(use.steal).toBe(0);
    expect(use.idle).toBeCloseTo(0.98, 10);
    expect(use.busy).toBeCloseTo(1.02, 10);
    // 1 s of wall time on 2 CPUs
    expect(use.total).toBeCloseTo(2.0, 10);
  });

  it('counts nice as user, excludes steal from busy and honours ticksPerSecond', () => {
    const zero = parseProcStat('cpu  0 0 0 0 0 0 0 0');
    const use = cpuDelta(zero, { user: 100, nice: 100, system: 50, idle: 0, iowait: 0, irq: 20, softirq: 30, steal: 40 }, 50);
    expect(use).toEqual({ user: 4, system: 1, softirq: 0.6, irq: 0.4, steal: 0.8, idle: 0, busy: 6, total: 6.8 });
  });

  it('clamps a counter that went backwards (iowait) but rejects swapped snapshots', () => {
    const a = parseProcStat(BEFORE);
    const b = { ...parseProcStat(AFTER), iowait: a.iowait - 3 };
    expect(cpuDelta(a, b).idle).toBeCloseTo(0.98, 10);
    expect(() => cpuDelta(parseProcStat(AFTER), parseProcStat(BEFORE))).toThrow(/older/);
  });
});

describe('cpuSecondsPerGbit', () => {
  it('divides busy CPU-seconds by gigabits moved', () => {
    expect(cpuSecondsPerGbit(2, 1.25e9)).toBeCloseTo(0.2, 12); // 10 Gbit
    expect(() => cpuSecondsPerGbit(1, 0)).toThrow(/positive/);
  });
});

describe('readCpuTimes', () => {
  it('reads this machine’s /proc/stat and the counters advance', async () => {
    const a = await readCpuTimes();
    const b = await readCpuTimes();
    expect(a.user + a.system + a.idle).toBeGreaterThan(0);
    expect(cpuDelta(a, b).total).toBeGreaterThanOrEqual(0);
  });
});
