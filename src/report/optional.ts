import type { ResultFile } from '../result/types.js';
import { mainMetric } from '../result/derive.js';
import type { ChartSpec } from './charts.js';
import { loadCharts, rateCharts, sweepCharts, transactionCpuChart } from './charts-more.js';
import { esc } from './escape.js';
import type { ReportModel } from './figures.js';
import { pText } from './significance.js';
import { convergenceChart, convergenceHtml, convergenceLines } from './convergence.js';
import { clusterHtml, clusterLines } from './cluster.js';

/**
 * Pure: figures that only some result files hold (fields added after version 1 as optional).
 * Each kind contributes charts, an HTML section, Markdown lines and CSV files when — and only
 * when — its data are present, so a page from an older or smaller run simply leaves them out.
 */

type Cell = string | number | boolean | undefined | null;
export interface ExtraCsv {
  name: string;
  title: string;
  header: string[];
  rows: Cell[][];
}
export interface ExtraSection {
  id: string;
  title: string;
  html: string;
}

/** Userspace encapsulation daemons' counters, per scheme and host. */
function encapRows(
  r: ResultFile,
): Array<{ scheme: string; host: string; c: NonNullable<ResultFile['schemes'][number]['encapCounters']>[string] }> {
  return r.schemes.flatMap((s) => Object.entries(s.encapCounters ?? {}).map(([host, c]) => ({ scheme: s.name, host, c })));
}

const overheadPct = (bytes: number, datagramBytes: number) => (bytes > 0 ? ((datagramBytes / bytes - 1) * 100).toFixed(1) : '–');
type Counters = NonNullable<ResultFile['schemes'][number]['encapCounters']>[string];

/** Encrypted daemons: payloads (packets or frames) per sealed record. */
const perRecord = (c: Counters) => {
  const s = c.records?.sealed;
  return s && s.records > 0 ? (s.items / s.records).toFixed(1) : '–';
};
const drops = (d: Record<string, number>) =>
  Object.entries(d)
    .filter(([, n]) => n > 0)
    .map(([k, n]) => `${k} ${n}`)
    .join(', ') || 'none';

type Test = ResultFile['schemes'][number]['tests'][number];
const allTests = (r: ResultFile) => r.schemes.flatMap((s) => s.tests.map((t) => ({ scheme: s.name, t })));

/** Sweep points (message size, datagram size, streams): the main figure at each point. */
function sweepCsv(r: ResultFile): ExtraCsv | undefined {
  const rows = allTests(r)
    .filter(({ t }) => t.sweep)
    .map(({ scheme, t }) => {
      const m = mainMetric(t);
      const sum =
        m.metric === 'gbps'
          ? t.summary?.gbps
          : m.metric === 'latencyUs'
            ? t.latencySummary?.latencyUs
            : m.metric === 'p50Us'
              ? t.latencySummary?.p50Us
              : t.rateSummary?.maxRateMbps;
      return [
        t.sweep!.series,
        t.sweep!.param,
        t.sweep!.value,
        scheme,
        t.placement,
        t.id,
        m.metric,
        sum?.n,
        sum?.median,
        sum?.ci95[0],
        sum?.ci95[1],
        t.summary?.lossPercent?.median,
        t.latencySummary?.cpuSecondsPer1kTransactions?.median ?? t.summary?.cpuSecondsPerGbit?.median,
      ];
    });
  return rows.length
    ? {
        name: 'sweeps.csv',
        title: 'every sweep point (message size, datagram size, streams)',
        header: [
          'series',
          'param',
          'value',
          'scheme',
          'placement',
          'test',
          'metric',
          'runs',
          'median',
          'ci95_low',
          'ci95_high',
          'loss_percent_median',
          'cpu_per_unit_median',
        ],
        rows,
      }
    : undefined;
}

/** Latency tests: percentiles, qperf latency, CPU per transaction, the load beside them. */
function latencyCsv(r: ResultFile): ExtraCsv | undefined {
  const m = (t: Test, k: keyof NonNullable<Test['latencySummary']>) => t.latencySummary?.[k]?.median;
  const rows = allTests(r)
    .filter(({ t }) => t.latencySummary)
    .map(({ scheme, t }) => [
      scheme,
      t.id,
      t.kind ?? 'iperf3',
      t.protocol,
      t.placement,
      t.msgSize,
      t.underLoad?.streams,
      m(t, 'p50Us'),
      m(t, 'p90Us'),
      m(t, 'p99Us'),
      m(t, 'p999Us'),
      m(t, 'maxUs'),
      m(t, 'latencyUs'),
      m(t, 'cpuSecondsPer1kTransactions'),
      m(t, 'loadGbps'),
      t.latencySummary?.p50Us?.n ?? t.latencySummary?.latencyUs?.n,
    ]);
  return rows.length
    ? {
        name: 'latency.csv',
        title: 'latency per scheme and test (medians, µs)',
        header: [
          'scheme',
          'test',
          'kind',
          'protocol',
          'placement',
          'msg_size',
          'under_load_streams',
          'p50_us',
          'p90_us',
          'p99_us',
          'p999_us',
          'max_us',
          'qperf_latency_us',
          'cpu_s_per_1k_transactions',
          'load_gbps',
          'runs',
        ],
        rows,
      }
    : undefined;
}

