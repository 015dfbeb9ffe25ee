import { basename, dirname } from 'node:path';
import Table from 'cli-table3';
import type { ResultFile, TestRecord } from '../result/types.js';
import { mdCell } from './escape.js';
import { mainMetric } from '../result/derive.js';
import { summarize } from '../stats/stats.js';
import { fmt, samples, signedPct } from './figures.js';
import { difference, pText, SIGNIFICANCE_TEXT, type Difference } from './significance.js';

/**
 * Pure: several runs side by side. The first run is the reference; every other run's figures
 * are given as a change against it with the 95% interval of the difference and its significance.
 * Runs whose environments differ (kernel, CPU, tools, knobs, topology) are flagged, since a
 * change between them may come from the machine rather than the network.
 */

export interface CompareRun {
  /** "A", "B", … */
  key: string;
  /** Where it came from (file path). */
  source: string;
  result: ResultFile;
}

export interface Cell {
  /** The test's main figure (mainMetric: Gbit/s, or a latency in µs) and which way is better. */
  metric: string;
  higherIsBetter: boolean;
  median?: number;
  /** The median's own interval (order statistics; see Summary.medianCi). */
  ci95?: [number, number];
  n: number;
  vsHost?: number;
  cpu?: number;
  loss?: number;
  /** TCP: median retransmits per run. */
  retransmits?: number;
  /** Against the reference run (absent for the reference itself). */
  delta?: { ratio: number; test?: Difference; relCi?: [number, number] };
  cpuDelta?: { ratio: number; test?: Difference };
  /** A latency test's figure (µs, lower is better); absent: Gbit/s. */
  unit?: 'µs';
  /** Loss (percentage points) and retransmits per run against the reference's medians. */
  lossDelta?: number;
  retransmitsDelta?: number;
}

export interface CompareRow {
  scheme: string;
  test: string;
  cells: Array<Cell | undefined>;
}

export interface EnvDifference {
  what: string;
  values: string[];
}

export interface Comparison {
  runs: CompareRun[];
  rows: CompareRow[];
  differences: EnvDifference[];
}

/** A short label for a result file: its directory for result.json, else its name. */
export function runSource(file: string): string {
  return basename(file) === 'result.json' ? basename(dirname(file)) || file : basename(file).replace(/\.json$/, '');
}

function cellOf(t: TestRecord | undefined, ref: TestRecord | undefined): Cell | undefined {
  if (!t) return undefined;
  const m = mainMetric(t);
  const g = samples(t, m.pick);
  const sum = g.length ? summarize(g) : undefined;
  const cell: Cell = {
    metric: m.metric,
    higherIsBetter: m.higherIsBetter,
    median: sum?.median,
    ci95: sum?.medianCi,
    n: g.length,
    vsHost: t.vsHost?.value,
    cpu: t.summary?.cpuSecondsPerGbit?.median,
    loss: t.summary?.lossPercent?.median,
    retransmits: t.summary?.retransmits?.median,
  };
  if (ref && ref !== t) {
    const a = samples(ref, m.pick);
    const am = a.length ? summarize(a).median : undefined;
    if (a.length && g.length && am && cell.median !== undefined) {
      const w = difference(a, g);
      const mean = a.reduce((s, x) => s + x, 0) / a.length;
      cell.delta = { ratio: cell.median / am, test: w, relCi: w.p === undefined ? undefined : [w.ci95[0] / mean, w.ci95[1] / mean] };
    }
    const rl = ref.summary?.lossPercent?.median;
    if (rl !== undefined && cell.loss !== undefined) cell.lossDelta = cell.loss - rl;
    const rr = ref.summary?.retransmits?.median;
    if (rr !== undefined && cell.retransmits !== undefined) cell.retransmitsDelta = cell.retransmits - rr;
    const ca = samples(ref, (r) => r.cpuSecondsPerGbit);
    const cb = samples(t, (r) => r.cpuSecondsPerGbit);
    const rc = ref.summary?.cpuSecondsPerGbit?.median;
    if (ca.length && cb.length && rc && cell.cpu !== undefined) cell.cpuDelta = { ratio: cell.cpu / rc, test: difference(ca, cb) };
  }
  return cell;
}

/** Flattened "key: value" facts about a run's environment and settings. */
function facts(r: ResultFile): Map<string, string> {
  const m = new Map<string, string>();
  const e = r.environment as unknown as Record<string, unknown>;
  m.set('kernel', r.environment.kernel);
  m.set('CPU', `${r.environment.cpuModel} × ${r.environment.cpus}`);
  for (const [k, v] of Object.entries(r.environment.tools)) m.set(`tool ${k}`, v);
  for (const [k, v] of Object.entries(e))
    if (!['kernel', 'cpuModel', 'cpus', 'tools', 'node', 'cpuMethod'].includes(k)) m.set(`environment ${k}`, JSON.stringify(v));
  m.set('CPU method', r.environment.cpuMethod);
  const u = r.topology.underlay;
  m.set('underlay', `MTU ${u.mtu}${u.rate ? `, rate ${u.rate}` : ''}`);
  m.set('hosts', `${r.topology.hosts} × ${r.topology.containersPerHost}`);
  m.set('repeats × seconds', `${r.options.repeats} × ${r.options.seconds} s`);
  m.set('UDP rate', r.options.udpRate);
  for (const [k, v] of Object.entries(r.options as unknown as Record<string, unknown>))
    if (!['repeats', 'seconds', 'udpRate', 'tests'].includes(k)) m.set(`knob ${k}`, JSON.stringify(v));
  return m;
}

