/**
 * Summary statistics for repeated measurements.
 *
 * ci95 is the Student-t 95% confidence interval of the MEAN: mean ± t(0.975, n-1)·s/√n, with s the
 * sample standard deviation. With n = 1 there is no spread estimate and it is [v, v].
 */
import jStat from 'jstat';
import { mean as ssMean, median as ssMedian, sampleStandardDeviation } from 'simple-statistics';

export interface Summary {
  n: number;
  median: number;
  mean: number;
  /** Sample standard deviation (n-1); 0 when n = 1. */
  stddev: number;
  /** Coefficient of variation stddev/|mean|; 0 when stddev is 0, Infinity when only the mean is 0. */
  cv: number;
  ci95: [number, number];
  min: number;
  max: number;
  /**
   * The MEDIAN's own interval, distribution-free from order statistics (see medianInterval):
   * what reports show beside the median. Added in result version 2.
   */
  medianCi: [number, number];
  /** medianCi's coverage: ≥ 0.95 from 6 values; below that it is [min, max] and covers less (3 values: 0.75). */
  medianCiCoverage: number;
}

export interface RatioSummary {
  /** a.median / b.median */
  value: number;
  ci95: [number, number];
  /** Combined relative error used for the interval (see ratio()). */
  relErr: number;
}

/** Two-sided 95% Student-t quantile, t(0.975, dof). */
export function t975(dof: number): number {
  return jStat.studentt.inv(0.975, dof);
}

export function summarize(values: readonly number[]): Summary {
  if (values.length === 0) throw new RangeError('summarize: no values');
  if (!values.every(Number.isFinite)) throw new RangeError('summarize: values must be finite numbers');
  const xs = [...values];
  const n = xs.length;
  const mean = ssMean(xs);
  const stddev = n > 1 ? sampleStandardDeviation(xs) : 0;
  const half = n > 1 ? (t975(n - 1) * stddev) / Math.sqrt(n) : 0;
  let cv = 0;
  if (stddev !== 0) cv = mean === 0 ? Infinity : stddev / Math.abs(mean);
  const mi = medianInterval(xs);
  return {
    n,
    median: ssMedian(xs),
    mean,
    stddev,
    cv,
    ci95: [mean - half, mean + half],
    min: Math.min(...xs),
    max: Math.max(...xs),
    medianCi: [mi.low, mi.high],
    medianCiCoverage: mi.coverage,
  };
}

/** P(X ≤ k) for X ~ Binomial(n, 1/2). */
function binomHalfCdf(k: number, n: number): number {
  let term = 0.5 ** n; // C(n, 0) / 2^n
  let sum = 0;
  for (let i = 0; i <= k; i++) {
    sum += term;
    term = (term * (n - i)) / (i + 1);
  }
  return sum;
}

/** Target coverage of medianInterval. */
export const MEDIAN_CI_LEVEL = 0.95;

/**
 * Distribution-free interval of the median from order statistics: [x(k), x(n−k+1)] of the sorted
 * values, with the largest k whose coverage 1 − 2·P(B ≤ k−1), B ~ Binomial(n, ½), is at least 95%.
 * Below 6 values no pair of order statistics reaches 95%: the interval is then [min, max] and its
 * coverage is stated (n = 3: 75%, n = 5: 93.75%). One value: [v, v], coverage 0.
 */
export function medianInterval(values: readonly number[]): { low: number; high: number; coverage: number } {
  if (values.length === 0) throw new RangeError('medianInterval: no values');
  const xs = [...values].sort((a, b) => a - b);
  const n = xs.length;
  if (n === 1) return { low: xs[0], high: xs[0], coverage: 0 };
  let k = 1;
  while (k + 1 <= Math.floor(n / 2) && 1 - 2 * binomHalfCdf(k, n) >= MEDIAN_CI_LEVEL) k++;
  return { low: xs[k - 1], high: xs[n - k], coverage: 1 - 2 * binomHalfCdf(k - 1, n) };
}

/** Relative half-width of a summary's ci95 (half-width / |mean|). */
function relHalfWidth(s: Summary): number {
  const half = (s.ci95[1] - s.ci95[0]) / 2;
  if (half === 0) return 0;
  return s.mean === 0 ? Infinity : half / Math.abs(s.mean);
}

/**
 * Ratio of medians a/b (e.g. scheme throughput / host baseline) with a 95% interval.
 *
 * Method: first-order error propagation for a quotient. Each side's uncertainty is the relative
 * half-width of its t-based ci95 of the mean (used as the uncertainty of its median too); the two
 * relative errors add in quadrature, e = √(ea² + eb²). The interval is applied on the log scale,
 * [r·e^-e, r·e^+e], which equals r(1 ± e) to first order but stays positive and treats a/b and b/a
 * symmetrically. With n = 1 on both sides the interval is [r, r].
 */
export function ratio(a: Summary, b: Summary): RatioSummary {
  if (b.median === 0) throw new RangeError('ratio: denominator median is 0');
  const value = a.median / b.median;
  const relErr = Math.hypot(relHalfWidth(a), relHalfWidth(b));
  const f = Math.exp(relErr);
  const ends = [value / f, value * f].sort((x, y) => x - y);
  return { value, ci95: [ends[0], ends[1]], relErr };
}

// ---- between two samples: difference, its interval, significance ----

/**
 * The difference of one figure between two schemes (a − b, e.g. calico − host) in one test.
 *
 * method 'welch': Welch's unequal-variances t-test on the means; the interval is mean(a) − mean(b)
 * ± t(0.975, ν)·√(sa²/na + sb²/nb) with the Welch–Satterthwaite ν. Used when either side has fewer
 * than BOOTSTRAP_MIN values. method 'bootstrap': percentile bootstrap of the difference of MEDIANS
 * (BOOTSTRAP_ITERATIONS resamples, fixed seed, so a file re-derives identically); significant when
 * the interval excludes 0; pValue is the two-sided bootstrap tail proportion. 'none': fewer than
 * two values on a side, no test possible (significant is false, the interval is the point).
 */