/** UDP rate searches: every offered rate of every run. */
function rateCsv(r: ResultFile): ExtraCsv | undefined {
  const rows = allTests(r).flatMap(({ scheme, t }) =>
    t.runs.flatMap((run) =>
      (run.ratePoints ?? []).map((p) => [
        scheme,
        t.id,
        run.repeat,
        p.offeredMbps,
        p.ok,
        p.error,
        p.gbps,
        p.lossPercent,
        p.jitterMs,
        run.maxRateMbps,
      ]),
    ),
  );
  return rows.length
    ? {
        name: 'udp-rate.csv',
        title: 'UDP rate search: every offered rate',
        header: ['scheme', 'test', 'repeat', 'offered_mbps', 'ok', 'error', 'gbps', 'loss_percent', 'jitter_ms', 'run_max_rate_mbps'],
        rows,
      }
    : undefined;
}

export function extraCsv(r: ResultFile): ExtraCsv[] {
  const out: ExtraCsv[] = [sweepCsv(r), latencyCsv(r), rateCsv(r)].filter((x): x is ExtraCsv => !!x);
  const encap = encapRows(r);
  // Drops: one column per reason, so each counter is a number a spreadsheet can add up.
  const dropKeys = [...new Set(encap.flatMap(({ c }) => Object.keys(c.drops ?? {})))].sort();
  if (encap.length) {
    out.push({
      name: 'encap-counters.csv',
      title: 'userspace encapsulation counters',
      header: [
        'scheme',
        'host',
        'dev',
        'mode',
        'encrypted',
        'batching',
        'tx_packets',
        'tx_bytes',
        'tx_datagrams',
        'tx_datagram_bytes',
        'rx_packets',
        'rx_bytes',
        'rx_datagrams',
        'rx_datagram_bytes',
        'multi_frame_batches',
        'max_frames',
        'records_sealed',
        'payloads_sealed',
        'padding_bytes',
        'records_opened',
        'payloads_opened',
        ...dropKeys.map((k) => `drops_${k.replace(/[^A-Za-z0-9]+/g, '_')}`),
        'daemon_cpu_user_s',
        'daemon_cpu_system_s',
      ],
      rows: encap.map(({ scheme, host, c }) => [
        scheme,
        host,
        c.dev,
        c.mode,
        c.encrypted,
        c.batching,
        c.tx?.packets,
        c.tx?.bytes,
        c.tx?.datagrams,
        c.tx?.datagramBytes,
        c.rx?.packets,
        c.rx?.bytes,
        c.rx?.datagrams,
        c.rx?.datagramBytes,
        c.batches?.multiFrame,
        c.batches?.maxFrames,
        c.records?.sealed?.records,
        c.records?.sealed?.items,
        c.records?.sealed?.padding,
        c.records?.opened?.records,
        c.records?.opened?.items,
        ...dropKeys.map((k) => c.drops?.[k] ?? 0),
        c.cpuSeconds?.user,
        c.cpuSeconds?.system,
      ]),
    });
  }
  return out;
}

/**
 * The run's own pairwise comparisons (result.comparisons), for the headline tests: a lower
 * triangle where each cell is the row scheme against the column scheme.
 */
