import type { Placement } from '../result/types.js';
import { barHeight, BARS, categoryAxis, font, frame, INK, valueAxis, type ChartSpec } from './charts.js';
import { cpuSplit, headlineTest, isBulk, lineOf, lossText, specOf, testIds, testOf, testTitle, type ReportModel } from './figures.js';
import { LAYOUT_COLOR, layoutOf, layoutsPresent, sortByLayout } from './layout.js';

/** Pure: what a scheme costs beside its throughput — CPU per Gbit, and UDP loss. */

/** CPU-seconds per Gbit of the headline TCP test, split into user, system, softirq and irq. */
export function cpuChart(model: ReportModel, placement: Placement): ChartSpec | undefined {
  const id = headlineTest(model.result, placement);
  if (!id) return undefined;
  const rows = sortByLayout(
    model.measured.filter((s) => cpuSplit(testOf(s, id))),
    (s) => cpuSplit(testOf(s, id))?.total,
    false,
  );
  if (!rows.length) return undefined;
  const parts = ['softirq', 'system', 'user', 'irq'] as const;
  const colors = { softirq: '#DC2626', system: '#F59E0B', user: '#2563EB', irq: '#7C3AED' };
  return {
    id: `cpu-${placement}`,
    title: `CPU cost per Gbit, ${placement}-host`,
    caption: `System-wide CPU-seconds spent per Gbit moved in ${testTitle(specOf(model.result, id), id)}, median over runs, split by where the time went. Packet processing in the kernel lands mostly in softirq.`,
    height: (l) => barHeight(rows.length, 1, l) + 10,
    option: (l) => ({
      ...frame(
        l,
        [...parts],
        rows.map((s) => s.label),
      ),
      xAxis: valueAxis('CPU-seconds per Gbit', l),
      yAxis: categoryAxis(
        rows.map((s) => s.label),
        l,
      ),
      series: parts.map((part, i) => ({
        type: 'bar' as const,
        name: part,
        stack: 'cpu',
        barCategoryGap: '35%',
        itemStyle: { color: colors[part] },
        data: rows.map((s) => cpuSplit(testOf(s, id))![part]),
        label:
          i === parts.length - 1
            ? {
                show: true,
                position: 'right' as const,
                fontSize: font(l) - 1,
                color: INK,
                formatter: (p: { dataIndex: number }) => cpuSplit(testOf(rows[p.dataIndex], id))!.total.toFixed(3),
              }
            : undefined,
      })),
    }),
  };
}

/** UDP loss at the run's send rate, per scheme and placement. */
export function udpLossChart(model: ReportModel): ChartSpec | undefined {
  const ids = testIds(model.result, (t) => isBulk(t) && t.protocol === 'udp' && !t.length);
  const rows = sortByLayout(
    model.measured.filter((s) => ids.some((id) => lineOf(s, id)?.lossPercent !== undefined)),
    (s) => lineOf(s, ids[0])?.lossPercent,
    false,
  );
  if (!ids.length || !rows.length) return undefined;
  const names = ids.map((id) => `${specOf(model.result, id)?.placement ?? id}-host`);
  const single = ids.length === 1;
  return {
    id: 'udp-loss',
    title: `UDP loss at ${model.result.options.udpRate}bit/s`,
    caption:
      'Median share of UDP datagrams lost at the fixed send rate (iperf3 -u -b). Loss at a rate the path cannot carry measures where the receiver or the path saturates. Grouped by layout, least loss first.',
    ...(ids.length === 1 ? { layouts: layoutsPresent(rows) } : {}),
    height: (l) => barHeight(rows.length, ids.length, l),
    option: (l) => ({
      ...frame(
        l,
        names,
        rows.map((s) => s.label),
      ),
      xAxis: valueAxis('% of datagrams lost', l, { min: 0 }),
      yAxis: categoryAxis(
        rows.map((s) => s.label),
        l,
      ),
      series: ids.map((id, i) => ({
        type: 'bar' as const,
        name: names[i],
        ...BARS,
        data: rows.map((s) => {
          const v = lineOf(s, id)?.lossPercent;
          return v === undefined ? null : single ? { value: v, itemStyle: { color: LAYOUT_COLOR[layoutOf(s)] } } : v;
        }),
        label: {
          show: true,
          position: 'right' as const,
          fontSize: font(l) - 1,
          color: INK,
          formatter: (p: { value: unknown }) => (typeof p.value === 'number' ? lossText(p.value) : ''),
        },
      })),
    }),
  };
}
