import type { EChartsOption } from 'echarts';
import { median } from 'simple-statistics';
import { mainMetric } from '../result/derive.js';
import type { Placement, TestRecord } from '../result/types.js';
import { font, legendRows, lineFrame, groupedBars, GRIDLINE, MUTED, valueAxis, type ChartSpec } from './charts.js';
import { fmt, samples, specOf, testIds, testOf, testTitle, type ReportModel, type SchemeView } from './figures.js';

/**
 * Pure: the charts of figures that only fuller runs hold — message-size and datagram-size sweeps
 * (one line per scheme, log x axis), latency percentiles, latency under load, the UDP rate
 * search and CPU per transaction. Each builder returns nothing when its data are absent.
 */

interface Line {
  name: string;
  color: string;
  points: Array<[number, number]>;
  /** Same-host lines are dashed beside their cross-host twin. */
  dashed?: boolean;
}

const sizeLabel = (v: number) => (v >= 1024 ? `${v / 1024}K` : String(v));

/** One line per scheme (and placement) over a log-2 x axis. */
function lineChart(spec: {
  id: string;
  title: string;
  caption: string;
  x: string;
  y: string;
  lines: Line[];
  logY?: boolean;
  xFormat?: (v: number) => string;
}): ChartSpec {
  return {
    id: spec.id,
    title: spec.title,
    caption: spec.caption,
    height: (l) => (l === 'narrow' ? 300 : 340) + legendRows(spec.lines.length, l) * 20,
    option: (l): EChartsOption => ({
      ...lineFrame(
        l,
        spec.lines.map((x) => x.name),
        spec.lines.map((x) => x.color),
      ),
      xAxis: {
        type: 'log',
        logBase: 2,
        min: 'dataMin',
        max: 'dataMax',
        name: spec.x,
        nameLocation: 'middle',
        nameGap: 26,
        nameTextStyle: { color: MUTED },
        axisLabel: { color: MUTED, fontSize: font(l), formatter: spec.xFormat ?? sizeLabel },
        splitLine: { lineStyle: { color: GRIDLINE } },
      },
      yAxis: spec.logY
        ? valueAxis(spec.y, l, { type: 'log', logBase: 10, nameLocation: 'end', nameGap: 8 })
        : valueAxis(spec.y, l, { min: 0, nameLocation: 'end', nameGap: 8 }),
      series: spec.lines.map((x) => ({
        type: 'line' as const,
        name: x.name,
        data: x.points,
        symbol: x.dashed ? 'emptyCircle' : 'circle',
        symbolSize: 6,
        lineStyle: { width: 2, type: x.dashed ? ('dashed' as const) : ('solid' as const) },
      })),
    }),
  };
}

/** Per scheme and placement: the median of a figure at each point of a series. */
function seriesLines(model: ReportModel, tests: TestRecord[], pick: (t: TestRecord) => number | undefined): Line[] {
  const placements = new Set(tests.map((t) => t.placement));
  const lines: Line[] = [];
  for (const s of model.measured) {
    for (const p of placements) {
      const pts = s.rec.tests
        .filter((t) => t.placement === p && tests.some((x) => x.id === t.id))
        .flatMap((t): Array<[number, number]> => {
          const v = pick(t);
          return v === undefined || !t.sweep ? [] : [[t.sweep.value, v]];
        })
        .sort((a, b) => a[0] - b[0]);
      if (pts.length)
        lines.push({
          name: placements.size > 1 ? `${s.rec.name} (${p})` : s.rec.name,
          color: s.color,
          points: pts,
          dashed: placements.size > 1 && p === 'same',
        });
    }
  }
  return lines;
}

const med = (xs: number[]) => (xs.length ? median(xs) : undefined);

const METRIC_AXIS: Record<string, string> = {
  gbps: 'Gbit/s',
  latencyUs: 'latency, µs',
  p50Us: 'p50 round trip, µs',
  maxRateMbps: 'Mbit/s',
};

