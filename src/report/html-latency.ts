import type { EChartsOption } from 'echarts';
import type { TestRecord } from '../result/types.js';
import { font, legendRows, lineFrame, groupedBars, GRIDLINE, MUTED, valueAxis, type ChartSpec } from './charts.js';
import { esc } from './escape.js';
import { fmt, latencyFigure, latencyTest, samples, specOf, testIds, testOf, testTitle, type ReportModel } from './figures.js';
import { latencyGrade, LAYOUT_COLOR, layoutOf, layoutsPresent, sortByLayout } from './layout.js';
import { STAND_IN_MARK } from './stand-in.js';

/**
 * Pure: the latency section, wherever a run measured latency — the quick run's qperf udp-lat
 * (half the round trip, one mean per run) and sockperf's round-trip percentiles. A table per test
 * (median, the runs' range, percentiles where the tool gives them, against the host) and charts:
 * the figure with the runs' range, and for sockperf the distribution as a CDF over its percentiles.
 */

const PCTS = [
  ['p50Us', 50],
  ['p90Us', 90],
  ['p99Us', 99],
  ['p999Us', 99.9],
  ['maxUs', 100],
] as const;

/** Every latency test with figures: the headline one per placement, then any other sockperf test. */
export function latencyTestIds(model: ReportModel): string[] {
  const r = model.result;
  const first = model.placements.map((p) => latencyTest(r, p)).filter((x): x is string => !!x);
  const more = testIds(r, (t) => t.kind === 'sockperf' && !t.underLoad).filter(
    (id) => !first.includes(id) && model.measured.some((s) => latencyFigure(testOf(s, id))),
  );
  return [...first, ...more];
}

const rowsOf = (model: ReportModel, id: string) => model.measured.filter((s) => latencyFigure(testOf(s, id)));

function table(model: ReportModel, id: string): string {
  const rows = rowsOf(model, id);
  const withPct = rows.some((s) => testOf(s, id)?.latencySummary?.p99Us);
  const host = model.host && latencyFigure(testOf(model.host, id))?.median;
  const what = latencyFigure(testOf(rows[0], id))!.what;
  const pctCells = (t: TestRecord | undefined) =>
    withPct
      ? PCTS.slice(1)
          .map(([k]) => `<td class="num">${fmt(t?.latencySummary?.[k]?.median, 0)}</td>`)
          .join('')
      : '';
  const body = rows.map((s) => {
    const t = testOf(s, id)!;
    const f = latencyFigure(t)!;
    const runs = samples(t, f.pick);
    const ns = !s.baseline && t.vsHostDiff && t.vsHostDiff.method !== 'none' && !t.vsHostDiff.significant;
    const vs =
      host && !s.baseline
        ? `<td class="num g${latencyGrade(f.median / host)}">${ns ? '≈ ' : ''}${f.median >= host ? '+' : '−'}${fmt(Math.abs(f.median - host), 1)} µs</td>`
        : '<td class="num">–</td>';
    return `<tr><td>${esc(s.rec.name)}${s.standIn ? `<span class="mark">${STAND_IN_MARK}</span>` : ''}</td><td class="num">${fmt(f.median, 1)}</td><td class="num">${runs.length ? `${fmt(Math.min(...runs), 1)}–${fmt(Math.max(...runs), 1)}` : '–'}</td>${pctCells(t)}${vs}<td class="num">${runs.length}</td></tr>`;
  });
  const head = `<th>scheme</th><th class="num">median µs</th><th class="num">runs' range µs</th>${
    withPct
      ? PCTS.slice(1)
          .map(([, p]) => `<th class="num">${p === 100 ? 'max' : `p${p}`} µs</th>`)
          .join('')
      : ''
  }<th class="num">against host</th><th class="num">runs</th>`;
  return `<h3>${esc(testTitle(specOf(model.result, id), id))} <span class="ns">(${esc(what)})</span></h3><div class="tablewrap"><table><thead><tr>${head}</tr></thead><tbody>${body.join('')}</tbody></table></div>`;
}

