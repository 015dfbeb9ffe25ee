import type { EChartsOption } from 'echarts';
import type { Placement } from '../result/types.js';
import {
  gbpsSamples,
  headlineTest,
  isBulk,
  lineOf,
  specOf,
  testIds,
  testOf,
  testTitle,
  type ReportModel,
  type SchemeView,
} from './figures.js';
import { LAYOUT_COLOR, layoutOf, layoutsPresent, sortByLayout, type LayoutKind } from './layout.js';
import { difference, SIGNIFICANCE_TEXT } from './significance.js';

/**
 * Pure: ECharts option builders, one per figure. Each returns undefined when the result holds no
 * data for it, so the page simply leaves that chart out. `narrow` builds the phone layout.
 */

export type Layout = 'wide' | 'medium' | 'narrow';

export interface ChartSpec {
  id: string;
  title: string;
  caption: string;
  /** Bars coloured by layout: the layouts to name in the figure's legend. */
  layouts?: LayoutKind[];
  /** Height in px for a layout (widths are fixed: WIDTHS). */
  height(layout: Layout): number;
  option(layout: Layout): EChartsOption;
}

/** Chart widths in px per layout; the page shows the one that fits (see html-style.ts). */
export const WIDTHS: Record<Layout, number> = { wide: 960, medium: 640, narrow: 340 };
export const LAYOUTS: Layout[] = ['wide', 'medium', 'narrow'];

export const INK = '#1F2937';
export const MUTED = '#6B7280';
export const GRIDLINE = '#E5E7EB';
/** Two placements side by side: blue and amber, distinguishable when only outlined. */
const PAIR = ['#1D4ED8', '#D97706'];
export const font = (_l: Layout) => 12;

/** Horizontal bars need room per category: per bar 18 px plus a gap. */
export const barHeight = (cats: number, bars: number, l: Layout) =>
  Math.max(160, 70 + cats * (bars * (l !== 'narrow' ? 18 : 16) + 14) + (l === 'narrow' ? 24 : 0));

/** Room for category labels on the left: server-side text measurement underestimates browser fonts. */
const labelRoom = (names: string[], l: Layout) =>
  Math.min(l === 'narrow' ? 108 : 178, 16 + 7.4 * Math.max(4, ...names.map((n) => n.length)));

/**
 * The common frame: palette, legend, grid. With `categories` (horizontal bars), the left margin
 * is sized for the longest category name instead of ECharts' own label measurement.
 */
export function frame(l: Layout, legend: string[] | undefined, categories?: string[]): EChartsOption {
  const top = legend && legend.length > 1 ? (l !== 'narrow' ? 36 : 46) : 12;
  const right = l !== 'narrow' ? 100 : 64;
  return {
    color: ['#1D4ED8', '#93C5FD', '#F59E0B', '#10B981', '#EF4444', '#8B5CF6'],
    textStyle: { color: INK, fontSize: font(l) },
    legend:
      legend && legend.length > 1
        ? { data: legend, top: 0, left: 0, itemWidth: 14, itemHeight: 10, itemGap: 22, textStyle: { fontSize: font(l) } }
        : undefined,
    grid: categories ? { left: labelRoom(categories, l), right, top, bottom: 44 } : { left: 8, right, top, bottom: 30, containLabel: true },
  };
}

/** How many rows a line chart's legend of `n` entries wraps to. */
export const legendRows = (n: number, l: Layout) => Math.ceil(n / (l === 'narrow' ? 2 : l === 'medium' ? 3 : 5));

/** A line chart's frame: the legend on top (wrapping), the grid below it, one colour per line. */
export function lineFrame(l: Layout, names: string[], colors: string[], right = 20): EChartsOption {
  return {
    ...frame(l, names),
    legend: { data: names, top: 0, left: 0, itemWidth: 16, itemHeight: 8, itemGap: 18, textStyle: { fontSize: font(l) } },
    grid: { left: 8, right, top: 16 + legendRows(names.length, l) * 22, bottom: 34, containLabel: true },
    color: colors,
  };
}

export const valueAxis = (name: string, l: Layout, extra: Record<string, unknown> = {}) => ({
  type: 'value' as const,
  splitNumber: l === 'narrow' ? 3 : 5,
  name,
  nameLocation: 'middle' as const,
  nameGap: 22,
  nameTextStyle: { color: MUTED, fontSize: font(l) },
  axisLabel: { color: MUTED, fontSize: font(l) },
  splitLine: { lineStyle: { color: GRIDLINE } },
  ...extra,
});

export const categoryAxis = (names: string[], l: Layout) => ({
  type: 'category' as const,
  data: names,
  inverse: true,
  axisTick: { show: false },
  axisLine: { lineStyle: { color: '#9CA3AF' } },
  axisLabel: { color: INK, fontSize: font(l), width: l !== 'narrow' ? 160 : 96, overflow: 'truncate' as const },
});

/**
 * Labels and 95% whiskers for grouped horizontal bars, as a custom series over [category, value,
 * lo, hi]: each label sits past the bar or its whisker, whichever ends later, so they never
 * overlap. The offset of bar `index` of `count` follows ECharts' grouped-bar layout (BARS).
 */
