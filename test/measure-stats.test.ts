import { describe, expect, it } from 'vitest';
import { compareTests, deriveAll, mainMetric, pairwiseComparisons } from '../src/result/derive.js';
import { bootstrapDiff, compareSamples, outlierIndexes, seededRandom, welchDiff } from '../src/stats/stats.js';
import { renderTable } from '../src/report/table.js';
import type { ResultFile, RunRecord, TestRecord } from '../src/result/types.js';
import { resultFixture } from './fixtures/report/result.js';

describe('welchDiff', () => {
  it('matches a hand computation (Welch–Satterthwaite)', () => {
    // a: mean 20, s² = 1; b: mean 10, s² = 4; n = 3 each → se² = 1/3 + 4/3, ν = (5/3)² / ((1/3)²/2 + (4/3)²/2)
    const d = welchDiff([19, 20, 21], [8, 10, 12]);
    expect(d.diff).toBe(10);
    const se = Math.sqrt(5 / 3);
    const dof = (5 / 3) ** 2 / (1 / 9 / 2 + 16 / 9 / 2);
    expect(dof).toBeCloseTo(2.9412, 3);
    expect(d.method).toBe('welch');
    expect(d.significant).toBe(true);
    expect(d.pValue).toBeLessThan(0.01);
    // t(0.975, 2.94) lies between the table values t(0.975, 3) = 3.182 and t(0.975, 2) = 4.303, near the former.
    const t = (d.ci95[1] - d.ci95[0]) / 2 / se;
    expect(t).toBeGreaterThan(3.182);
    expect(t).toBeLessThan(3.3);
  });

  it('overlapping noisy samples are not significant', () => {
    const d = welchDiff([10, 12, 11], [10.5, 13, 9.8]);
    expect(d.significant).toBe(false);
    expect(d.ci95[0]).toBeLessThan(0);
    expect(d.ci95[1]).toBeGreaterThan(0);
  });

  it('one value on a side: no test', () => {
    expect(welchDiff([1], [2, 3])).toMatchObject({ method: 'none', significant: false, ci95: [-1.5, -1.5] });
  });

  it('zero spread both sides: exact', () => {
    expect(welchDiff([2, 2], [2, 2])).toMatchObject({ significant: false, pValue: 1 });
    expect(welchDiff([3, 3], [2, 2])).toMatchObject({ significant: true, pValue: 0 });
  });
});

describe('bootstrapDiff and compareSamples', () => {
  const rnd = seededRandom(7);
  const noise = (c: number) => Array.from({ length: 12 }, () => c + (rnd() - 0.5));

  it('is deterministic (fixed seed) and separates clearly different medians', () => {
    const a = noise(10);
    const b = noise(5);
    const d1 = bootstrapDiff(a, b);
    expect(bootstrapDiff(a, b)).toEqual(d1);
    expect(d1.method).toBe('bootstrap');
    expect(d1.significant).toBe(true);
    expect(d1.ci95[0]).toBeGreaterThan(4);
  });

  it('same distribution: interval holds 0', () => {
    const d = bootstrapDiff(noise(5), noise(5));
    expect(d.ci95[0]).toBeLessThan(0);
    expect(d.ci95[1]).toBeGreaterThan(0);
    expect(d.significant).toBe(false);
  });

  it('Welch below 10 values a side, bootstrap from 10', () => {
    expect(compareSamples([1, 2, 3], [2, 3, 4]).method).toBe('welch');
    expect(compareSamples(noise(1), noise(2)).method).toBe('bootstrap');
  });
});

describe('outlierIndexes', () => {
  it('flags the far value by modified z-score', () => {
    expect(outlierIndexes([10, 10.2, 9.9, 10.1, 3])).toEqual([4]);
    expect(outlierIndexes([10, 10.2, 9.9])).toEqual([]);
    expect(outlierIndexes([5, 5, 5, 5, 5, 9])).toEqual([5]); // MAD 0: mean absolute deviation stands in
    expect(outlierIndexes([5, 5, 5, 9])).toEqual([]); // 4 / (1.2533 · 1) = 3.19: not beyond 3.5
    expect(outlierIndexes([5, 5, 5])).toEqual([]);
    expect(outlierIndexes([1, 100])).toEqual([]); // fewer than 3
  });
});

// ---- derive on result files holding the new kinds ----

