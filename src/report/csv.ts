import type { ResultFile } from '../result/types.js';
import { median } from 'simple-statistics';
import { buildModel, cpuSplit, latencyFigure, samples, type ReportModel } from './figures.js';
import { STAND_IN_MARK } from './stand-in.js';
import { extraCsv } from './optional.js';

/**
 * Pure: CSV exports of every figure (RFC 4180). Strings from the result file that a spreadsheet
 * would take for a formula (= + - @ at the start) are prefixed with an apostrophe. Fractional
 * figures are written to four significant digits; a stand-in's rows say so in `stand_in`.
 */

export type Cell = string | number | boolean | undefined | null;

export function csvCell(v: Cell): string {
  if (v === undefined || v === null) return '';
  // Figures to four significant digits (a measurement has no more); counts stay whole.
  if (typeof v === 'number') return Number.isFinite(v) ? String(Number.isInteger(v) ? v : Number(v.toPrecision(4))) : '';
  if (typeof v === 'boolean') return v ? 'true' : 'false';
  const s = /^[=+\-@\t\r]/.test(v) ? `'${v}` : v;
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

export function toCsv(header: string[], rows: Cell[][]): string {
  return [header, ...rows].map((r) => r.map(csvCell).join(',')).join('\r\n') + '\r\n';
}

export interface CsvFile {
  name: string;
  /** What the file holds, for the page's download list. */
  title: string;
  text: string;
}

/** Version-2 figures (issue 16), after the older columns so their positions stay. */
const EXTRA = [
  'gbps_median_ci_low',
  'gbps_median_ci_high',
  'gbps_median_ci_coverage',
  'udp_offered_gbps',
  'udp_sent_gbps_median',
  'udp_sender_limited',
];

function summaryCsv(m: ReportModel): string {
  const header = [
    'scheme',
    'stand_in',
    'stand_in_what',
    'status',
    'test',
    'protocol',
    'streams',
    'placement',
    'runs_ok',
    'runs_failed',
    'gbps_median',
    'gbps_mean',
    'gbps_ci95_low',
    'gbps_ci95_high',
    'gbps_cv',
    'vs_host',
    'vs_host_ci95_low',
    'vs_host_ci95_high',
    'vs_host_significant',
    'loss_percent_median',
    'jitter_ms_median',
    'retransmits_median',
    'latency_us_median',
    'latency_kind',
    'p99_us_median',
    'cpu_s_per_gbit_median',
    'cpu_user_per_gbit',
    'cpu_system_per_gbit',
    'cpu_softirq_per_gbit',
    'cpu_irq_per_gbit',
    'mtu',
    'encap_bytes',
    'layout',
    ...EXTRA,
  ];
  const rows: Cell[][] = [];
  for (const s of m.schemes) {
    const si = [s.standIn ? STAND_IN_MARK : '', s.standIn?.what];
    if (!s.rec.tests.length)
      rows.push([
        s.rec.name,
        ...si,
        s.rec.status,
        '',
        '',
        '',
        '',
        0,
        0,
        ...Array(header.length - EXTRA.length - 13).fill(undefined),
        s.path.workloadMtu,
        s.path.encapBytes,
        s.path.fabric,
        ...EXTRA.map(() => undefined),
      ]);
    for (const t of s.rec.tests) {
      const g = t.summary?.gbps;
      const c = cpuSplit(t);
      const line = s.line.tests.find((x) => x.id === t.id);
      const failed = t.runs.filter((r) => !r.ok).length;
      const retrans = samples(t, (r) => r.retransmits);
      const lat = latencyFigure(t);
      const d = t.vsHostDiff;
      rows.push([
        s.rec.name,
        ...si,
        s.rec.status,
        t.id,
        t.protocol,
        t.streams,
        t.placement,
        t.runs.length - failed,
        failed,
        g?.median,
        g?.mean,
        g?.ci95[0],
        g?.ci95[1],
        g?.cv,
        t.vsHost?.value,
        t.vsHost?.ci95[0],
        t.vsHost?.ci95[1],
        d && d.method !== 'none' && !s.baseline ? d.significant : undefined,
        t.summary?.lossPercent?.median,
        t.summary?.jitterMs?.median,
        retrans.length ? median(retrans) : undefined,
        lat?.median,
        lat ? (t.latencySummary?.p50Us ? 'p50_rtt' : 'half_rtt_mean') : undefined,
        t.latencySummary?.p99Us?.median,
        t.summary?.cpuSecondsPerGbit?.median,
        c?.user,
        c?.system,
        c?.softirq,
        c?.irq,
        s.path.workloadMtu,
        s.path.encapBytes,
        s.path.fabric,
        g?.medianCi?.[0],
        g?.medianCi?.[1],
        g?.medianCiCoverage,
        line?.offeredGbps,
        line?.sentGbps,
        line?.senderLimited,
      ]);
    }
  }
  return toCsv(header, rows);
}

function runsCsv(r: ResultFile): string {
  const header = [
    'scheme',
    'test',
    'repeat',
    'started_at',
    'ok',
    'error',
    'outlier',
    'gbps',
    'bytes',
    'retransmits',
    'loss_percent',
    'jitter_ms',
    'cpu_user_s',
    'cpu_system_s',
    'cpu_softirq_s',
    'cpu_irq_s',
    'cpu_steal_s',
    'cpu_busy_s',
    'cpu_s_per_gbit',
    'p50_us',
    'p90_us',
    'p99_us',
    'p999_us',
    'max_us',
    'qperf_latency_us',
    'transactions',
    'cpu_s_per_1k_transactions',
    'load_gbps',
    'send_gbps',
    'max_rate_mbps',
    'affinity_client',
    'affinity_server',
  ];
  const rows: Cell[][] = r.schemes.flatMap((s) =>
    s.tests.flatMap((t) =>
      t.runs.map((x) => [
        s.name,
        t.id,
        x.repeat,
        x.startedAt,
        x.ok,
        x.error,
        x.outlier ?? false,
        x.gbps,
        x.bytes,
        x.retransmits,
        x.lossPercent,
        x.jitterMs,
        x.cpu?.user,
        x.cpu?.system,
        x.cpu?.softirq,
        x.cpu?.irq,
        x.cpu?.steal,
        x.cpu?.busy,
        x.cpuSecondsPerGbit,
        x.latency?.p50Us,
        x.latency?.p90Us,
        x.latency?.p99Us,
        x.latency?.p999Us,
        x.latency?.maxUs,
        x.latencyUs,
        x.transactions,
        x.cpuSecondsPer1kTransactions,
        x.load?.ok ? x.load.gbps : undefined,
        x.sendGbps,
        x.maxRateMbps,
        x.affinity?.client,
        x.affinity?.server,
      ]),
    ),
  );
  return toCsv(header, rows);
}

/** Every CSV the reports offer: the summary, each run, and one per optional figure present. */
export function csvFiles(result: ResultFile, model: ReportModel = buildModel(result)): CsvFile[] {
  return [
    { name: 'summary.csv', title: 'summary per scheme and test', text: summaryCsv(model) },
    { name: 'runs.csv', title: 'every run', text: runsCsv(result) },
    ...extraCsv(result).map((x) => ({ name: x.name, title: x.title, text: toCsv(x.header, x.rows) })),
  ];
}
