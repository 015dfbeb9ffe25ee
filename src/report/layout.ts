import type { SchemeView } from './figures.js';

/**
 * Pure presentation helpers: how a scheme's datapath is laid out (from the packet path the plan
 * facts give, never from its name), the colour each layout has in every chart and table, the
 * order charts group schemes in, and value-graded colours for ratios and loss.
 */

export type LayoutKind = 'host' | 'routed' | 'l2' | 'overlay' | 'nat' | 'userspace' | 'unknown';

export const LAYOUT_ORDER: LayoutKind[] = ['host', 'routed', 'l2', 'overlay', 'nat', 'userspace', 'unknown'];

export const LAYOUT_LABEL: Record<LayoutKind, string> = {
  host: 'host baseline',
  routed: 'routed',
  l2: 'flat L2',
  overlay: 'overlay',
  nat: 'NAT',
  userspace: 'userspace datapath',
  unknown: 'unrecognised',
};

/** Okabe–Ito based: distinguishable in colour-blind vision; the baseline grey. */
export const LAYOUT_COLOR: Record<LayoutKind, string> = {
  host: '#6B7280',
  routed: '#0072B2',
  l2: '#009E73',
  overlay: '#CC79A7',
  nat: '#E69F00',
  userspace: '#D55E00',
  unknown: '#9CA3AF',
};

/** A userspace hop outranks the fabric: it dominates what the path costs. */
export function layoutOf(s: Pick<SchemeView, 'baseline' | 'path'>): LayoutKind {
  if (s.baseline || s.path.fabric === 'host') return 'host';
  if (s.path.userspace) return 'userspace';
  return s.path.fabric;
}

/** Schemes grouped by layout (baseline first), each group by `value` best first; missing values last. */
export function sortByLayout<T extends Pick<SchemeView, 'baseline' | 'path'>>(
  rows: T[],
  value: (s: T) => number | undefined,
  higherIsBetter = true,
): T[] {
  const v = (s: T) => {
    const x = value(s);
    return x === undefined || !Number.isFinite(x) ? (higherIsBetter ? -Infinity : Infinity) : x;
  };
  return [...rows].sort(
    (a, b) => LAYOUT_ORDER.indexOf(layoutOf(a)) - LAYOUT_ORDER.indexOf(layoutOf(b)) || (higherIsBetter ? v(b) - v(a) : v(a) - v(b)),
  );
}

/** The layouts present, in order, for a chart's legend. */
export function layoutsPresent(rows: Array<Pick<SchemeView, 'baseline' | 'path'>>): LayoutKind[] {
  const seen = new Set(rows.map(layoutOf));
  return LAYOUT_ORDER.filter((k) => seen.has(k));
}

/**
 * Grade 0 (bad) … 4 (good) of a ratio to the host (1 = as fast as the host): for cell colours,
 * so 95% and 5% of host no longer look alike.
 */
export function ratioGrade(v: number): number {
  if (v >= 0.9) return 4;
  if (v >= 0.7) return 3;
  if (v >= 0.45) return 2;
  if (v >= 0.2) return 1;
  return 0;
}

/** Grade of a UDP loss percentage: none is good. */
export function lossGrade(pct: number): number {
  if (pct < 0.1) return 4;
  if (pct < 1) return 3;
  if (pct < 5) return 2;
  if (pct < 20) return 1;
  return 0;
}

/** Grade of a latency ratio to the host (1 = same as host; lower is better). */
export function latencyGrade(ratio: number): number {
  if (ratio <= 1.15) return 4;
  if (ratio <= 1.5) return 3;
  if (ratio <= 2.5) return 2;
  if (ratio <= 5) return 1;
  return 0;
}