export function compareResults(runs: CompareRun[]): Comparison {
  if (runs.length < 2) throw new RangeError('compare needs at least two runs');
  const [ref] = runs;
  const keys: Array<[string, string]> = [];
  const seen = new Set<string>();
  for (const run of runs) {
    for (const s of run.result.schemes) {
      for (const t of s.tests) {
        const k = `${s.name}\u0000${t.id}`;
        if (seen.has(k)) continue;
        seen.add(k);
        keys.push([s.name, t.id]);
      }
    }
  }
  const find = (r: ResultFile, scheme: string, id: string) => r.schemes.find((s) => s.name === scheme)?.tests.find((t) => t.id === id);
  const rows = keys.map(([scheme, id]) => {
    const base = find(ref.result, scheme, id);
    return { scheme, test: id, cells: runs.map((run) => cellOf(find(run.result, scheme, id), base)) };
  });
  const all = runs.map((r) => facts(r.result));
  const names = [...new Set(all.flatMap((m) => [...m.keys()]))];
  const differences = names.flatMap((what) => {
    const values = all.map((m) => m.get(what) ?? '(none)');
    return new Set(values).size > 1 ? [{ what, values }] : [];
  });
  return { runs, rows, differences };
}

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

const UNIT: Record<string, string> = { gbps: 'Gbit/s', p50Us: 'µs', latencyUs: 'µs', maxRateMbps: 'Mbit/s' };

/** "−3.01 to −2.89 Gbit/s": the 95% CI of the difference (this run − reference) in the figure's unit. */
export function diffCiText(x: Cell | undefined): string {
  const t = x?.delta?.test;
  if (!t || t.p === undefined) return '–';
  const d = x!.metric === 'gbps' ? 2 : 1;
  const v = (n: number) => `${n < 0 ? '−' : ''}${Math.abs(n).toFixed(d)}`;
  return `${v(t.ci95[0])} to ${v(t.ci95[1])} ${UNIT[x!.metric] ?? ''}`.trimEnd();
}

/** Loss and retransmit changes against the reference: "loss +1.2 pp, retr +340". */
export function otherDeltaText(x: Cell | undefined): string {
  if (!x) return '–';
  const parts: string[] = [];
  if (x.lossDelta !== undefined) parts.push(`loss ${x.lossDelta >= 0 ? '+' : '−'}${Math.abs(x.lossDelta).toFixed(2)} pp`);
  if (x.retransmitsDelta !== undefined)
    parts.push(`retr ${x.retransmitsDelta >= 0 ? '+' : '−'}${Math.abs(Math.round(x.retransmitsDelta))}`);
  return parts.join(', ') || '–';
}

export interface Change {
  scheme: string;
  test: string;
  /** The run's key ("B"). */
  run: string;
  /** Relative change of the main figure, signed so that negative is worse. */
  worse: number;
  text: string;
}

/** Whether a cell's change is significant and, signed so that negative is worse, how large. */
function judged(x: Cell | undefined): { significant: boolean; worse: number } | undefined {
  const d = x?.delta;
  if (!d || !d.test || d.test.p === undefined) return undefined;
  const rel = d.ratio - 1;
  return { significant: d.test.significant, worse: x!.higherIsBetter ? rel : -rel };
}

/**
 * Every significant change of a run against the reference, worst first. `--fail-if-worse PCT`
 * fails on those whose main figure got worse by more than PCT percent (throughput down, latency up),
 * with a significant difference (the change's own test, p < 0.05).
 */
export function significantChanges(c: Comparison): { worse: Change[]; better: Change[]; unchanged: number; untested: number } {
  const worse: Change[] = [];
  const better: Change[] = [];
  let unchanged = 0;
  let untested = 0;
  for (const row of c.rows) {
    row.cells.slice(1).forEach((x, i) => {
      const j = judged(x);
      if (!j) {
        if (x) untested++;
        return;
      }
      if (!j.significant) {
        unchanged++;
        return;
      }
      const change = {
        scheme: row.scheme,
        test: row.test,
        run: c.runs[i + 1].key,
        worse: j.worse,
        text: `${row.scheme} ${row.test} ${signedPct(x!.delta!.ratio - 1)} (${pText(x!.delta!.test)})`,
      };
      (j.worse < 0 ? worse : better).push(change);
    });
  }
  worse.sort((a, b) => a.worse - b.worse);
  better.sort((a, b) => b.worse - a.worse);
  return { worse, better, unchanged, untested };
}

/** The regressions beyond `pct` percent (see significantChanges). */
export function regressions(c: Comparison, pct: number): Change[] {
  return significantChanges(c).worse.filter((x) => -x.worse * 100 > pct);
}

/** One line: what changed against the reference. */
export function changeSummary(c: Comparison): string {
  const s = significantChanges(c);
  const list = (xs: Change[]) =>
    xs
      .slice(0, 3)
      .map((x) => (c.runs.length > 2 ? `${x.run}: ${x.text}` : x.text))
      .join(', ') + (xs.length > 3 ? ` and ${xs.length - 3} more` : '');
  const others = c.runs
    .slice(1)
    .map((r) => r.key)
    .join(', ');
  const parts = [
    s.worse.length ? `${s.worse.length} significantly worse (${list(s.worse)})` : 'nothing significantly worse',
    s.better.length ? `${s.better.length} significantly better (${list(s.better)})` : 'nothing significantly better',
    `${s.unchanged} not significantly different`,
    ...(s.untested ? [`${s.untested} untested (too few runs)`] : []),
  ];
  return `${others} against ${c.runs[0].key}: ${parts.join('; ')}.`;
}