export interface Comparison {
  a: string;
  b: string;
  testId: string;
  /** Which figure: 'gbps', 'p50Us', 'latencyUs', 'maxRateMbps'. */
  metric: string;
  /** Whether a higher value of the metric is better (throughput) or worse (latency). */
  higherIsBetter: boolean;
  na: number;
  nb: number;
  /** a − b in the metric's unit (means for welch, medians for bootstrap). */
  diff: number;
  /** diff / b's centre; undefined when that is 0. */
  relDiff?: number;
  ci95: [number, number];
  pValue?: number;
  significant: boolean;
  method: 'welch' | 'bootstrap' | 'none';
  /**
   * Pairwise comparisons only (result.comparisons): pValue after Holm's correction over every
   * pair of the same test (the matrix), and whether that is below ALPHA. Rankings use these.
   */
  pHolm?: number;
  significantHolm?: boolean;
}

export const ALPHA = 0.05;
export const BOOTSTRAP_MIN = 10;
export const BOOTSTRAP_ITERATIONS = 2000;

export interface Diff {
  diff: number;
  centreB: number;
  ci95: [number, number];
  pValue?: number;
  significant: boolean;
  method: Comparison['method'];
}

/** Welch's t-test of mean(a) − mean(b). */
export function welchDiff(a: readonly number[], b: readonly number[]): Diff {
  const A = summarize(a);
  const B = summarize(b);
  const diff = A.mean - B.mean;
  if (A.n < 2 || B.n < 2) return { diff, centreB: B.mean, ci95: [diff, diff], significant: false, method: 'none' };
  const va = A.stddev ** 2 / A.n;
  const vb = B.stddev ** 2 / B.n;
  const se = Math.sqrt(va + vb);
  if (se === 0) return { diff, centreB: B.mean, ci95: [diff, diff], pValue: diff === 0 ? 1 : 0, significant: diff !== 0, method: 'welch' };
  const dof = (va + vb) ** 2 / (va ** 2 / (A.n - 1) + vb ** 2 / (B.n - 1));
  const t = diff / se;
  const pValue = Math.min(1, 2 * (1 - jStat.studentt.cdf(Math.abs(t), dof)));
  const half = jStat.studentt.inv(0.975, dof) * se;
  return { diff, centreB: B.mean, ci95: [diff - half, diff + half], pValue, significant: pValue < ALPHA, method: 'welch' };
}

/** mulberry32: a small seeded PRNG, so a bootstrap re-derives to the same figures. */
export function seededRandom(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function quantileSorted(xs: number[], q: number): number {
  const pos = (xs.length - 1) * q;
  const lo = Math.floor(pos);
  const hi = Math.ceil(pos);
  return xs[lo] + (xs[hi] - xs[lo]) * (pos - lo);
}

/** Percentile bootstrap of median(a) − median(b). */
export function bootstrapDiff(a: readonly number[], b: readonly number[], iterations = BOOTSTRAP_ITERATIONS, seed = 1): Diff {
  const diff = ssMedian([...a]) - ssMedian([...b]);
  const centreB = ssMedian([...b]);
  if (a.length < 2 || b.length < 2) return { diff, centreB, ci95: [diff, diff], significant: false, method: 'none' };
  const rnd = seededRandom(seed);
  const resample = (xs: readonly number[]) => Array.from({ length: xs.length }, () => xs[Math.floor(rnd() * xs.length)]);
  const diffs: number[] = [];
  for (let i = 0; i < iterations; i++) diffs.push(ssMedian(resample(a)) - ssMedian(resample(b)));
  diffs.sort((x, y) => x - y);
  const ci95: [number, number] = [quantileSorted(diffs, 0.025), quantileSorted(diffs, 0.975)];
  const below = diffs.filter((d) => d <= 0).length / iterations;
  const above = diffs.filter((d) => d >= 0).length / iterations;
  const pValue = Math.min(1, 2 * Math.min(below, above));
  return { diff, centreB, ci95, pValue, significant: ci95[0] > 0 || ci95[1] < 0, method: 'bootstrap' };
}

/** a − b with the method the sample sizes allow (see Comparison). */
export function compareSamples(a: readonly number[], b: readonly number[]): Diff {
  return a.length >= BOOTSTRAP_MIN && b.length >= BOOTSTRAP_MIN ? bootstrapDiff(a, b) : welchDiff(a, b);
}

// ---- outliers ----

export const OUTLIER_Z = 3.5;

/**
 * Indexes of outliers by the modified z-score (Iglewicz & Hoaglin): |x − median| / (1.4826·MAD)
 * above 3.5. When the MAD is 0 (most values equal), the mean absolute deviation × 1.2533 stands in;
 * when that is 0 too, nothing is an outlier. Needs at least OUTLIER_MIN values: with fewer, the
 * median and MAD are too unsteady to call any one value far from the rest (issue 16: 28 of 228
 * runs were flagged from 3 samples).
 */
export const OUTLIER_MIN = 5;

export function outlierIndexes(values: readonly number[]): number[] {
  if (values.length < OUTLIER_MIN) return [];
  const med = ssMedian([...values]);
  const dev = values.map((v) => Math.abs(v - med));
  const mad = ssMedian([...dev]);
  let scale = 1.4826 * mad;
  if (scale === 0) scale = 1.2533 * (dev.reduce((s, d) => s + d, 0) / dev.length);
  if (scale === 0) return [];
  return dev.flatMap((d, i) => (d / scale > OUTLIER_Z ? [i] : []));
}
