import {
  fmt,
  latencyFigure,
  latencyTest,
  samples,
  signedPct,
  specOf,
  testOf,
  testTitle,
  type ReportModel,
  type SchemeView,
} from './figures.js';
import { difference, pText, tiers, type Difference } from './significance.js';

/**
 * Pure: latency verdicts from the sockperf round trips (p50 per run), when a run measured them:
 * the ranking (lower is better) and each scheme's added latency against the host.
 */

export interface LatencyCost {
  scheme: string;
  testId: string;
  /** Added p50 round trip, µs (median against median). */
  addedUs: number;
  ratio: number;
  test?: Difference;
  significant: boolean;
  text: string;
}

export interface LatencyVerdicts {
  rankings: Array<{ testId: string; standIns?: boolean; tiers: string[][]; text: string }>;
  costs: LatencyCost[];
  headline: string[];
}

const p50 = (s: SchemeView, id: string) => {
  const f = latencyFigure(testOf(s, id));
  return f ? samples(testOf(s, id), f.pick) : [];
};
const centre = (s: SchemeView, id: string) => latencyFigure(testOf(s, id))?.median;
const us = (v: number) => `${v >= 0 ? '+' : '−'}${fmt(Math.abs(v), v !== 0 && Math.abs(v) < 10 ? 1 : 0)} µs`;

export function latencyVerdicts(model: ReportModel): LatencyVerdicts {
  const out: LatencyVerdicts = { rankings: [], costs: [], headline: [] };
  for (const placement of model.placements) {
    const id = latencyTest(model.result, placement);
    if (!id) continue;
    const rows = model.measured.filter((s) => p50(s, id).length && centre(s, id) !== undefined);
    if (!rows.length) continue;
    const title = testTitle(specOf(model.result, id), id);
    const what = latencyFigure(testOf(rows[0], id))!.short;
    const part = (t: SchemeView[]) =>
      t.map((s) => `${s.label} ${fmt(centre(s, id), 0)}`).join(' ≈ ') + (t.length > 1 ? ' (not significantly different)' : '');
    // Stand-ins are ranked apart from the real datapaths.
    for (const standIns of [false, true]) {
      const mine = rows.filter((s) => !!s.standIn === standIns);
      if (!mine.length) continue;
      const grouped = tiers(
        mine,
        (s) => p50(s, id),
        (s) => centre(s, id)!,
        false,
      );
      out.rankings.push({
        testId: id,
        ...(standIns ? { standIns } : {}),
        tiers: grouped.map((t) => t.map((s) => s.rec.name)),
        text: `${standIns ? 'Stand-ins, ranked apart: ' : ''}${title} (${what} µs, lower is better): ${grouped.map(part).join(' < ')}`,
      });
    }
    const host = model.host;
    if (!host || centre(host, id) === undefined || !p50(host, id).length) continue;
    const h = centre(host, id)!;
    const mine: LatencyCost[] = [];
    for (const s of rows.filter((x) => x !== host)) {
      const d = difference(p50(host, id), p50(s, id));
      const added = centre(s, id)! - h;
      const where = `${placement}-host ${what}`;
      const text =
        d.p === undefined
          ? `${where}: ${us(added)} against host (${pText(d)})`
          : d.significant
            ? `${where}: ${us(added)} (${signedPct(added / h)}) against host (95% CI ${us(d.ci95[0])} to ${us(d.ci95[1])}, ${pText(d)})`
            : `${where}: ≈ host (${us(added)}, not significant: ${pText(d)})`;
      mine.push({ scheme: s.rec.name, testId: id, addedUs: added, ratio: centre(s, id)! / h, test: d, significant: d.significant, text });
    }
    out.costs.push(...mine);
    const slower = mine.filter((c) => c.significant && c.addedUs > 0).sort((a, b) => b.addedUs - a.addedUs);
    const par = mine.filter((c) => c.test?.p !== undefined && !c.significant);
    const parts = [`host ${fmt(h, 0)} µs`];
    const label = (name: string) => model.schemes.find((x) => x.rec.name === name)?.label ?? name;
    if (slower.length) parts.push(`added by: ${slower.map((c) => `${label(c.scheme)} ${us(c.addedUs)}`).join(', ')}`);
    if (par.length) parts.push(`no significant difference: ${par.map((c) => label(c.scheme)).join(', ')}`);
    out.headline.push(
      `${placement === 'cross' ? 'Cross-host' : 'Same-host'} latency (${title.replace(/, (cross|same)-host$/, '')}, ${what}): ${parts.join('; ')}.`,
    );
  }
  return out;
}