function pairwiseHtml(r: ResultFile): string {
  const all = r.comparisons ?? [];
  const tests = [...new Set(all.map((c) => c.testId))].filter((id) => /^(tcp-1|lat-tcp|lat-udp)\//.test(id));
  return tests
    .map((id) => {
      const cs = all.filter((c) => c.testId === id);
      const names = [...new Set(cs.flatMap((c) => [c.b, c.a]))];
      const cell = (a: string, b: string) => {
        const c = cs.find((x) => x.a === a && x.b === b);
        if (!c) return '<td></td>';
        const rel = c.relDiff === undefined ? '–' : `${c.relDiff >= 0 ? '+' : '−'}${Math.abs(Math.round(c.relDiff * 100))}%`;
        const better = c.higherIsBetter ? c.diff > 0 : c.diff < 0;
        // Holm-corrected over the matrix when the file has it (result version 2), as the ranking is.
        const sig = c.significantHolm ?? c.significant;
        const padj = c.pHolm ?? c.pValue;
        const cls = c.method === 'none' ? '' : !sig ? 'ns' : better ? 'sig-good' : 'sig-bad';
        const p = padj === undefined ? 'untested' : sig ? pText({ p: padj }) : `n.s., ${pText({ p: padj })}`;
        return `<td class="num ${cls}" title="${esc(`${c.metric}, ${c.method}`)}">${rel} <span class="ns">${p}</span></td>`;
      };
      const rows = names.slice(1).map(
        (a, i) =>
          `<tr><th>${esc(a)}</th>${names
            .slice(0, i + 1)
            .map((b) => cell(a, b))
            .join('')}${names
            .slice(i + 2)
            .map(() => '<td></td>')
            .join('')}</tr>`,
      );
      const metric = cs[0]?.metric ?? '';
      return `<details class="matrix"><summary>${esc(id)} <span class="ns">(${esc(metric)}${cs[0]?.higherIsBetter === false ? ', lower is better' : ''}; ${names.length} × ${names.length})</span></summary><div class="tablewrap"><table><thead><tr><th>row against column</th>${names
        .slice(0, -1)
        .map((n) => `<th class="num">${esc(n)}</th>`)
        .join('')}</tr></thead><tbody>${rows.join('')}</tbody></table></div></details>`;
    })
    .join('');
}

export function extraHtml(r: ResultFile): ExtraSection[] {
  const out: ExtraSection[] = [];
  const cluster = clusterHtml(r);
  if (cluster) out.push({ id: 'cluster', title: 'Kubernetes cluster', html: cluster });
  const conv = convergenceHtml(r);
  if (conv) out.push({ id: 'convergence', title: 'Control-plane convergence', html: conv });
  const pairs = pairwiseHtml(r);
  if (pairs)
    out.push({
      id: 'pairwise',
      title: 'Between every two schemes',
      html: `<p class="sub">The run's own comparisons, one matrix per test (open one to read it): each cell is the row's scheme against the column's, the relative difference of the main figure, coloured when it is significant, with p after Holm's correction over the test's whole matrix.</p>${pairs}`,
    });
  const encap = encapRows(r);
  if (encap.length) {
    const rows = encap
      .map(
        ({ scheme, host, c }) =>
          `<tr><td>${esc(scheme)}</td><td>${esc(host)}</td><td class="mono">${esc(c.dev)} (${esc(c.mode)})</td><td>${c.encrypted ? 'yes' : 'no'}</td><td class="num">${esc(c.tx?.packets)}</td><td class="num">${esc(c.rx?.packets)}</td><td class="num">${overheadPct(c.tx?.bytes ?? 0, c.tx?.datagramBytes ?? 0)}%</td><td class="num">${esc(c.batches?.multiFrame ?? 0)}</td><td class="num">${perRecord(c)}</td><td>${esc(drops(c.drops ?? {}))}</td><td class="num">${((c.cpuSeconds?.user ?? 0) + (c.cpuSeconds?.system ?? 0)).toFixed(2)}</td></tr>`,
      )
      .join('');
    out.push({
      id: 'encap',
      title: 'Userspace encapsulation daemons',
      html: `<p class="sub">Counters of cnlab's encapsulation daemon on each host, read after the tests: what went through the TUN/TAP device, the bytes the encapsulation added, batching, how many packets or frames each encrypted record sealed at once, drops by reason and the daemon's own CPU time.</p><div class="tablewrap"><table class="wrap"><thead><tr><th>scheme</th><th>host</th><th>device</th><th>encrypted</th><th class="num">tx packets</th><th class="num">rx packets</th><th class="num">added bytes</th><th class="num">multi-frame datagrams</th><th class="num">payloads per record</th><th>drops</th><th class="num">daemon CPU-s</th></tr></thead><tbody>${rows}</tbody></table></div>`,
    });
  }
  return out;
}

export function extraMarkdown(r: ResultFile): string[] {
  const conv = convergenceLines(r).map((l) => l.replace(/[<>]/g, ''));
  const cluster = clusterLines(r).map((l) => `- ${l.replace(/[<>]/g, '')}`);
  const convMd = [
    ...(cluster.length ? ['### Kubernetes cluster', '', ...cluster, ''] : []),
    ...(conv.length ? ['### Control-plane convergence', '', '```', ...conv, '```', ''] : []),
  ];
  const encap = encapRows(r);
  if (!encap.length) return convMd;
  return [
    ...convMd,
    '### Userspace encapsulation daemons',
    '',
    ...encap.map(
      ({ scheme, host, c }) =>
        `- ${scheme.replace(/[<>]/g, '')} ${host.replace(/[<>]/g, '')}: tx ${c.tx?.packets ?? 0} packets (+${overheadPct(c.tx?.bytes ?? 0, c.tx?.datagramBytes ?? 0)}% bytes${c.records ? `, ${perRecord(c)} per record` : ''}), rx ${c.rx?.packets ?? 0}, drops: ${drops(c.drops ?? {}).replace(/[<>]/g, '')}`,
    ),
    '',
  ];
}

export function extraCharts(model: ReportModel): Array<ChartSpec | undefined> {
  // Idle latency has its own section (html-latency.ts).
  return [
    ...loadCharts(model),
    ...model.placements.map((p) => transactionCpuChart(model, p)),
    ...sweepCharts(model),
    ...rateCharts(model),
    convergenceChart(model),
  ];
}