/** Every sweep over message or datagram size: one chart per series (two for UDP datagrams: rate and loss). */
export function sweepCharts(model: ReportModel): ChartSpec[] {
  const all = model.result.schemes.flatMap((s) => s.tests).filter((t) => t.sweep && t.sweep.param !== 'streams');
  const series = [...new Set(all.map((t) => t.sweep!.series))];
  return series.flatMap((name) => {
    const tests = all.filter((t) => t.sweep!.series === name);
    const m = mainMetric(tests[0]);
    const param = tests[0].sweep!.param === 'msgSize' ? 'message size, bytes' : 'datagram size, bytes';
    const slug = name.replace(/[^a-z0-9]+/gi, '-').toLowerCase();
    const lines = seriesLines(model, tests, (t) => med(samples(t, m.pick)));
    const out: ChartSpec[] = [];
    if (lines.length) {
      const what = m.metric === 'gbps' ? 'Bandwidth' : 'Latency';
      out.push(
        lineChart({
          id: `sweep-${slug}`,
          title: `${what} against ${param.split(',')[0]}: ${name}`,
          caption: `Median over runs at each size, one line per scheme${lines.some((x) => x.dashed) ? ' (dashed: same-host)' : ''}; sizes on a logarithmic axis${m.metric === 'gbps' ? '' : ', latency too; lower is better'}. Every point with its interval is in sweeps.csv.`,
          x: param,
          y: METRIC_AXIS[m.metric] ?? m.metric,
          lines,
          logY: m.metric !== 'gbps',
        }),
      );
    }
    const loss =
      tests[0].protocol === 'udp' && (tests[0].kind ?? 'iperf3') === 'iperf3'
        ? seriesLines(model, tests, (t) => med(samples(t, (r) => r.lossPercent)))
        : [];
    if (loss.length)
      out.push(
        lineChart({
          id: `sweep-${slug}-loss`,
          title: `UDP loss against datagram size: ${name}`,
          caption: `Median share of datagrams lost at each datagram size, at the fixed send rate${loss.some((x) => x.dashed) ? ' (dashed: same-host)' : ''}.`,
          x: param,
          y: '% lost',
          lines: loss,
        }),
      );
    return out;
  });
}

const latencyIds = (model: ReportModel, loaded: boolean) => testIds(model.result, (t) => t.kind === 'sockperf' && !!t.underLoad === loaded);

const pctl = (t: TestRecord | undefined, k: 'p50Us' | 'p90Us' | 'p99Us' | 'p999Us' | 'maxUs') => t?.latencySummary?.[k]?.median;

/** The idle latency test matching a loaded one: same protocol, placement and message size. */
function idleOf(model: ReportModel, loaded: string): string | undefined {
  const l = specOf(model.result, loaded)!;
  return latencyIds(model, false).find((id) => {
    const t = specOf(model.result, id)!;
    return t.protocol === l.protocol && t.placement === l.placement && t.msgSize === l.msgSize;
  });
}

/** Latency under load (RRUL-style): p50 and p99 idle and with a bulk flow on the same path. */
export function loadCharts(model: ReportModel): ChartSpec[] {
  return latencyIds(model, true).flatMap((id) => {
    const idle = idleOf(model, id);
    const rows = model.measured.filter((s) => pctl(testOf(s, id), 'p50Us') !== undefined);
    if (!rows.length) return [];
    const pick = (s: SchemeView, test: string | undefined, k: 'p50Us' | 'p99Us') => {
      const v = test ? pctl(testOf(s, test), k) : undefined;
      return v === undefined ? undefined : { value: v, text: fmt(v, 0) };
    };
    const load = rows.map((s) => `${s.rec.name} ${fmt(testOf(s, id)?.latencySummary?.loadGbps?.median, 1)} Gbit/s`).join(', ');
    return [
      groupedBars({
        id: `load-${id.replace(/[^a-z0-9]+/gi, '-')}`,
        title: `Latency under load: ${testTitle(specOf(model.result, id), id)}`,
        caption: `Round-trip p50 and p99 (µs) alone and while an iperf3 bulk flow runs on the same path. The bulk flow reached: ${load}.`,
        axis: 'round trip, µs',
        categories: rows.map((s) => s.rec.name),
        log: true,
        colors: ['#93C5FD', '#1D4ED8', '#FCA5A5', '#DC2626'],
        series: [
          ...(idle ? [{ name: 'p50 idle', points: rows.map((s) => pick(s, idle, 'p50Us')) }] : []),
          { name: 'p50 under load', points: rows.map((s) => pick(s, id, 'p50Us')) },
          ...(idle ? [{ name: 'p99 idle', points: rows.map((s) => pick(s, idle, 'p99Us')) }] : []),
          { name: 'p99 under load', points: rows.map((s) => pick(s, id, 'p99Us')) },
        ],
      }),
    ];
  });
}

