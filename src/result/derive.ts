import type { MetricName, ResultFile, RunRecord, SchemeRecord, TestMetric, TestRecord } from './types.js';
import { holmAdjust } from '../stats/holm.js';
import { ALPHA, compareSamples, outlierIndexes, ratio, summarize, type Comparison, type Summary } from '../stats/stats.js';

/**
 * Pure: fills every derived figure (summaries, outlier flags, ratios and differences to the host
 * baseline, and — at the end of a run — every pairwise comparison) from the raw runs. Runs after
 * each test run so the result file always holds them; idempotent.
 */

function field(runs: RunRecord[], pick: (r: RunRecord) => number | undefined): Summary | undefined {
  const vals = values(runs, pick);
  return vals.length ? summarize(vals) : undefined;
}

function values(runs: RunRecord[], pick: (r: RunRecord) => number | undefined): number[] {
  return runs
    .filter((r) => r.ok)
    .map(pick)
    .filter((v): v is number => v !== undefined && Number.isFinite(v));
}

/** The figure a test is judged by, and which way is better. */
export interface MainMetric {
  metric: MetricName;
  higherIsBetter: boolean;
  pick(r: RunRecord): number | undefined;
}

/** Where each figure a test can be judged by is in a run. */
const PICK: Record<MetricName, (r: RunRecord) => number | undefined> = {
  gbps: (r) => r.gbps,
  p50Us: (r) => r.latency?.p50Us,
  latencyUs: (r) => r.latencyUs,
  maxRateMbps: (r) => r.maxRateMbps,
};

/**
 * Tests written before each recorded its metric (the tool registry chooses it now): the rule
 * cnlab applied then, by test kind. Kept for reading those files; new tests carry `metric`.
 */
function metricBeforeRecorded(t: Pick<TestRecord, 'kind' | 'qperfTest'>): TestMetric {
  if (t.kind === 'udp-rate-sweep') return { name: 'maxRateMbps', higherIsBetter: true };
  if (t.kind === 'sockperf') return { name: 'p50Us', higherIsBetter: false };
  if (t.kind === 'qperf' && t.qperfTest?.endsWith('_lat')) return { name: 'latencyUs', higherIsBetter: false };
  return { name: 'gbps', higherIsBetter: true };
}

export function mainMetric(t: Pick<TestRecord, 'kind' | 'qperfTest' | 'metric'>): MainMetric {
  const m = t.metric ?? metricBeforeRecorded(t);
  return { metric: m.name, higherIsBetter: m.higherIsBetter, pick: PICK[m.name] };
}

/** Drops keys whose value is undefined, so that re-deriving gives an identical object. */
function defined<T extends object>(o: T): T | undefined {
  const out = Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as T;
  return Object.keys(out).length ? out : undefined;
}

function setOptional<T extends object, K extends keyof T>(obj: T, key: K, value: T[K] | undefined): void {
  if (value === undefined) delete obj[key];
  else obj[key] = value;
}

/** "1gbit", "500mbit", "10G" → bits per second; undefined for anything else. */
export function rateBits(rate: string | undefined): number | undefined {
  const m = /^(\d+(?:\.\d+)?)\s*([kmgt]?)(?:bit|bps|b)?$/i.exec(rate?.trim() ?? '');
  if (!m) return undefined;
  return Number(m[1]) * { '': 1, k: 1e3, m: 1e6, g: 1e9, t: 1e12 }[m[2].toLowerCase() as '' | 'k' | 'm' | 'g' | 't'];
}

/** A figure this far above the emulated link rate cannot have crossed it (tbf's burst is 4 ms: 0.4% of a 1 s run). */
export const LINK_RATE_TOLERANCE = 0.01;

/**
 * A throughput above the emulated link rate is not a result (issue 16: ovs-overlay 1.37 Gbit/s on
 * a 1 Gbit/s link): the run becomes a failed run with that reason; its raw figure stays on it.
 * Idempotent.
 */
export function failAboveLink(t: TestRecord, linkBits: number | undefined): void {
  // Same-host traffic never crosses the link (the host baseline's same-host test is loopback).
  if (!linkBits || t.placement !== 'cross') return;
  for (const r of t.runs) {
    if (!r.ok || r.gbps === undefined || r.gbps * 1e9 <= linkBits * (1 + LINK_RATE_TOLERANCE)) continue;
    r.ok = false;
    r.error = `${r.gbps.toFixed(2)} Gbit/s is above the emulated link rate (${(linkBits / 1e9).toPrecision(3)} Gbit/s): traffic bypassed the shaping, not a result`;
  }
}

/** The sender's rate of a UDP iperf3 run, Gbit/s: recorded (sendGbps), else from the raw JSON (end.sum is the sender's). */
export function udpSentGbps(r: RunRecord): number | undefined {
  if (r.sendGbps !== undefined) return r.sendGbps;
  if (!r.raw || !r.raw.trimStart().startsWith('{')) return undefined;
  try {
    const doc = JSON.parse(r.raw) as { start?: { test_start?: { protocol?: string } }; end?: { sum?: { bits_per_second?: number } } };
    const bps = doc.start?.test_start?.protocol === 'UDP' ? doc.end?.sum?.bits_per_second : undefined;
    return typeof bps === 'number' && Number.isFinite(bps) ? bps / 1e9 : undefined;
  } catch {
    return undefined;
  }
}

