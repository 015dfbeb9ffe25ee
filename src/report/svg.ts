import { createRequire } from 'node:module';
import type * as Echarts from 'echarts';
import type { EChartsOption } from 'echarts';

/**
 * ECharts server-side rendering to inline SVG: no script is needed to view the charts, and the
 * page opens from file:// with no network. The SVG scales to its container (viewBox, width 100%).
 */

export const FONT = "system-ui, -apple-system, 'Segoe UI', Roboto, 'Helvetica Neue', Arial, sans-serif";

/**
 * ECharts is loaded on the first chart, not when the module is imported: every cnlab command
 * imports the report layer, and the library's ESM entry costs ~0.75 s of start-up on this box
 * (its CommonJS build, required here, ~0.3 s), paid by `--help` and every input error otherwise.
 */
let lib: typeof Echarts | undefined;
const echarts = (): typeof Echarts => (lib ??= createRequire(import.meta.url)('echarts') as typeof Echarts);

export function renderSvg(option: EChartsOption, width: number, height: number, label: string): string {
  const chart = echarts().init(null, null, { renderer: 'svg', ssr: true, width, height });
  try {
    chart.setOption({ animation: false, textStyle: { fontFamily: FONT }, ...option });
    const svg = chart.renderToSVGString();
    // Scale with the page; label for screen readers (the label is escaped by the caller).
    return svg.replace(
      /^<svg width="\d+(\.\d+)?" height="\d+(\.\d+)?"/,
      `<svg width="100%" style="max-width:${width}px" role="img" aria-label="${label}" preserveAspectRatio="xMidYMid meet"`,
    );
  } finally {
    chart.dispose();
  }
}