/** The figure per scheme with the runs' range as whiskers. */
function rangeChart(model: ReportModel, id: string): ChartSpec {
  const rows = sortByLayout(rowsOf(model, id), (s) => latencyFigure(testOf(s, id))?.median, false);
  const f0 = latencyFigure(testOf(rows[0], id))!;
  const values = rows.map((s) => latencyFigure(testOf(s, id))!.median).filter((v) => v > 0);
  return groupedBars({
    id: `latency-range-${id.replace(/[^a-z0-9]+/gi, '-')}`,
    title: `Latency: ${testTitle(specOf(model.result, id), id)}`,
    caption: `${f0.what[0].toUpperCase()}${f0.what.slice(1)} in µs, median over runs; whiskers span the runs' lowest to highest. Lower is better. Grouped by layout, fastest first.`,
    axis: 'µs',
    categories: rows.map((s) => s.label),
    categoryColors: rows.map((s) => LAYOUT_COLOR[layoutOf(s)]),
    layouts: layoutsPresent(rows),
    log: values.length > 1 && Math.max(...values) / Math.min(...values) > 20,
    series: [
      {
        name: f0.short,
        points: rows.map((s) => {
          const t = testOf(s, id)!;
          const f = latencyFigure(t)!;
          const runs = samples(t, f.pick);
          return {
            value: f.median,
            ...(runs.length > 1 ? { lo: Math.min(...runs), hi: Math.max(...runs) } : {}),
            text: fmt(f.median, f.median < 100 ? 1 : 0),
          };
        }),
      },
    ],
  });
}

/** sockperf's percentiles as a CDF: share of round trips at or below each latency, log x axis. */
function cdfChart(model: ReportModel, id: string): ChartSpec | undefined {
  const rows = model.measured.filter((s) => testOf(s, id)?.latencySummary?.p99Us);
  if (!rows.length) return undefined;
  const lines = rows.map((s) => ({
    s,
    points: PCTS.flatMap(([k, p]) => {
      const v = testOf(s, id)?.latencySummary?.[k]?.median;
      return v === undefined ? [] : [[v, p] as [number, number]];
    }),
  }));
  return {
    id: `latency-cdf-${id.replace(/[^a-z0-9]+/gi, '-')}`,
    title: `Latency distribution: ${testTitle(specOf(model.result, id), id)}`,
    caption:
      'Share of round trips at or below each latency (p50, p90, p99, p99.9, max; medians over runs), on a logarithmic latency axis. A line further left is faster; a long flat tail is jitter.',
    height: (l) => (l === 'narrow' ? 300 : 340) + legendRows(lines.length, l) * 20,
    option: (l): EChartsOption => ({
      ...lineFrame(
        l,
        lines.map((x) => x.s.label),
        lines.map((x) => x.s.color),
        24,
      ),
      xAxis: {
        type: 'log',
        logBase: 10,
        name: 'round trip, µs',
        nameLocation: 'middle',
        nameGap: 26,
        nameTextStyle: { color: MUTED },
        axisLabel: { color: MUTED, fontSize: font(l) },
        splitLine: { lineStyle: { color: GRIDLINE } },
      },
      yAxis: valueAxis('% of round trips', l, { min: 0, max: 100, nameLocation: 'end', nameGap: 8 }),
      series: lines.map((x) => ({
        type: 'line' as const,
        name: x.s.label,
        step: 'end' as const,
        data: x.points,
        symbol: 'circle',
        symbolSize: 5,
        lineStyle: { width: 2, type: x.s.standIn ? ('dashed' as const) : ('solid' as const) },
      })),
    }),
  };
}

export function latencySectionCharts(model: ReportModel): ChartSpec[] {
  return latencyTestIds(model).flatMap((id) => [rangeChart(model, id), cdfChart(model, id)].filter((c): c is ChartSpec => !!c));
}

/** The section's HTML before its charts; empty when no latency was measured. */
export function latencyTables(model: ReportModel): string {
  const ids = latencyTestIds(model);
  if (!ids.length) return '';
  const qperfOnly = ids.every((id) => specOf(model.result, id)?.kind === 'qperf');
  return `<p class="sub">Lower is better. “Against host” is the difference of medians; ≈ marks one that is not significant.${qperfOnly ? ' qperf reports one mean per run, so this run has no percentiles: sockperf’s round-trip percentiles and their distribution come with <code>--tests lat-tcp,lat-udp</code> or <code>--full</code>.' : ''}</p>${ids.map((id) => table(model, id)).join('')}`;
}
