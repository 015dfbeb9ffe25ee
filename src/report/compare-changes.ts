import { signedPct } from './figures.js';
import { pText } from './significance.js';
import { UNIT, type Cell, type Comparison } from './compare-data.js';

/** What changed against the reference run: significant changes, regressions, the one-line summary. */

/** "−3.01 to −2.89 Gbit/s": the 95% CI of the difference (this run − reference) in the figure's unit. */
export function diffCiText(x: Cell | undefined): string {
  const t = x?.delta?.test;
  if (!t || t.p === undefined) return '–';
  const d = x!.metric === 'gbps' ? 2 : 1;
  const v = (n: number) => `${n < 0 ? '−' : ''}${Math.abs(n).toFixed(d)}`;
  return `${v(t.ci95[0])} to ${v(t.ci95[1])} ${UNIT[x!.metric] ?? ''}`.trimEnd();
}

/** Loss and retransmit changes against the reference: "loss +1.2 pp, retr +340". */
export function otherDeltaText(x: Cell | undefined): string {
  if (!x) return '–';
  const parts: string[] = [];
  if (x.lossDelta !== undefined) parts.push(`loss ${x.lossDelta >= 0 ? '+' : '−'}${Math.abs(x.lossDelta).toFixed(2)} pp`);
  if (x.retransmitsDelta !== undefined)
    parts.push(`retr ${x.retransmitsDelta >= 0 ? '+' : '−'}${Math.abs(Math.round(x.retransmitsDelta))}`);
  return parts.join(', ') || '–';
}

export interface Change {
  scheme: string;
  test: string;
  /** The run's key ("B"). */
  run: string;
  /** Relative change of the main figure, signed so that negative is worse. */
  worse: number;
  text: string;
}

/** Whether a cell's change is significant and, signed so that negative is worse, how large. */
function judged(x: Cell | undefined): { significant: boolean; worse: number } | undefined {
  const d = x?.delta;
  if (!d || !d.test || d.test.p === undefined) return undefined;
  const rel = d.ratio - 1;
  return { significant: d.test.significant, worse: x!.higherIsBetter ? rel : -rel };
}

/**
 * Every significant change of a run against the reference, worst first. `--fail-if-worse PCT`
 * fails on those whose main figure got worse by more than PCT percent (throughput down, latency up),
 * with a significant difference (the change's own test, p < 0.05).
 */
export function significantChanges(c: Comparison): { worse: Change[]; better: Change[]; unchanged: number; untested: number } {
  const worse: Change[] = [];
  const better: Change[] = [];
  let unchanged = 0;
  let untested = 0;
  for (const row of c.rows) {
    row.cells.slice(1).forEach((x, i) => {
      const j = judged(x);
      if (!j) {
        if (x) untested++;
        return;
      }
      if (!j.significant) {
        unchanged++;
        return;
      }
      const change = {
        scheme: row.scheme,
        test: row.test,
        run: c.runs[i + 1].key,
        worse: j.worse,
        text: `${row.scheme} ${row.test} ${signedPct(x!.delta!.ratio - 1)} (${pText(x!.delta!.test)})`,
      };
      (j.worse < 0 ? worse : better).push(change);
    });
  }
  worse.sort((a, b) => a.worse - b.worse);
  better.sort((a, b) => b.worse - a.worse);
  return { worse, better, unchanged, untested };
}

/** The regressions beyond `pct` percent (see significantChanges). */
export function regressions(c: Comparison, pct: number): Change[] {
  return significantChanges(c).worse.filter((x) => -x.worse * 100 > pct);
}

/** One line: what changed against the reference. */
export function changeSummary(c: Comparison): string {
  const s = significantChanges(c);
  const list = (xs: Change[]) =>
    xs
      .slice(0, 3)
      .map((x) => (c.runs.length > 2 ? `${x.run}: ${x.text}` : x.text))
      .join(', ') + (xs.length > 3 ? ` and ${xs.length - 3} more` : '');
  const others = c.runs
    .slice(1)
    .map((r) => r.key)
    .join(', ');
  const parts = [
    s.worse.length ? `${s.worse.length} significantly worse (${list(s.worse)})` : 'nothing significantly worse',
    s.better.length ? `${s.better.length} significantly better (${list(s.better)})` : 'nothing significantly better',
    `${s.unchanged} not significantly different`,
    ...(s.untested ? [`${s.untested} untested (too few runs)`] : []),
  ];
  return `${others} against ${c.runs[0].key}: ${parts.join('; ')}.`;
}
