import { describe, expect, it } from 'vitest';
import { failAboveLink, rateBits, udpSentGbps } from '../src/result/derive.js';
import { holmAdjust } from '../src/stats/holm.js';
import { medianInterval, outlierIndexes, summarize } from '../src/stats/stats.js';
import { cpuSplit } from '../src/report/figures.js';
import { difference, tieredRanking } from '../src/report/significance.js';
import { testLine } from '../src/report/summary.js';
import type { RunRecord, TestRecord } from '../src/result/types.js';

/** Issue 16's statistics on fixed fixtures: each figure by hand or from published tables. */

describe('medianInterval (order statistics)', () => {
  it('is [min, max] below 6 values, with its true coverage 1 − 2·0.5^n', () => {
    expect(medianInterval([3, 1, 2])).toEqual({ low: 1, high: 3, coverage: 0.75 });
    expect(medianInterval([5, 1, 4, 2])).toEqual({ low: 1, high: 5, coverage: 0.875 });
    expect(medianInterval([5, 1, 4, 2, 3]).coverage).toBeCloseTo(0.9375, 12);
    expect(medianInterval([7])).toEqual({ low: 7, high: 7, coverage: 0 });
  });

  it("takes the tables' order statistics from 6 values on (n = 10: x(2)..x(9), 97.9%; n = 20: x(6)..x(15), 95.9%)", () => {
    const ten = [10, 1, 9, 2, 8, 3, 7, 4, 6, 5];
    expect(medianInterval(ten)).toMatchObject({ low: 2, high: 9 });
    expect(medianInterval(ten).coverage).toBeCloseTo(1 - 2 * (11 / 1024), 12);
    const twenty = Array.from({ length: 20 }, (_, i) => 20 - i);
    expect(medianInterval(twenty)).toMatchObject({ low: 6, high: 15 });
    expect(medianInterval(twenty).coverage).toBeCloseTo(0.9586, 4);
    expect(medianInterval([1, 2, 3, 4, 5, 6]).coverage).toBeCloseTo(1 - 2 / 64, 12);
  });

  it("is what summarize carries, around the median, not the mean's CI", () => {
    const s = summarize([10, 10.2, 14, 10.1, 9.9, 10.05]);
    expect(s.medianCi).toEqual([9.9, 14]);
    expect(s.medianCi[0]).toBeLessThanOrEqual(s.median);
    expect(s.ci95).not.toEqual(s.medianCi);
  });
});

describe('holmAdjust', () => {
  it('matches R p.adjust(method = "holm")', () => {
    // p.adjust(c(0.01, 0.04, 0.03, 0.005), "holm") = 0.03 0.06 0.06 0.02
    const out = holmAdjust([0.01, 0.04, 0.03, 0.005]);
    [0.03, 0.06, 0.06, 0.02].forEach((v, i) => expect(out[i]).toBeCloseTo(v, 12));
  });

  it('leaves untested entries out of the family, and caps at 1', () => {
    const out = holmAdjust([0.5, undefined, 0.4]);
    expect(out[1]).toBeUndefined();
    // 0.4·2 = 0.8; then max(0.8, 0.5·1): adjusted p never decrease along the order.
    expect(out[0]).toBeCloseTo(0.8, 12);
    expect(out[2]).toBeCloseTo(0.8, 12);
    expect(holmAdjust([0.6, 0.7])).toEqual([1, 1]);
  });
});

describe('tieredRanking', () => {
  const data: Record<string, number[]> = {
    a: [15.5, 15.9, 15.1],
    b: [15.3, 15.8, 14.8], // not significantly different from a
    c: [10, 10.1, 9.9],
    d: [9.95, 10.2, 9.8], // not significantly different from c
    e: [3, 3.1, 2.9],
  };
  const names = Object.keys(data);
  const median = (k: string) => summarize(data[k]).median;

  it('never puts one item above another that it does not significantly beat after Holm', () => {
    const { tiers } = tieredRanking(names, (k) => data[k], median, true);
    expect(tiers).toEqual([['a', 'b'], ['c', 'd'], ['e']]);
    const ps = names.flatMap((x, i) => names.slice(i + 1).map((y) => difference(data[x], data[y]).p));
    const adj = holmAdjust(ps);
    let k = 0;
    names.forEach((x, i) =>
      names.slice(i + 1).forEach((y) => {
        const tx = tiers.findIndex((t) => t.includes(x));
        const ty = tiers.findIndex((t) => t.includes(y));
        if (tx !== ty) expect(adj[k]!, `${x} against ${y}`).toBeLessThan(0.05);
        k++;
      }),
    );
  });

  it('merges back: an item tied with an earlier tier joins it with everything between', () => {
    const wide = { x: [10, 10.1, 9.9], y: [8, 8.1, 7.9], z: [1, 15, 7.95] };
    const { tiers } = tieredRanking(
      Object.keys(wide),
      (k) => wide[k as keyof typeof wide],
      (k) => summarize(wide[k as keyof typeof wide]).median,
      true,
    );
    // z (median 7.95, last) is too noisy to be told from x: x, y and z become one tie group.
    expect(tiers).toEqual([['x', 'y', 'z']]);
  });

  it('an untestable pair (one run) is a tie, marked untested', () => {
    const r = tieredRanking(
      ['p', 'q'],
      (k) => (k === 'p' ? [10] : [5, 5.1]),
      (k) => (k === 'p' ? 10 : 5),
      true,
    );
    expect(r.tiers).toEqual([['p', 'q']]);
    expect(r.untested).toEqual([true]);
  });
});

