/**
 * Holm's step-down correction for a family of p-values (Holm 1979): sort ascending; the i-th
 * smallest (1-based) is multiplied by m − i + 1, capped at 1, and made non-decreasing. A
 * hypothesis is rejected when its adjusted p is below α; this controls the family-wise error rate
 * at α for any dependence between the tests, and is uniformly more powerful than Bonferroni.
 * Entries that are undefined (no test possible) are left out of the family and stay undefined.
 */
export function holmAdjust(ps: ReadonlyArray<number | undefined>): Array<number | undefined> {
  const idx = ps.flatMap((p, i) => (p === undefined || !Number.isFinite(p) ? [] : [i])).sort((a, b) => ps[a]! - ps[b]! || a - b);
  const m = idx.length;
  const out: Array<number | undefined> = ps.map(() => undefined);
  let running = 0;
  idx.forEach((i, rank) => {
    running = Math.max(running, Math.min(1, (m - rank) * ps[i]!));
    out[i] = running;
  });
  return out;
}
