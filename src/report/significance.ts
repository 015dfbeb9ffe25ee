import { BOOTSTRAP_MIN, compareSamples, type Diff } from '../stats/stats.js';

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

/**
 * Items best first, grouped into tiers: an item joins the current tier when it is not
 * significantly different from the tier's first (best) item, and starts a new one otherwise —
 * also when no test is possible (too few runs), so an untested gap is never called a tie.
 */
export function tiers<T>(items: T[], samplesOf: (x: T) => number[], centre: (x: T) => number, higherIsBetter: boolean): T[][] {
  const sorted = [...items].sort((a, b) => (higherIsBetter ? centre(b) - centre(a) : centre(a) - centre(b)));
  const out: T[][] = [];
  for (const x of sorted) {
    const tier = out[out.length - 1];
    const [a, b] = tier ? [samplesOf(tier[0]), samplesOf(x)] : [[], []];
    const d = a.length && b.length ? difference(a, b) : undefined;
    if (tier && d && d.p !== undefined && !d.significant) tier.push(x);
    else out.push([x]);
  }
  return out;
}

/** "p = 0.049", "p < 0.001", "p = 0.42"; three decimals near the 0.05 threshold so a rounded 0.05 never hides which side it is on. */
export function pText(d: Pick<Difference, 'p'> | undefined): string {
  if (d?.p === undefined) return 'too few runs to test';
  if (d.p < 0.001) return 'p < 0.001';
  return `p = ${d.p.toFixed(d.p < 0.1 ? 3 : 2)}`;
}