const base = { startedAt: '2026-01-01T00:00:00.000Z', argv: ['x'], raw: '' };
const latRun = (repeat: number, p50: number): RunRecord => ({
  ...base,
  repeat,
  ok: true,
  latency: { p50Us: p50, p90Us: p50 + 1, p99Us: p50 * 3, p999Us: p50 * 10, maxUs: p50 * 50, meanUs: p50, observations: 1000 },
  transactions: 20000,
  cpuSecondsPer1kTransactions: 0.05,
});

function latTest(runs: RunRecord[]): TestRecord {
  return {
    id: 'lat-tcp/cross',
    kind: 'sockperf',
    protocol: 'tcp',
    streams: 1,
    placement: 'cross',
    msgSize: 64,
    client: { node: 'h1', ns: 'a' },
    server: { node: 'h2', ns: 'b' },
    target: '198.18.0.2',
    runs,
  };
}

function withLatency(): ResultFile {
  const r = resultFixture();
  r.schemes[0].tests.push(latTest([latRun(1, 15), latRun(2, 15.5), latRun(3, 14.8)]));
  r.schemes[3].tests.push(latTest([latRun(1, 40), latRun(2, 41), latRun(3, 39.5)]));
  return r;
}

describe('deriveAll with latency tests and significance', () => {
  it('summarises latency percentiles, CPU per 1,000 transactions; no throughput summary', () => {
    const r = withLatency();
    deriveAll(r);
    const t = r.schemes[3].tests.at(-1)!;
    expect(t.summary).toBeUndefined();
    expect(t.latencySummary?.p50Us?.median).toBe(40);
    expect(t.latencySummary?.p99Us?.median).toBe(120);
    expect(t.latencySummary?.cpuSecondsPer1kTransactions?.median).toBe(0.05);
    expect(mainMetric(t).metric).toBe('p50Us');
    expect(t.vsHostDiff).toMatchObject({
      a: 'calico',
      b: 'host',
      metric: 'p50Us',
      higherIsBetter: false,
      significant: true,
      method: 'welch',
    });
    expect(t.vsHostDiff!.diff).toBeCloseTo(40.1667 - 15.1, 3);
  });

  it('a throughput difference that the data do not support reads "≈ 96%" (the sign, then the figure)', () => {
    const r = resultFixture();
    // calico tcp-1/cross: 5 and 6 (one run failed) vs host 10, 12, 11: clearly different.
    deriveAll(r);
    expect(r.schemes[3].tests[0].vsHostDiff?.significant).toBe(true);
    // Make calico's runs overlap the host's.
    r.schemes[3].tests[0].runs = [9.5, 12.5, 10.2].map((g, i) => ({ ...base, repeat: i + 1, ok: true, gbps: g }));
    deriveAll(r);
    const d = r.schemes[3].tests[0].vsHostDiff!;
    expect(d.significant).toBe(false);
    const row = renderTable(r, { columns: 200 })
      .split('\n')
      .find((l) => l.startsWith('│ calico'))!;
    expect(row).toMatch(/≈ \d+%/);
    const host = renderTable(r, { columns: 200 })
      .split('\n')
      .find((l) => l.startsWith('│ host'))!;
    expect(host).toContain('100%');
  });

  it('flags an outlier run and stays idempotent', () => {
    const r = resultFixture();
    r.schemes[0].tests[0].runs = [10, 10.1, 9.9, 10.05, 2].map((g, i) => ({ ...base, repeat: i + 1, ok: true, gbps: g }));
    deriveAll(r);
    const t = r.schemes[0].tests[0];
    expect(t.outlierRepeats).toEqual([5]);
    expect(t.runs[4].outlier).toBe(true);
    expect(t.runs[0].outlier).toBeUndefined();
    const once = structuredClone(r);
    deriveAll(r);
    expect(r).toEqual(once);
  });

  it('pairwise comparisons: every pair of schemes on every non-sweep test', () => {
    const r = withLatency();
    deriveAll(r, { comparisons: true });
    const ids = [...new Set(r.comparisons!.map((c) => c.testId))].sort();
    expect(ids).toEqual(['lat-tcp/cross', 'tcp-1/cross', 'udp/cross']);
    const c = r.comparisons!.find((x) => x.testId === 'lat-tcp/cross')!;
    expect([c.a, c.b]).toEqual(['calico', 'host']);
    expect(c.significant).toBe(true);
    expect(pairwiseComparisons(r)).toEqual(r.comparisons);
    expect(compareTests({ scheme: 'x', test: latTest([]) }, { scheme: 'y', test: latTest([latRun(1, 1)]) })).toBeUndefined();
  });
});
