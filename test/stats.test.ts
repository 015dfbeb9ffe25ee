import { describe, expect, it } from 'vitest';
import { ratio, summarize, t975, type Summary } from '../src/stats/stats.js';

describe('t975', () => {
  it('matches Student-t tables', () => {
    expect(t975(1)).toBeCloseTo(12.706, 3);
    expect(t975(2)).toBeCloseTo(4.303, 3);
    expect(t975(10)).toBeCloseTo(2.228, 3);
    expect(t975(30)).toBeCloseTo(2.042, 3);
  });
});

describe('summarize', () => {
  it('computes n, median, mean, stddev, cv and a t-based ci95 of the mean', () => {
    const s = summarize([1, 2, 3]);
    expect(s).toMatchObject({ n: 3, median: 2, mean: 2, stddev: 1, cv: 0.5, min: 1, max: 3 });
    const half = (4.302652729 * 1) / Math.sqrt(3);
    expect(s.ci95[0]).toBeCloseTo(2 - half, 6);
    expect(s.ci95[1]).toBeCloseTo(2 + half, 6);
  });

  it('uses the sample (n-1) standard deviation and the even-count median', () => {
    const s = summarize([2, 4, 4, 4, 5, 5, 7, 9]);
    expect(s.mean).toBe(5);
    expect(s.median).toBe(4.5);
    expect(s.stddev).toBeCloseTo(Math.sqrt(32 / 7), 12);
    expect(s.cv).toBeCloseTo(Math.sqrt(32 / 7) / 5, 12);
  });

  it('with n = 1 the interval is [v, v] and there is no spread', () => {
    expect(summarize([7.5])).toEqual({
      n: 1,
      median: 7.5,
      mean: 7.5,
      stddev: 0,
      cv: 0,
      ci95: [7.5, 7.5],
      min: 7.5,
      max: 7.5,
      medianCi: [7.5, 7.5],
      medianCiCoverage: 0,
    });
  });

  it('does not reorder the caller’s array', () => {
    const xs = [3, 1, 2];
    summarize(xs);
    expect(xs).toEqual([3, 1, 2]);
  });

  it('rejects empty and non-finite input', () => {
    expect(() => summarize([])).toThrow(/no values/);
    expect(() => summarize([1, Number.NaN])).toThrow(/finite/);
    expect(() => summarize([1, Infinity])).toThrow(/finite/);
  });
});

describe('ratio', () => {
  const make = (median: number, mean: number, half: number): Summary => ({
    n: 5,
    median,
    mean,
    stddev: 1,
    cv: 0,
    ci95: [mean - half, mean + half],
    min: 0,
    max: 0,
    medianCi: [median, median],
    medianCiCoverage: 0.9375,
  });

  it('is the ratio of medians with relative errors added in quadrature (log scale)', () => {
    // a: 3% relative half-width, b: 4% → 5% combined.
    const r = ratio(make(9, 10, 0.3), make(3, 5, 0.2));
    expect(r.value).toBe(3);
    expect(r.relErr).toBeCloseTo(0.05, 12);
    expect(r.ci95[0]).toBeCloseTo(3 / Math.exp(0.05), 12);
    expect(r.ci95[1]).toBeCloseTo(3 * Math.exp(0.05), 12);
    // ≈ r(1 ± e) to first order
    expect(r.ci95[0]).toBeCloseTo(3 * 0.95, 2);
    expect(r.ci95[1]).toBeCloseTo(3 * 1.05, 2);
  });

  it('is symmetric: b/a is the reciprocal interval of a/b', () => {
    const a = summarize([9.1, 9.4, 9.8, 9.5]);
    const b = summarize([18.2, 19.9, 19.1]);
    const ab = ratio(a, b);
    const ba = ratio(b, a);
    expect(ba.value).toBeCloseTo(1 / ab.value, 12);
    expect(ba.ci95[0]).toBeCloseTo(1 / ab.ci95[1], 12);
    expect(ba.ci95[1]).toBeCloseTo(1 / ab.ci95[0], 12);
    expect(ab.ci95[0]).toBeLessThan(ab.value);
    expect(ab.ci95[1]).toBeGreaterThan(ab.value);
  });

  it('with single measurements the interval collapses to the value', () => {
    expect(ratio(summarize([8]), summarize([10]))).toEqual({ value: 0.8, ci95: [0.8, 0.8], relErr: 0 });
  });

  it('rejects a zero denominator', () => {
    expect(() => ratio(summarize([1]), summarize([0]))).toThrow(/denominator/);
  });
});