export const BARS = { barCategoryGap: '30%', barGap: '20%' };
interface Annotation {
  k: number;
  value: number;
  lo?: number;
  hi?: number;
  text: string;
}
function annotations(items: Annotation[], index: number, count: number, l: Layout): Record<string, unknown> {
  return {
    type: 'custom',
    silent: true,
    z: 10,
    encode: { x: [1, 2, 3], y: 0 },
    data: items.map((a) => [a.k, a.value, a.lo ?? a.value, a.hi ?? a.value]),
    renderItem: (
      params: { dataIndex: number },
      api: { value(i: number): number; coord(v: number[]): number[]; size(v: number[]): number[] },
    ) => {
      const a = items[params.dataIndex];
      const band = api.size([0, 1])[1] * 0.7;
      const w = band / (count + (count - 1) * 0.2);
      const y = api.coord([0, api.value(0)])[1] - band / 2 + w * (index + 0.5) + index * 0.2 * w;
      const end = api.coord([api.value(1), api.value(0)])[0];
      const children: Record<string, unknown>[] = [];
      let right = end;
      if (a.lo !== undefined && a.hi !== undefined && a.hi > a.lo) {
        const lo = api.coord([api.value(2), api.value(0)])[0];
        const hi = api.coord([api.value(3), api.value(0)])[0];
        const cap = Math.max(3, w * 0.3);
        const style = { stroke: INK, lineWidth: 1.2 };
        children.push(
          { type: 'line', shape: { x1: lo, y1: y, x2: hi, y2: y }, style },
          { type: 'line', shape: { x1: lo, y1: y - cap, x2: lo, y2: y + cap }, style },
          { type: 'line', shape: { x1: hi, y1: y - cap, x2: hi, y2: y + cap }, style },
        );
        right = Math.max(right, hi);
      }
      children.push({
        type: 'text',
        style: { text: a.text, x: right + 5, y, fill: INK, fontSize: font(l) - 1, verticalAlign: 'middle', align: 'left' },
      });
      return { type: 'group', children };
    },
  };
}

export interface BarPoint {
  value: number;
  lo?: number;
  hi?: number;
  text: string;
  /** Shorter label for the phone layout. */
  narrowText?: string;
}

/** Grouped horizontal bars with labels and optional 95% whiskers: one series per group member. */
export function groupedBars(input: {
  id: string;
  title: string;
  caption: string;
  axis: string;
  categories: string[];
  series: Array<{ name: string; points: Array<BarPoint | undefined> }>;
  log?: boolean;
  colors?: string[];
  categoryColors?: string[];
  layouts?: LayoutKind[];
}): ChartSpec {
  // A series with no point at all (e.g. a test whose every run failed) is left out, not drawn empty.
  const keep = input.series.map((x) => x.points.some(Boolean));
  const spec = { ...input, series: input.series.filter((_, i) => keep[i]), colors: input.colors?.filter((_, i) => keep[i]) };
  const n = spec.series.length;
  // One series: each bar in its scheme's layout colour (a legend of layouts goes with the figure).
  const byCategory = n === 1 && spec.categoryColors;
  return {
    id: spec.id,
    title: spec.title,
    caption: spec.caption,
    ...(byCategory && spec.layouts ? { layouts: spec.layouts } : {}),
    height: (l) => barHeight(spec.categories.length, n, l),
    option: (l) => ({
      ...frame(
        l,
        spec.series.map((x) => x.name),
        spec.categories,
      ),
      ...(spec.colors ? { color: spec.colors } : {}),
      xAxis: spec.log ? valueAxis(spec.axis, l, { type: 'log', logBase: 10 }) : valueAxis(spec.axis, l, { min: 0 }),
      yAxis: categoryAxis(spec.categories, l),
      series: [
        ...spec.series.map((x) => ({
          type: 'bar' as const,
          name: x.name,
          ...BARS,
          data: x.points.map((p, k) =>
            p === undefined ? null : byCategory ? { value: p.value, itemStyle: { color: spec.categoryColors![k] } } : p.value,
          ),
        })),
        ...spec.series.map((x, i) =>
          annotations(
            x.points.flatMap((p, k) =>
              p ? [{ k, value: p.value, lo: p.lo, hi: p.hi, text: l === 'narrow' ? (p.narrowText ?? p.text) : p.text }] : [],
            ),
            i,
            n,
            l,
          ),
        ),
      ] as EChartsOption['series'],
    }),
  };
}

