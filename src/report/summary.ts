import { rateBits } from '../result/derive.js';
import { t975 } from '../stats/stats.js';
import type { ResultFile, SchemeRecord, TestRecord } from '../result/types.js';
import { sweepHeadlines, type SweepHeadline } from './sweep-headlines.js';

/** The compact summary `cnlab run --json` prints; derived from the result file alone. */

export interface TestLine {
  id: string;
  /** Median over the good runs. */
  gbps?: number;
  /** The median's own interval (order statistics; see Summary.medianCi) and its coverage. */
  medianCi?: [number, number];
  medianCiCoverage?: number;
  vsHost?: number;
  vsHostCi95?: [number, number];
  lossPercent?: number;
  jitterMs?: number;
  cpuSecondsPerGbit?: number;
  /** TCP: median retransmitted segments per run. */
  retransmits?: number;
  /** UDP: the rate asked of iperf3 (-b), what its sender sent and what the receiver got, Gbit/s. */
  offeredGbps?: number;
  sentGbps?: number;
  /** UDP: the sender never reached the offered rate (sent < 90% of it): loss says nothing about the path's capacity. */
  senderLimited?: boolean;
  runs: number;
  failedRuns: number;
  errors: string[];
}

export interface SchemeLine {
  name: string;
  status: SchemeRecord['status'];
  reason?: string;
  notes: string[];
  mtu?: number;
  tests: TestLine[];
  /** Sweeps' headline figures (bandwidth at the largest message, latency at the smallest, CPU per Gbit). */
  sweepHeadlines?: SweepHeadline[];
}

/** A UDP run whose sender sent less than this share of the offered rate is sender-limited. */
export const SENDER_LIMITED_SHARE = 0.9;

export function testLine(t: TestRecord): TestLine {
  const s = t.summary;
  const failed = t.runs.filter((r) => !r.ok);
  const offered = t.protocol === 'udp' && (t.kind ?? 'iperf3') === 'iperf3' ? rateBits(t.udpRate) : undefined;
  const sent = s?.sentGbps?.median;
  return {
    id: t.id,
    gbps: s?.gbps.median,
    medianCi: s?.gbps.medianCi,
    medianCiCoverage: s?.gbps.medianCiCoverage,
    vsHost: t.vsHost?.value,
    vsHostCi95: t.vsHost?.ci95,
    lossPercent: s?.lossPercent?.median,
    jitterMs: s?.jitterMs?.median,
    cpuSecondsPerGbit: s?.cpuSecondsPerGbit?.median,
    retransmits: s?.retransmits?.median,
    offeredGbps: offered === undefined ? undefined : offered / 1e9,
    sentGbps: sent,
    senderLimited: offered !== undefined && sent !== undefined ? sent * 1e9 < SENDER_LIMITED_SHARE * offered : undefined,
    runs: t.runs.length,
    failedRuns: failed.length,
    errors: [...new Set(failed.map((r) => r.error ?? 'failed'))],
  };
}

export function summarizeResult(result: ResultFile): SchemeLine[] {
  return result.schemes.map((s) => {
    const heads = sweepHeadlines(s);
    return {
      name: s.name,
      status: s.status,
      reason: s.reason,
      notes: s.notes,
      mtu: s.mtu,
      tests: s.tests.map(testLine),
      ...(heads.length ? { sweepHeadlines: heads } : {}),
    };
  });
}

/** "9.41 [9.30–9.52]"; the median alone with one good run. */
export function medianText(t: Pick<TestLine, 'gbps' | 'medianCi' | 'runs' | 'failedRuns'>, digits = 2): string {
  if (t.gbps === undefined) return '–';
  if (!t.medianCi || t.runs - t.failedRuns < 2) return t.gbps.toFixed(digits);
  return `${t.gbps.toFixed(digits)} [${t.medianCi[0].toFixed(digits)}–${t.medianCi[1].toFixed(digits)}]`;
}

/**
 * What the sample supports (issue 16): the smallest relative difference between two schemes that
 * can reach significance with `repeats` runs a side at the observed noise — Welch's test needs
 * |Δ| > t(0.975, 2n−2)·√(2/n)·CV — with CV the median coefficient of variation of the bulk TCP
 * tests' throughput over every scheme. Smaller differences are not resolvable by this run.
 */
export function resolvablePercent(result: ResultFile): { percent: number; cv: number; repeats: number } | undefined {
  const n = result.options.repeats;
  const cvs = result.schemes.flatMap((s) =>
    s.tests.flatMap((t) =>
      (t.kind ?? 'iperf3') === 'iperf3' &&
      t.protocol === 'tcp' &&
      !t.sweep &&
      t.summary &&
      t.summary.gbps.n >= 2 &&
      Number.isFinite(t.summary.gbps.cv ?? NaN)
        ? [t.summary.gbps.cv as number]
        : [],
    ),
  );
  if (n < 2 || !cvs.length) return undefined;
  const sorted = [...cvs].sort((a, b) => a - b);
  const mid = sorted.length / 2;
  const cv = sorted.length % 2 ? sorted[Math.floor(mid)] : (sorted[mid - 1] + sorted[mid]) / 2;
  return { percent: t975(2 * n - 2) * Math.sqrt(2 / n) * cv * 100, cv, repeats: n };
}

/** The sentence for the top of every report. */
export function sampleText(result: ResultFile): string {
  const o = result.options;
  const runs = `${o.repeats} run${o.repeats === 1 ? '' : 's'} of ${o.seconds} s per test`;
  const r = resolvablePercent(result);
  if (o.repeats < 2) return `${runs}: no test of significance is possible; raise --repeats (and --duration for steadier runs).`;
  if (!r) return `${runs}; more with --repeats and --duration.`;
  const n = Math.max(1, Math.round(r.percent));
  return `${runs}: differences under ${n}% are not resolvable at the observed noise (median CV ${(r.cv * 100).toFixed(1)}%); more --repeats or a longer --duration resolve finer ones.`;
}
