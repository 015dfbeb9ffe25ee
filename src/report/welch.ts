import jStat from 'jstat';

/**
 * Welch's unequal-variances t-test between two samples, and the 95% interval of the difference
 * of their means (b − a). Used by verdicts and compare to say whether a difference is significant.
 *
 * df is the Welch–Satterthwaite estimate. With fewer than two values on either side there is no
 * spread estimate: the test is not possible and `p` is undefined. With zero spread on both sides
 * the difference is exact: p is 1 when the means are equal and 0 otherwise.
 */
export interface Welch {
  /** mean(b) − mean(a) */
  diff: number;
  /** 95% interval of diff; [diff, diff] when there is no spread estimate. */
  ci95: [number, number];
  t?: number;
  df?: number;
  /** Two-sided p-value; undefined when either side has fewer than two values. */
  p?: number;
  /** p < alpha (0.05 unless given). */
  significant: boolean;
}

function moments(xs: readonly number[]): { n: number; mean: number; variance: number } {
  const n = xs.length;
  const mean = xs.reduce((s, x) => s + x, 0) / n;
  const variance = n > 1 ? xs.reduce((s, x) => s + (x - mean) ** 2, 0) / (n - 1) : 0;
  return { n, mean, variance };
}

export function welch(a: readonly number[], b: readonly number[], alpha = 0.05): Welch {
  if (!a.length || !b.length) throw new RangeError('welch: both samples need values');
  const A = moments(a);
  const B = moments(b);
  const diff = B.mean - A.mean;
  if (A.n < 2 || B.n < 2) return { diff, ci95: [diff, diff], significant: false };
  const va = A.variance / A.n;
  const vb = B.variance / B.n;
  const se = Math.sqrt(va + vb);
  if (se === 0) {
    const p = diff === 0 ? 1 : 0;
    return { diff, ci95: [diff, diff], p, significant: p < alpha };
  }
  const df = (va + vb) ** 2 / ((va * va) / (A.n - 1) + (vb * vb) / (B.n - 1));
  const t = diff / se;
  const p = Math.min(1, 2 * (1 - jStat.studentt.cdf(Math.abs(t), df)));
  const half = jStat.studentt.inv(0.975, df) * se;
  return { diff, ci95: [diff - half, diff + half], t, df, p, significant: p < alpha };
}
