import { groupedBars, LAYOUTS, WIDTHS, type ChartSpec } from './charts.js';
import { compareCsvRows, deltaText, renderCompareMarkdown } from './compare.js';
import { changeSummary } from './compare-changes.js';
import type { Comparison } from './compare-data.js';
import { toCsv } from './csv.js';
import { dataUrl, esc } from './escape.js';
import { pageHead } from './html-style.js';
import { SIGNIFICANCE_TEXT } from './significance.js';
import { renderSvg } from './svg.js';

/** Pure: the self-contained HTML page of `cnlab compare` (same rules as the report page: no script). */

/** One chart per test that the reference run's TCP tests hold: a bar per run for every scheme. */
function charts(c: Comparison): ChartSpec[] {
  const tests = [...new Set(c.rows.filter((r) => /^tcp-1\//.test(r.test)).map((r) => r.test))];
  return tests.map((test) => {
    const rows = c.rows.filter((r) => r.test === test && r.cells.some((x) => x?.median !== undefined));
    return groupedBars({
      id: `compare-${test.replace(/[^a-z0-9]+/gi, '-')}`,
      title: `${test}: throughput per run`,
      caption: `Median with its interval (order statistics), one bar per run (${c.runs.map((r) => `${r.key} = ${r.source}`).join(', ')}).`,
      axis: 'Gbit/s',
      categories: rows.map((r) => r.scheme),
      series: c.runs.map((run, i) => ({
        name: `${run.key}: ${run.source}`,
        points: rows.map((r) => {
          const x = r.cells[i];
          if (x?.median === undefined) return undefined;
          const ci = x.ci95 && x.n > 1 ? { lo: Math.max(0, x.ci95[0]), hi: x.ci95[1] } : {};
          const d = x.delta
            ? ` (${Math.round((x.delta.ratio - 1) * 100) >= 0 ? '+' : '−'}${Math.abs(Math.round((x.delta.ratio - 1) * 100))}%${x.delta.test?.significant ? '' : ' n.s.'})`
            : '';
          return { value: x.median, ...ci, text: `${x.median.toFixed(1)}${d}`, narrowText: x.median.toFixed(1) };
        }),
      })),
    });
  });
}

export function renderCompareHtml(c: Comparison): string {
  const md = renderCompareMarkdown(c);
  const csv = compareCsvRows(c);
  const head = `<tr><th>scheme</th><th>test</th>${c.runs.map((r) => `<th class="num">${esc(r.key)} Gbit/s</th>`).join('')}${c.runs
    .slice(1)
    .map((r) => `<th>${esc(r.key)} vs ${esc(c.runs[0].key)}</th>`)
    .join('')}${c.runs.map((r) => `<th class="num">${esc(r.key)} % host</th>`).join('')}</tr>`;
  const rows = c.rows
    .map((row) => {
      const vals = row.cells.map(
        (x) =>
          `<td class="num">${x?.median === undefined ? '–' : `${x.median.toFixed(2)}${x.ci95 && x.n > 1 ? ` <span class="ns">[${x.ci95[0].toFixed(2)}–${x.ci95[1].toFixed(2)}]</span>` : ''}${x.unit ? ` ${x.unit}` : ''}`}</td>`,
      );
      const deltas = row.cells.slice(1).map((x) => {
        const t = x?.delta?.test;
        const cls = !t || t.p === undefined ? '' : !t.significant ? 'ns' : x!.delta!.ratio < 1 ? 'sig-bad' : 'sig-good';
        return `<td class="${cls}">${esc(deltaText(x?.delta))}</td>`;
      });
      const host = row.cells.map((x) => `<td class="num">${x?.vsHost === undefined ? '–' : `${Math.round(x.vsHost * 100)}%`}</td>`);
      return `<tr><td>${esc(row.scheme)}</td><td class="mono">${esc(row.test)}</td>${vals.join('')}${deltas.join('')}${host.join('')}</tr>`;
    })
    .join('');
  const diffs = c.differences.length
    ? `<div class="banner"><b>Environments differ</b> — a change may come from the machine rather than the network.<div class="tablewrap"><table><thead><tr><th>what</th>${c.runs.map((r) => `<th>${esc(r.key)}</th>`).join('')}</tr></thead><tbody>${c.differences.map((d) => `<tr><th>${esc(d.what)}</th>${d.values.map((v) => `<td class="mono">${esc(v)}</td>`).join('')}</tr>`).join('')}</tbody></table></div></div>`
    : '<p class="sub">Environments match: kernel, CPU, tools, knobs and topology are the same in every run.</p>';
  const figs = charts(c)
    .map(
      (ch) =>
        `<figure class="chart" data-chart="${esc(ch.id)}"><figcaption><h3>${esc(ch.title)}</h3><p>${esc(ch.caption)}</p></figcaption>${LAYOUTS.map((l) => `<div class="svg ${l}">${renderSvg(ch.option(l), WIDTHS[l], ch.height(l), esc(ch.title))}</div>`).join('')}</figure>`,
    )
    .join('');
  const runs = c.runs
    .map(
      (r) =>
        `<li><b>${esc(r.key)}</b>: ${esc(r.source)} — ${esc(r.result.createdAt)}, lab ${esc(r.result.topology.lab)}, kernel ${esc(r.result.environment.kernel)}${r.result.complete ? '' : ' <b>(incomplete)</b>'}</li>`,
    )
    .join('');
  return `${pageHead(`cnlab compare — ${c.runs.map((r) => esc(r.source)).join(' vs ')}`)}
<body><main>
<header><h1>Runs side by side</h1><ul>${runs}</ul></header>
${diffs}
<section id="changes"><h2>Changes against ${esc(c.runs[0].key)}</h2>
<div class="tablewrap"><table><thead>${head}</thead><tbody>${rows}</tbody></table></div>
<p class="sub">${esc(changeSummary(c))} Median [its interval: order statistics]. Each change is against run ${esc(c.runs[0].key)}, with the 95% confidence interval of the difference; n.s. means not significant by ${esc(SIGNIFICANCE_TEXT)}.</p></section>
${figs ? `<section id="charts"><h2>Charts</h2><div class="charts">${figs}</div></section>` : ''}
<section id="raw"><h2>Raw data</h2><div class="downloads"><a download="compare.csv" href="${dataUrl('text/csv', toCsv(csv.header, csv.rows))}">compare.csv</a><a download="compare.md" href="${dataUrl('text/markdown', md)}">compare.md</a></div></section>
</main></body></html>
`;
}