/** The UDP rate search: loss against offered rate, and the highest rate under the loss limit. */
export function rateCharts(model: ReportModel): ChartSpec[] {
  const ids = testIds(model.result, (t) => t.kind === 'udp-rate-sweep');
  return ids.flatMap((id) => {
    const spec = specOf(model.result, id)!;
    const limit = spec.lossLimitPercent ?? 1;
    const lines: Line[] = model.measured.flatMap((s) => {
      const byRate = new Map<number, number[]>();
      for (const r of testOf(s, id)?.runs ?? [])
        for (const p of r.ratePoints ?? [])
          if (p.ok && p.lossPercent !== undefined) byRate.set(p.offeredMbps, [...(byRate.get(p.offeredMbps) ?? []), p.lossPercent]);
      const points = [...byRate].map(([rate, losses]): [number, number] => [rate, median(losses)]).sort((a, b) => a[0] - b[0]);
      return points.length ? [{ name: s.rec.name, color: s.color, points }] : [];
    });
    const rows = model.measured.filter((s) => testOf(s, id)?.rateSummary);
    const out: ChartSpec[] = [];
    if (lines.length) {
      out.push(
        lineChart({
          id: `rate-loss-${spec.placement}`,
          title: `UDP loss against offered rate, ${spec.placement}-host`,
          caption: `Every rate the search tried (median loss where runs tried the same rate). The search stops at the highest rate with loss under ${limit}%.`,
          x: 'offered rate, Mbit/s',
          y: '% lost',
          lines,
          xFormat: (v) => (v >= 1000 ? `${v / 1000}G` : `${v}M`),
        }),
      );
    }
    if (rows.length) {
      out.push(
        groupedBars({
          id: `rate-max-${spec.placement}`,
          title: `Highest UDP rate with loss under ${limit}%, ${spec.placement}-host`,
          caption: 'Median over runs of the highest offered rate whose loss stayed under the limit, with its 95% interval.',
          axis: 'Mbit/s',
          categories: rows.map((s) => s.rec.name),
          series: [
            {
              name: 'max rate',
              points: rows.map((s) => {
                const m = testOf(s, id)!.rateSummary!.maxRateMbps;
                return { value: m.median, ...(m.n > 1 ? { lo: Math.max(0, m.ci95[0]), hi: m.ci95[1] } : {}), text: `${fmt(m.median, 0)}` };
              }),
            },
          ],
        }),
      );
    }
    return out;
  });
}

/** CPU-seconds per 1,000 transactions of the latency tests. */
export function transactionCpuChart(model: ReportModel, placement: Placement): ChartSpec | undefined {
  const ids = testIds(model.result, (t) => t.kind === 'sockperf' && !t.underLoad && t.placement === placement);
  const rows = model.measured.filter((s) => ids.some((id) => testOf(s, id)?.latencySummary?.cpuSecondsPer1kTransactions));
  if (!rows.length) return undefined;
  return groupedBars({
    id: `cpu-transactions-${placement}`,
    title: `CPU per 1,000 transactions, ${placement}-host`,
    caption: 'System-wide CPU-seconds per 1,000 request/response round trips in the latency tests, median over runs.',
    axis: 'CPU-seconds per 1,000 transactions',
    categories: rows.map((s) => s.rec.name),
    series: ids.map((id) => ({
      name: testTitle(specOf(model.result, id), id).replace(/, (cross|same)-host$/, ''),
      points: rows.map((s) => {
        const v = testOf(s, id)?.latencySummary?.cpuSecondsPer1kTransactions?.median;
        return v === undefined ? undefined : { value: v, text: fmt(v, 3) };
      }),
    })),
  });
}
