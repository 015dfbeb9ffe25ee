import type { MetricName, ResultFile, RunRecord, SchemeRecord, TestMetric, TestRecord } from './types.js';
import { compareSamples, outlierIndexes, ratio, summarize, type Comparison, type Summary } from '../stats/stats.js';

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
  return runs.filter((r) => r.ok).map(pick).filter((v): v is number => v !== undefined && Number.isFinite(v));
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

export function deriveTest(t: TestRecord): void {
  const gbps = field(t.runs, (r) => r.gbps);
  t.summary = gbps
    ? {
        gbps,
        cpuSecondsPerGbit: field(t.runs, (r) => r.cpuSecondsPerGbit),
        lossPercent: field(t.runs, (r) => r.lossPercent),
        jitterMs: field(t.runs, (r) => r.jitterMs),
      }
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
    for (let i = 0; i < having.length; i++) {
      for (let j = i + 1; j < having.length; j++) {
        const c = compareTests(having[j], having[i]);
        if (c) out.push(c);
      }
    }
  }
  return out;
}

/**
 * Fills every test's figures and its comparison with the host. With `comparisons`, also every
 * pairwise comparison (done once at the end of a run: it grows with the square of the schemes).
 */
export function deriveAll(result: ResultFile, opts: { comparisons?: boolean } = {}): void {
  const host = result.schemes.find((s) => s.name === 'host' && s.status === 'ok');
  for (const s of result.schemes) {
    for (const t of s.tests) {
      deriveTest(t);
      const hostTest = host?.tests.find((h) => h.id === t.id);
      const base = hostTest?.summary?.gbps;
      t.vsHost = base && t.summary && base.median > 0 ? ratio(t.summary.gbps, base) : undefined;
      setOptional(t, 'vsHostDiff', hostTest && s !== host ? compareTests({ scheme: s.name, test: t }, { scheme: 'host', test: hostTest }) : undefined);
    }
  }
  if (opts.comparisons) result.comparisons = pairwiseComparisons(result);
}