describe('outliers', () => {
  it('are never flagged under 5 runs', () => {
    expect(outlierIndexes([10, 10, 100])).toEqual([]);
    expect(outlierIndexes([10, 10.1, 9.9, 100])).toEqual([]);
    expect(outlierIndexes([10, 10.1, 9.9, 10.05, 100])).toEqual([4]);
  });
});

const run = (over: Partial<RunRecord>): RunRecord => ({ repeat: 1, startedAt: '', ok: true, argv: [], raw: '', ...over });
const test = (over: Partial<TestRecord>): TestRecord => ({
  id: 'tcp-1/cross',
  protocol: 'tcp',
  streams: 1,
  placement: 'cross',
  client: { node: 'h1', ns: 'a' },
  server: { node: 'h2', ns: 'b' },
  target: '198.19.0.2',
  runs: [],
  ...over,
});

describe('cpuSplit: one aggregation', () => {
  it("ends at the median of the runs' CPU per Gbit, shared out as the median run splits it", () => {
    const cpu = (busy: number, softirq: number) => ({
      user: busy - softirq,
      system: 0,
      softirq,
      irq: 0,
      steal: 0,
      idle: 0,
      busy,
      total: busy,
    });
    const GB = 1e9 / 8; // bytes of one Gbit
    // per Gbit: 1, 2, 6 → median 2 (the second run, half softirq)
    const t = test({ runs: [run({ bytes: GB, cpu: cpu(1, 0) }), run({ bytes: GB, cpu: cpu(2, 1) }), run({ bytes: GB, cpu: cpu(6, 6) })] });
    const s = cpuSplit(t)!;
    expect(s.total).toBeCloseTo(2, 12);
    expect(s.softirq).toBeCloseTo(1, 12);
    expect(s.user + s.system + s.softirq + s.irq).toBeCloseTo(s.total, 12);
    // The table's figure is the median of each run's busy / Gbit: the same 2.
    expect(summarize([1, 2, 6]).median).toBe(s.total);
  });
});

describe('link rate', () => {
  it('parses tc and iperf3 rate forms', () => {
    expect(rateBits('1gbit')).toBe(1e9);
    expect(rateBits('500mbit')).toBe(5e8);
    expect(rateBits('10G')).toBe(1e10);
    expect(rateBits('fast')).toBeUndefined();
  });

  it('fails a cross-host run above the link rate (1% tolerance), never a same-host one', () => {
    const t = test({ runs: [run({ gbps: 1.37 }), run({ gbps: 0.94 }), run({ gbps: 1.005 })] });
    failAboveLink(t, 1e9);
    expect(t.runs.map((r) => r.ok)).toEqual([false, true, true]);
    expect(t.runs[0].error).toBe('1.37 Gbit/s is above the emulated link rate (1.00 Gbit/s): traffic bypassed the shaping, not a result');
    const same = test({ placement: 'same', runs: [run({ gbps: 30 })] });
    failAboveLink(same, 1e9);
    expect(same.runs[0].ok).toBe(true);
  });
});

describe('UDP offered, sent, received', () => {
  const raw = (sentBps: number) =>
    JSON.stringify({ start: { test_start: { protocol: 'UDP' } }, end: { sum: { bits_per_second: sentBps } } });

  it("reads the sender's rate from the raw iperf3 JSON (end.sum)", () => {
    expect(udpSentGbps(run({ raw: raw(39e6) }))).toBeCloseTo(0.039, 12);
    expect(udpSentGbps(run({ sendGbps: 0.5, raw: raw(39e6) }))).toBe(0.5);
    expect(udpSentGbps(run({ raw: 'not json' }))).toBeUndefined();
  });

  it('calls a sender held far below the offered rate sender-limited, not "loss 0%"', () => {
    const limited = test({
      id: 'udp/cross',
      protocol: 'udp',
      udpRate: '1G',
      runs: [1, 2, 3].map((repeat) => run({ repeat, gbps: 0.039, lossPercent: 0, raw: raw(39e6) })),
    });
    const full = test({
      id: 'udp/cross',
      protocol: 'udp',
      udpRate: '1G',
      runs: [1, 2, 3].map((repeat) => run({ repeat, gbps: 0.95, lossPercent: 4, raw: raw(0.99e9) })),
    });
    const summarizeTest = (t: TestRecord) => {
      t.summary = {
        gbps: summarize(t.runs.map((r) => r.gbps!)),
        lossPercent: summarize(t.runs.map((r) => r.lossPercent!)),
        sentGbps: summarize(t.runs.map((r) => udpSentGbps(r)!)),
      };
      return testLine(t);
    };
    expect(summarizeTest(limited)).toMatchObject({ offeredGbps: 1, sentGbps: 0.039, gbps: 0.039, senderLimited: true });
    expect(summarizeTest(full)).toMatchObject({ offeredGbps: 1, sentGbps: 0.99, gbps: 0.95, senderLimited: false });
  });
});
