import type { ResultFile } from '../result/types.js';
import { LAYOUTS, throughputChart, vsHostChart, WIDTHS, type ChartSpec } from './charts.js';
import { cpuChart, udpLossChart } from './charts-cost.js';
import { csvFiles } from './csv.js';
import { esc, jsonForHtml } from './escape.js';
import { buildModel, type ReportModel } from './figures.js';
import { pageHead } from './html-style.js';
import { environmentBlock, schemeCard, summaryTable, verdictBlock } from './html-parts.js';
import { latencySectionCharts, latencyTables } from './html-latency.js';
import { LAYOUT_COLOR, LAYOUT_LABEL } from './layout.js';
import { timeSeriesCharts } from './charts-time.js';
import { headerLine } from './markdown.js';
import { sampleText } from './summary.js';
import { extraCharts, extraHtml } from './optional.js';
import { renderSvg } from './svg.js';
import { verdicts } from './verdicts.js';

/**
 * Pure: the self-contained HTML report. Charts are ECharts rendered to inline SVG on the server
 * side, styles are inline, and the page holds no script at all (its Content-Security-Policy
 * forbids them), so it opens from file:// with no network and nothing in a result file can run.
 * The raw result, the CSVs and the Markdown report are files beside the page (write-reports.ts
 * writes them there), linked by name.
 */

/** The files the page links to, written beside it: result.json, report.md, then the CSVs. */
export function downloads(r: ResultFile, model: ReportModel): Array<{ name: string; title: string }> {
  return [
    { name: 'result.json', title: 'result file (raw tool output, plans, environment)' },
    { name: 'report.md', title: 'Markdown report' },
    ...csvFiles(r, model).map((f) => ({ name: f.name, title: f.title })),
  ];
}

/** Every chart the result has data for, in reading order. */
export function chartSpecs(model: ReportModel): ChartSpec[] {
  const core = [
    ...model.placements.map((p) => throughputChart(model, p)),
    vsHostChart(model),
    ...timeSeriesCharts(model),
    ...model.placements.map((p) => cpuChart(model, p)),
    udpLossChart(model),
  ];
  return [...core, ...extraCharts(model)].filter((c): c is ChartSpec => !!c);
}

function figure(c: ChartSpec): string {
  const label = esc(c.title);
  const layouts = c.layouts?.length
    ? `<p class="layouts">${c.layouts.map((k) => `<span><i style="background:${LAYOUT_COLOR[k]}"></i>${esc(LAYOUT_LABEL[k])}</span>`).join('')}</p>`
    : '';
  return `<figure class="chart" id="chart-${esc(c.id)}" data-chart="${esc(c.id)}"><figcaption><h3>${label}</h3><p>${esc(c.caption)}</p>${layouts}</figcaption>
${LAYOUTS.map((l) => `<div class="svg ${l}">${renderSvg(c.option(l), WIDTHS[l], c.height(l), label)}</div>`).join('\n')}</figure>`;
}

export function renderHtml(result: ResultFile): string {
  const model = buildModel(result);
  const v = verdicts(model);
  const r = result;
  const charts = chartSpecs(model);
  const latency = latencyTables(model);
  const latencyCharts = latency ? latencySectionCharts(model) : [];
  const files = downloads(r, model);
  const measured = model.schemes.filter((s) => s.rec.status === 'ok').length;
  const title = `cnlab report — lab ${r.topology.lab}`;
  const extras = extraHtml(r);
  const sections = [
    ['verdict', 'Verdict'],
    ['results', 'Results'],
    ...(latency ? [['latency', 'Latency']] : []),
    ...(charts.length ? [['charts', 'Charts']] : []),
    ['schemes', 'Schemes and paths'],
    ...extras.map((x) => [x.id, x.title]),
    ['environment', 'Environment'],
    ['raw', 'Raw data'],
  ];
  return `${pageHead(esc(title), `cnlab ${esc(r.cnlab.version)}`)}
<body>
<main>
<header>
<h1>Container networks against the host network</h1>
<p class="sub">lab <b>${esc(r.topology.lab)}</b> · ${measured} of ${r.schemes.length} schemes measured · ${r.topology.hosts} hosts</p>
<p class="sub">${esc(headerLine(r))}</p>
<p class="sub"><b>${esc(sampleText(r))}</b></p>
${r.complete ? '' : '<p class="banner"><b>Incomplete run.</b> The run stopped before the end: the figures cover only what was measured.</p>'}
<nav class="toc">${sections.map(([id, t]) => `<a href="#${id}">${esc(t)}</a>`).join('')}</nav>
</header>
<section id="verdict"><h2>Verdict</h2>${verdictBlock(model, v)}</section>
<section id="results"><h2>Results</h2>${summaryTable(model, v)}</section>
${latency ? `<section id="latency"><h2>Latency</h2>${latency}${latencyCharts.length ? `<div class="charts">${latencyCharts.map(figure).join('\n')}</div>` : ''}</section>` : ''}
${charts.length ? `<section id="charts"><h2>Charts</h2><div class="charts">${charts.map(figure).join('\n')}</div></section>` : ''}
<section id="schemes"><h2>Schemes and the path a packet takes</h2>
<p class="sub">Each path is read from the scheme's plan in the result file: the devices it created, the bridges they joined, the routes, NAT rules, tunnels and daemons.</p>
<div class="cards">${model.schemes.map((s) => schemeCard(model, s, v)).join('\n')}</div></section>
${extras.map((x) => `<section id="${x.id}"><h2>${esc(x.title)}</h2>${x.html}</section>`).join('\n')}
<section id="environment"><h2>Environment</h2>${environmentBlock(r)}</section>
<section id="raw"><h2>Raw data</h2>
<p>Everything above is computed from the result file alone; <code>cnlab report result.json</code> rebuilds this page anywhere, without a lab or root. The files below sit beside this page.</p>
<div class="downloads">${files.map((d) => `<a href="${esc(d.name)}" download="${esc(d.name)}" title="${esc(d.title)}">${esc(d.name)}</a>`).join('')}</div>
</section>
<footer>Generated by cnlab ${esc(r.cnlab.version)} from a result file written ${esc(r.updatedAt)}.</footer>
</main>
<script type="application/json" id="cnlab-summary">${jsonForHtml({ lab: r.topology.lab, complete: r.complete, headline: v.headline, standIns: model.schemes.filter((s) => s.standIn).map((s) => ({ scheme: s.rec.name, ...s.standIn })), ranking: v.rankings.map((k) => ({ test: k.testId, standIns: !!k.standIns, tiers: k.tiers })), recommendations: v.recommendations.map((x) => ({ constraint: x.constraint, pick: x.pick ?? null, tiedWith: x.tiedWith ?? null })) })}</script>
</body>
</html>
`;
}