/** Throughput per scheme for one placement: TCP tests as grouped bars, 95% CI whiskers, % of host. */
export function throughputChart(model: ReportModel, placement: Placement): ChartSpec | undefined {
  const ids = testIds(model.result, (t) => isBulk(t) && t.protocol === 'tcp' && t.placement === placement);
  const head = headlineTest(model.result, placement)!;
  const rows = sortByLayout(
    model.measured.filter((s) => ids.some((id) => lineOf(s, id)?.gbps !== undefined)),
    (s) => lineOf(s, head)?.gbps,
  );
  if (!ids.length || !rows.length) return undefined;
  return groupedBars({
    id: `throughput-${placement}`,
    title: `Throughput, ${placement}-host`,
    caption: `Median Gbit/s of each TCP test with the median's own interval (whiskers: order statistics, 95% from 6 runs, min–max below), and the share of the host baseline's figure in the same run${placement === 'same' ? ' (the same-host baseline is loopback: host → itself)' : ''}. Grouped by layout, fastest first; † marks a stand-in.`,
    axis: 'Gbit/s',
    categories: rows.map((s) => s.label),
    categoryColors: rows.map((s) => LAYOUT_COLOR[layoutOf(s)]),
    layouts: layoutsPresent(rows),
    series: ids.map((id) => ({
      name: testTitle(specOf(model.result, id), id).replace(/, (cross|same)-host$/, ''),
      points: rows.map((s) => {
        const t = lineOf(s, id);
        if (t?.gbps === undefined) return undefined;
        const ci = t.medianCi && t.runs - t.failedRuns > 1 ? { lo: Math.max(0, t.medianCi[0]), hi: t.medianCi[1] } : {};
        const share = t.vsHost !== undefined && !s.baseline ? ` · ${Math.round(t.vsHost * 100)}%` : '';
        return { value: t.gbps, ...ci, text: `${t.gbps.toFixed(1)}${share}`, narrowText: t.gbps.toFixed(1) };
      }),
    })),
  });
}

/** Each scheme's TCP throughput as a share of the host's, per placement, coloured by significance. */
export function vsHostChart(model: ReportModel): ChartSpec | undefined {
  const host = model.host;
  const ids = model.placements.map((p) => headlineTest(model.result, p)).filter((x): x is string => !!x);
  const rows = sortByLayout(
    model.measured.filter((s) => !s.baseline && ids.some((id) => lineOf(s, id)?.vsHost !== undefined)),
    (s) => lineOf(s, ids[0])?.vsHost,
  );
  if (!host || !rows.length) return undefined;
  const sig = (s: SchemeView, id: string) => {
    const a = gbpsSamples(testOf(host, id));
    const b = gbpsSamples(testOf(s, id));
    return a.length && b.length ? difference(a, b) : undefined;
  };
  const names = ids.map((id) => `${specOf(model.result, id)?.placement ?? ''}-host`);
  return {
    id: 'vs-host',
    title: 'Against the host network',
    caption: `TCP (1 stream) throughput as a percentage of the host baseline (the dashed line at 100%), with its 95% interval; same-host against loopback (host → itself). Solid bars differ significantly from the host (${SIGNIFICANCE_TEXT}); hatched bars do not (n.s.). Grouped by layout; † marks a stand-in.`,
    height: (l) => barHeight(rows.length, ids.length, l),
    option: (l) => ({
      ...frame(
        l,
        names,
        rows.map((s) => s.label),
      ),
      color: PAIR,
      xAxis: valueAxis('% of host', l, {
        min: 0,
        splitNumber: l !== 'narrow' ? 6 : 3,
        axisLabel: { color: MUTED, fontSize: font(l), formatter: '{value}%' },
      }),
      yAxis: categoryAxis(
        rows.map((s) => s.label),
        l,
      ),
      series: [
        ...ids.map((id, i) => ({
          type: 'bar' as const,
          name: names[i],
          ...BARS,
          data: rows.map((s) => {
            const v = lineOf(s, id)?.vsHost;
            if (v === undefined) return null;
            const color = PAIR[i % PAIR.length];
            // Not significant: filled with a hatch of the same colour (a marker, not an empty outline).
            return {
              value: v * 100,
              itemStyle: sig(s, id)?.significant
                ? { color }
                : {
                    color,
                    opacity: 0.55,
                    decal: {
                      symbol: 'rect',
                      dashArrayX: [1, 0],
                      dashArrayY: [3, 4],
                      rotation: -Math.PI / 4,
                      color: 'rgba(255,255,255,0.85)',
                    },
                  },
            };
          }),
          markLine:
            i === 0
              ? {
                  silent: true,
                  symbol: 'none',
                  label: { show: false },
                  lineStyle: { color: INK, type: 'dashed' as const },
                  data: [{ xAxis: 100 }],
                }
              : undefined,
        })),
        ...ids.map((id, i) =>
          annotations(
            rows.flatMap((s, k): Annotation[] => {
              const t = lineOf(s, id);
              if (t?.vsHost === undefined) return [];
              const w = sig(s, id);
              const ci = t.vsHostCi95 && t.runs - t.failedRuns > 1 ? { lo: t.vsHostCi95[0] * 100, hi: t.vsHostCi95[1] * 100 } : {};
              return [
                {
                  k,
                  value: t.vsHost * 100,
                  ...ci,
                  text: `${Math.round(t.vsHost * 100)}%${w?.p !== undefined && !w.significant ? ' n.s.' : ''}`,
                },
              ];
            }),
            i,
            ids.length,
            l,
          ),
        ),
      ] as EChartsOption['series'],
    }),
  };
}
