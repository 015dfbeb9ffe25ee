import type { EChartsOption } from 'echarts';
import type { IntervalPoint, RunRecord, TestRecord } from '../result/types.js';
import { font, legendRows, lineFrame, GRIDLINE, MUTED, valueAxis, type ChartSpec } from './charts.js';
import { headlineTest, specOf, testOf, testTitle, type ReportModel, type SchemeView } from './figures.js';

/**
 * Pure: flent's core view — each scheme's throughput and TCP round-trip time over the seconds of
 * one run (iperf3's report intervals), so a ramp-up, a stall or a sawtooth shows. The run drawn
 * is the scheme's median run (by its Gbit/s), so the line is typical, not the best or worst.
 */

/** A run's time series, as the result file stores it (run.intervals; none in files before it). */
export function intervalsOf(r: RunRecord): IntervalPoint[] {
  return r.intervals ?? [];
}

/** The run whose Gbit/s is the median of the test's good runs. */
export function medianRun(t: TestRecord | undefined): RunRecord | undefined {
  const ok = (t?.runs ?? []).filter((r) => r.ok && r.gbps !== undefined).sort((a, b) => a.gbps! - b.gbps!);
  return ok[Math.floor((ok.length - 1) / 2)];
}

interface Series {
  s: SchemeView;
  points: IntervalPoint[];
  retransmits: number;
}

function seriesOf(model: ReportModel, id: string): Series[] {
  return model.measured.flatMap((s) => {
    const run = medianRun(testOf(s, id));
    const points = run ? intervalsOf(run) : [];
    return points.length >= 3 ? [{ s, points, retransmits: points.reduce((n, p) => n + (p.retransmits ?? 0), 0) }] : [];
  });
}

function timeChart(spec: {
  id: string;
  title: string;
  caption: string;
  y: string;
  series: Series[];
  pick: (p: IntervalPoint) => number | undefined;
}): ChartSpec {
  return {
    id: spec.id,
    title: spec.title,
    caption: spec.caption,
    height: (l) => (l === 'narrow' ? 280 : 320) + legendRows(spec.series.length, l) * 20,
    option: (l): EChartsOption => ({
      ...lineFrame(
        l,
        spec.series.map((x) => x.s.label),
        spec.series.map((x) => x.s.color),
      ),
      xAxis: {
        type: 'value',
        min: 0,
        max: 'dataMax',
        name: 'seconds into the run',
        nameLocation: 'middle',
        nameGap: 26,
        nameTextStyle: { color: MUTED },
        axisLabel: { color: MUTED, fontSize: font(l) },
        splitLine: { lineStyle: { color: GRIDLINE } },
      },
      yAxis: valueAxis(spec.y, l, { min: 0, nameLocation: 'end', nameGap: 8 }),
      series: spec.series.map((x) => ({
        type: 'line' as const,
        name: x.s.label,
        data: x.points.flatMap((p) => {
          const v = spec.pick(p);
          return v === undefined ? [] : [[p.t, v]];
        }),
        symbol: 'circle',
        symbolSize: 5,
        lineStyle: { width: 2, type: x.s.standIn ? ('dashed' as const) : ('solid' as const) },
      })),
    }),
  };
}

/** Throughput and RTT over time for the headline TCP test of each placement that has intervals. */
export function timeSeriesCharts(model: ReportModel): ChartSpec[] {
  return model.placements.flatMap((p) => {
    const id = headlineTest(model.result, p);
    if (!id) return [];
    const series = seriesOf(model, id);
    if (!series.length) return [];
    const title = testTitle(specOf(model.result, id), id);
    const retrans = series.filter((x) => x.retransmits > 0).map((x) => `${x.s.label} ${x.retransmits}`);
    const out: ChartSpec[] = [
      timeChart({
        id: `time-gbps-${p}`,
        title: `Throughput over time, ${p}-host`,
        caption: `${title}: Gbit/s in each iperf3 report interval of each scheme's median run (dashed: stand-ins). Retransmitted segments in that run: ${retrans.length ? retrans.join(', ') : 'none'}.`,
        y: 'Gbit/s',
        series,
        pick: (x) => x.gbps,
      }),
    ];
    const rtt = series.filter((x) => x.points.some((pt) => pt.rttUs !== undefined));
    if (rtt.length) {
      out.push(
        timeChart({
          id: `time-rtt-${p}`,
          title: `TCP round-trip time under load, ${p}-host`,
          caption: `${title}: the sender's smoothed RTT (µs, from TCP_INFO, averaged over streams) at the end of each interval of the same runs — the queueing the bulk flow builds up.`,
          y: 'RTT, µs',
          series: rtt,
          pick: (x) => x.rttUs,
        }),
      );
    }
    return out;
  });
}
