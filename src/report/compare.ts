import Table from 'cli-table3';
import { mdCell } from './escape.js';
import { fmt, signedPct } from './figures.js';
import { pText, SIGNIFICANCE_TEXT } from './significance.js';
import { UNIT, type Cell, type Comparison } from './compare-data.js';
import { changeSummary, diffCiText, otherDeltaText } from './compare-changes.js';

/** The comparison of several runs (compare-data.ts) as terminal table, Markdown and CSV. */

/** "−12% (CI −20% to −4%, p = 0.01)" or "≈ (+3%, n.s., p = 0.40)". */
export function deltaText(d: Cell['delta']): string {
  if (!d) return '–';
  const w = d.test;
  if (!w || w.p === undefined) return `${signedPct(d.ratio - 1)} (untested)`;
  const p = pText(w);
  if (!w.significant) return `≈ ${signedPct(d.ratio - 1)} (n.s., ${p})`;
  return `${signedPct(d.ratio - 1)} (CI ${signedPct(Math.max(-1, d.relCi![0]))} to ${signedPct(Math.max(-1, d.relCi![1]))}, ${p})`;
}

/** The median with its own interval, in the figure's unit ("9.41 [9.30–9.52]", "41.2 µs [40.1–43.0]"). */
const gbps = (c: Cell | undefined) => {
  if (c?.median === undefined) return '–';
  const d = c.metric === 'gbps' ? 2 : 1;
  const unit = c.metric === 'gbps' ? '' : ` ${UNIT[c.metric] ?? ''}`.trimEnd();
  return `${fmt(c.median, d)}${unit}${c.ci95 && c.n > 1 ? ` [${fmt(c.ci95[0], d)}–${fmt(c.ci95[1], d)}]` : ''}`;
};

/** Header lines shared by the terminal and Markdown views. */
function runLines(c: Comparison): string[] {
  return c.runs.map(
    (r) =>
      `${r.key}: ${r.source} — ${r.result.createdAt.slice(0, 16).replace('T', ' ')}, lab ${r.result.topology.lab}, kernel ${r.result.environment.kernel}${r.result.complete ? '' : ' (incomplete)'}`,
  );
}

function diffLines(c: Comparison): string[] {
  return c.differences.map((d) => `${d.what}: ${d.values.map((v, i) => `${c.runs[i].key} ${v}`).join(' | ')}`);
}

/** The comparison's grid, as the terminal table and the Markdown table both print it. */
function compareGrid(c: Comparison, hostHead: string): { head: string[]; rows: string[][] } {
  const others = c.runs.slice(1);
  const head = [
    'scheme',
    'test',
    ...c.runs.map((r) => `${r.key} median [interval]`),
    ...others.map((r) => `${r.key} vs ${c.runs[0].key}`),
    ...others.map((r) => `${r.key} − ${c.runs[0].key}, 95% CI`),
    ...others.map((r) => `${r.key} loss/retr vs ${c.runs[0].key}`),
    ...c.runs.map((r) => `${r.key} ${hostHead}`),
  ];
  const rows = c.rows.map((row) => {
    const rest = row.cells.slice(1);
    return [
      row.scheme,
      row.test,
      ...row.cells.map(gbps),
      ...rest.map((x) => deltaText(x?.delta)),
      ...rest.map(diffCiText),
      ...rest.map(otherDeltaText),
      ...row.cells.map((x) => (x?.vsHost === undefined ? '–' : `${Math.round(x.vsHost * 100)}%`)),
    ];
  });
  return { head, rows };
}

export function renderCompareTable(c: Comparison): string {
  const grid = compareGrid(c, '% host');
  const table = new Table({
    head: grid.head,
    style: { head: [], border: [] },
    chars: { mid: '', 'left-mid': '', 'mid-mid': '', 'right-mid': '' },
  });
  for (const row of grid.rows) table.push(row);
  const warn = c.differences.length
    ? `\nenvironments differ — changes may come from the machine, not the network:\n${diffLines(c)
        .map((l) => `  ${l}`)
        .join('\n')}\n`
    : '\nenvironments match (kernel, CPU, tools, knobs, topology)\n';
  return `${runLines(c).join('\n')}\n${changeSummary(c)}\n${table.toString()}\nGbit/s unless a unit is given; median [its interval: order statistics]; change against ${c.runs[0].key} with the 95% CI of the difference; n.s.: not significant by ${SIGNIFICANCE_TEXT}; same-host % host is against loopback (host → itself)${warn}`;
}

export function renderCompareMarkdown(c: Comparison): string {
  const grid = compareGrid(c, '% of host');
  const head = grid.head;
  const rows = grid.rows.map(([scheme, test, ...rest]) => [mdCell(scheme), mdCell(test), ...rest]);
  const out = [
    '## cnlab compare',
    '',
    ...runLines(c).map((l) => `- ${mdCell(l)}`),
    '',
    `**${mdCell(changeSummary(c))}**`,
    '',
    ...(c.differences.length
      ? [
          '> **Environments differ** — a change may come from the machine rather than the network:',
          ...diffLines(c).map((l) => `> - ${mdCell(l)}`),
          '',
        ]
      : ['Environments match (kernel, CPU, tools, knobs, topology).', '']),
    [head, head.map((_, i) => (i < 2 ? '---' : '---:')), ...rows].map((r) => `| ${r.join(' | ')} |`).join('\n'),
    '',
    `Gbit/s unless a unit is given; median [its interval: order statistics]. Changes are against ${c.runs[0].key}, with the 95% CI of the difference; n.s.: not significant by ${SIGNIFICANCE_TEXT}.`,
    '',
  ];
  return out.join('\n');
}

/** Every compared figure as CSV rows: one per scheme, test and run. */
export function compareCsvRows(c: Comparison): { header: string[]; rows: Array<Array<string | number | undefined>> } {
  const header = [
    'scheme',
    'test',
    'run',
    'source',
    'gbps_median',
    'gbps_ci95_low',
    'gbps_ci95_high',
    'runs_ok',
    'vs_host',
    'cpu_s_per_gbit',
    'loss_percent',
    'vs_ref_ratio',
    'vs_ref_diff_ci95_low',
    'vs_ref_diff_ci95_high',
    'vs_ref_p',
    'vs_ref_significant',
    'cpu_vs_ref_ratio',
    'cpu_vs_ref_p',
  ];
  const rows = c.rows.flatMap((row) =>
    row.cells.flatMap((x, i) => {
      if (!x) return [];
      const d = x.delta;
      return [
        [
          row.scheme,
          row.test,
          c.runs[i].key,
          c.runs[i].source,
          x.median,
          x.ci95?.[0],
          x.ci95?.[1],
          x.n,
          x.vsHost,
          x.cpu,
          x.loss,
          d?.ratio,
          d?.test?.ci95[0],
          d?.test?.ci95[1],
          d?.test?.p,
          d?.test ? String(d.test.significant) : undefined,
          x.cpuDelta?.ratio,
          x.cpuDelta?.test?.p,
        ],
      ];
    }),
  );
  return { header, rows };
}
