import { holmAdjust } from '../stats/holm.js';
import { ALPHA, BOOTSTRAP_MIN, compareSamples, type Diff } from '../stats/stats.js';

/**
 * Whether two samples differ, for reports: the measurement's own test (src/stats/stats.ts:
 * Welch's t-test below BOOTSTRAP_MIN values a side, a seeded percentile bootstrap of medians from
 * there), oriented as "b against a" — a is the reference (the host, the first run).
 */
export interface Difference {
  /** b − a (means for Welch, medians for the bootstrap). */
  diff: number;
  /** 95% interval of diff; [diff, diff] when no test is possible. */
  ci95: [number, number];
  /** Two-sided p-value; undefined when either side has fewer than two values. */
  p?: number;
  significant: boolean;
  method: Diff['method'];
}

export function difference(a: readonly number[], b: readonly number[]): Difference {
  if (!a.length || !b.length) throw new RangeError('difference: both samples need values');
  const d = compareSamples(b, a);
  return { diff: d.diff, ci95: d.ci95, p: d.pValue, significant: d.significant, method: d.method };
}

/** How significance is decided, for captions and footnotes. */
export const SIGNIFICANCE_TEXT = `Welch's t-test (a bootstrap of medians with ${BOOTSTRAP_MIN} or more runs a side), p < 0.05`;

/** How rankings decide an order, for captions. */
/** Tiers of a ranking and how each pair was judged. */
export interface Tiered<T> {
  /** Best first; every pair of items in different tiers differs significantly after Holm. */
  tiers: T[][];
  /** Per tier: some pair inside could not be tested (fewer than two runs a side). */
  untested: boolean[];
}

/**
 * Items best first, grouped into tiers built from the pairwise tests (the same test as
 * difference()) with Holm's correction over every pair of the items (the matrix). A ranking
 * may only put A above B when A against B is significant after the correction; so an item that
 * is not significantly different from (or cannot be tested against) any item of an earlier tier
 * merges every tier from that one on into one tie group. Within a tie group some pairs may still
 * differ; no order is claimed among them.
 */
export function tieredRanking<T>(items: T[], samplesOf: (x: T) => number[], centre: (x: T) => number, higherIsBetter: boolean): Tiered<T> {
  const sorted = [...items].sort((a, b) => (higherIsBetter ? centre(b) - centre(a) : centre(a) - centre(b)));
  const n = sorted.length;
  const pairs: Array<[number, number]> = [];
  const ps: Array<number | undefined> = [];
  for (let i = 0; i < n; i++) {
    for (let j = i + 1; j < n; j++) {
      const a = samplesOf(sorted[i]);
      const b = samplesOf(sorted[j]);
      pairs.push([i, j]);
      ps.push(a.length && b.length ? difference(a, b).p : undefined);
    }
  }
  const adjusted = holmAdjust(ps);
  const sig = new Map<string, boolean | undefined>();
  pairs.forEach(([i, j], k) => sig.set(`${i},${j}`, adjusted[k] === undefined ? undefined : adjusted[k]! < ALPHA));
  // tierOf[i]: the tier of sorted[i]; tiers are contiguous runs of the sorted order.
  const tierOf: number[] = [];
  for (let j = 0; j < n; j++) {
    let tier = j === 0 ? 0 : tierOf[j - 1] + 1;
    for (let i = 0; i < j; i++) {
      const s = sig.get(`${i},${j}`);
      if (s !== true && tierOf[i] < tier) tier = tierOf[i];
    }
    // Merging reaches back: everything from the earliest tie on is one group.
    for (let i = 0; i < j; i++) if (tierOf[i] > tier) tierOf[i] = tier;
    tierOf[j] = tier;
  }
  const ids = [...new Set(tierOf)];
  return {
    tiers: ids.map((t) => sorted.filter((_, i) => tierOf[i] === t)),
    untested: ids.map((t) =>
      sorted.some(
        (_, j) =>
          tierOf[j] === t &&
          sorted.some((__, i) => i !== j && tierOf[i] === t && sig.get(`${Math.min(i, j)},${Math.max(i, j)}`) === undefined),
      ),
    ),
  };
}

/** Items best first in tie groups (see tieredRanking). */
export function tiers<T>(items: T[], samplesOf: (x: T) => number[], centre: (x: T) => number, higherIsBetter: boolean): T[][] {
  return tieredRanking(items, samplesOf, centre, higherIsBetter).tiers;
}

/** "p = 0.049", "p < 0.001", "p = 0.42"; three decimals near the 0.05 threshold so a rounded 0.05 never hides which side it is on. */
export function pText(d: Pick<Difference, 'p'> | undefined): string {
  if (d?.p === undefined) return 'too few runs to test';
  if (d.p < 0.001) return 'p < 0.001';
  return `p = ${d.p.toFixed(d.p < 0.1 ? 3 : 2)}`;
}
