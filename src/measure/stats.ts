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
  return {
    n,
    median: ssMedian(xs),
    mean,
    stddev,
    cv,
    ci95: [mean - half, mean + half],
    min: Math.min(...xs),
    max: Math.max(...xs),
  };
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