export function deriveTest(t: TestRecord, linkBits?: number): void {
  failAboveLink(t, linkBits);
  const gbps = field(t.runs, (r) => r.gbps);
  const udp = t.protocol === 'udp' && (t.kind ?? 'iperf3') === 'iperf3';
  t.summary = gbps
    ? (defined({
        gbps,
        cpuSecondsPerGbit: field(t.runs, (r) => r.cpuSecondsPerGbit),
        lossPercent: field(t.runs, (r) => r.lossPercent),
        jitterMs: field(t.runs, (r) => r.jitterMs),
        retransmits: t.protocol === 'tcp' ? field(t.runs, (r) => r.retransmits) : undefined,
        sentGbps: udp ? field(t.runs, udpSentGbps) : undefined,
      }) as TestRecord['summary'])
    : undefined;
  setOptional(
    t,
    'latencySummary',
    defined({
      p50Us: field(t.runs, (r) => r.latency?.p50Us),
      p90Us: field(t.runs, (r) => r.latency?.p90Us),
      p99Us: field(t.runs, (r) => r.latency?.p99Us),
      p999Us: field(t.runs, (r) => r.latency?.p999Us),
      maxUs: field(t.runs, (r) => r.latency?.maxUs),
      latencyUs: field(t.runs, (r) => r.latencyUs),
      cpuSecondsPer1kTransactions: field(t.runs, (r) => r.cpuSecondsPer1kTransactions),
      loadGbps: field(t.runs, (r) => (r.load?.ok ? r.load.gbps : undefined)),
    }),
  );
  const maxRate = field(t.runs, (r) => r.maxRateMbps);
  setOptional(t, 'rateSummary', maxRate ? { maxRateMbps: maxRate } : undefined);
  // Outliers of the main figure: flagged on the run, listed on the test, still counted.
  const m = mainMetric(t);
  const judged = t.runs.filter((r) => r.ok && m.pick(r) !== undefined);
  const out = new Set(outlierIndexes(judged.map((r) => m.pick(r)!)).map((i) => judged[i]));
  for (const r of t.runs) setOptional(r, 'outlier', out.has(r) ? true : undefined);
  setOptional(t, 'outlierRepeats', out.size ? [...out].map((r) => r.repeat) : undefined);
}

/** a − b on the main figure of one test, when both have values. */
export function compareTests(a: { scheme: string; test: TestRecord }, b: { scheme: string; test: TestRecord }): Comparison | undefined {
  const m = mainMetric(a.test);
  const xa = values(a.test.runs, m.pick);
  const xb = values(b.test.runs, m.pick);
  if (!xa.length || !xb.length) return undefined;
  const d = compareSamples(xa, xb);
  return {
    a: a.scheme,
    b: b.scheme,
    testId: a.test.id,
    metric: m.metric,
    higherIsBetter: m.higherIsBetter,
    na: xa.length,
    nb: xb.length,
    diff: d.diff,
    ...(d.centreB !== 0 ? { relDiff: d.diff / d.centreB } : {}),
    ci95: d.ci95,
    ...(d.pValue !== undefined ? { pValue: d.pValue } : {}),
    significant: d.significant,
    method: d.method,
  };
}

/** Every pair of schemes on every test that is not a point of a sweep. */
export function pairwiseComparisons(result: ResultFile): Comparison[] {
  const measured = result.schemes.filter((s): s is SchemeRecord => s.tests.length > 0);
  const ids = [...new Set(measured.flatMap((s) => s.tests.filter((t) => !t.sweep).map((t) => t.id)))];
  const out: Comparison[] = [];
  for (const id of ids) {
    const having = measured.flatMap((s) => {
      const test = s.tests.find((t) => t.id === id);
      return test ? [{ scheme: s.name, test }] : [];
    });
    const matrix: Comparison[] = [];
    for (let i = 0; i < having.length; i++) {
      for (let j = i + 1; j < having.length; j++) {
        const c = compareTests(having[j], having[i]);
        if (c) matrix.push(c);
      }
    }
    // Holm over the test's matrix: with 19 schemes that is 171 tests, and some would pass p < 0.05 by chance.
    const adjusted = holmAdjust(matrix.map((c) => c.pValue));
    matrix.forEach((c, k) => {
      const p = adjusted[k];
      if (p !== undefined) Object.assign(c, { pHolm: p, significantHolm: p < ALPHA });
    });
    out.push(...matrix);
  }
  return out;
}

/**
 * Fills every test's figures and its comparison with the host. With `comparisons`, also every
 * pairwise comparison (done once at the end of a run: it grows with the square of the schemes).
 */
export function deriveAll(result: ResultFile, opts: { comparisons?: boolean } = {}): void {
  const host = result.schemes.find((s) => s.name === 'host' && s.status === 'ok');
  const linkBits = rateBits(result.options.knobs?.linkRate ?? result.topology.underlay.rate);
  for (const s of result.schemes) {
    for (const t of s.tests) {
      deriveTest(t, linkBits);
      const hostTest = host?.tests.find((h) => h.id === t.id);
      const base = hostTest?.summary?.gbps;
      t.vsHost = base && t.summary && base.median > 0 ? ratio(t.summary.gbps, base) : undefined;
      setOptional(
        t,
        'vsHostDiff',
        hostTest && s !== host ? compareTests({ scheme: s.name, test: t }, { scheme: 'host', test: hostTest }) : undefined,
      );
    }
  }
  if (opts.comparisons) result.comparisons = pairwiseComparisons(result);
}
