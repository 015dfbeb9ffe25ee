import { median } from 'simple-statistics';
import type { Placement, ResultFile, RunRecord, SchemeRecord, TestRecord, TestSpec } from '../result/types.js';
import type { StandIn } from '../plan/types.js';
import { packetPath, type PacketPath } from './path.js';
import { markedName, standInOf } from './stand-in.js';
import { summarizeResult, type SchemeLine, type TestLine } from './summary.js';

/**
 * Pure: the figures every report shows, read from the result file alone — one view per scheme
 * (its summary lines from summary.ts, its packet path, its raw per-run values) and helpers that
 * pick tests and per-run samples. Charts, verdicts, Markdown and CSV all read these.
 */

export interface SchemeView {
  rec: SchemeRecord;
  line: SchemeLine;
  path: PacketPath;
  /** The host baseline (attach "none"). */
  baseline: boolean;
  /** Colour used for this scheme in every chart. */
  color: string;
  /** What stands in for the product here (stand-in.ts), when something does. */
  standIn?: StandIn;
  /** The name every report shows: with STAND_IN_MARK for a stand-in. */
  label: string;
}

export interface ReportModel {
  result: ResultFile;
  schemes: SchemeView[];
  /** Schemes that were measured (status ok, at least one test with a figure). */
  measured: SchemeView[];
  host?: SchemeView;
  placements: Placement[];
}

/** Colour-blind-friendly palette (Okabe–Ito, then Tableau), the baseline always grey. */
const PALETTE = [
  '#0072B2',
  '#E69F00',
  '#009E73',
  '#CC79A7',
  '#D55E00',
  '#56B4E9',
  '#9467BD',
  '#8C564B',
  '#F0E442',
  '#17BECF',
  '#BCBD22',
  '#1F77B4',
  '#FF7F0E',
  '#2CA02C',
  '#D62728',
];
export const BASELINE_COLOR = '#6B7280';

export function buildModel(result: ResultFile): ReportModel {
  const lines = summarizeResult(result);
  let k = 0;
  const schemes = result.schemes.map((rec, i) => {
    const baseline = rec.attach === 'none';
    return {
      rec,
      line: lines[i],
      path: packetPath(rec, result.topology),
      baseline,
      color: baseline ? BASELINE_COLOR : PALETTE[k++ % PALETTE.length],
      standIn: standInOf(rec),
      label: markedName(rec),
    };
  });
  const measured = schemes.filter((s) => s.rec.status === 'ok' && s.line.tests.some((t) => t.gbps !== undefined));
  const ok = schemes.filter((s) => s.baseline && s.rec.status === 'ok');
  const host = ok.find((s) => s.rec.name === 'host') ?? ok[0];
  const placements = (['cross', 'same'] as const).filter((p) => result.schemes.some((s) => s.tests.some((t) => t.placement === p)));
  return { result, schemes, measured, host, placements };
}

export function testOf(s: SchemeView, id: string): TestRecord | undefined {
  return s.rec.tests.find((t) => t.id === id);
}

export function lineOf(s: SchemeView, id: string): TestLine | undefined {
  return s.line.tests.find((t) => t.id === id);
}

/** The ids of the tests in the result, in the order the run defined them. */
export function testIds(result: ResultFile, filter: (t: TestSpec) => boolean = () => true): string[] {
  const ids = new Set<string>();
  for (const t of result.options.tests) if (filter(t)) ids.add(t.id);
  for (const s of result.schemes) for (const t of s.tests) if (filter(t)) ids.add(t.id);
  return [...ids];
}

/** An iperf3 bulk test (TCP streams, UDP at a rate): not a sweep point of another figure. */
export function isBulk(t: TestSpec): boolean {
  return (t.kind ?? 'iperf3') === 'iperf3' && (!t.sweep || t.sweep.param === 'streams');
}

/** The headline test of a placement: iperf3 TCP with one stream (unpinned first), else any iperf3 TCP test. */
export function headlineTest(result: ResultFile, placement: Placement): string | undefined {
  const tcp = testIds(result, (t) => isBulk(t) && t.protocol === 'tcp' && t.placement === placement);
  const specs = tcp.map((id) => specOf(result, id)!);
  const one = specs.filter((t) => t.streams === 1);
  return (one.find((t) => t.pin !== true) ?? one[0] ?? specs[0])?.id;
}

/**
 * The latency test of a placement: sockperf ping-pong without load that has figures (TCP first),
 * else the quick run's qperf latency test (udp-lat: half the round trip, one mean per run).
 */
export function latencyTest(result: ResultFile, placement: Placement): string | undefined {
  const measured = (id: string) => result.schemes.some((s) => s.tests.some((t) => t.id === id && latencyFigure(t) !== undefined));
  const ids = testIds(result, (t) => t.kind === 'sockperf' && !t.underLoad && t.placement === placement).filter(measured);
  const sock = ids.find((id) => specOf(result, id)?.protocol === 'tcp') ?? ids[0];
  if (sock) return sock;
  return testIds(result, (t) => t.kind === 'qperf' && !t.sweep && /_lat$/.test(t.qperfTest ?? '') && t.placement === placement).filter(
    measured,
  )[0];
}

/** How a latency test's main figure reads: sockperf's p50 round trip, or qperf's half round trip. */
export interface LatencyFigure {
  /** The median over runs, µs. */
  median: number;
  /** Per run, µs. */
  pick(r: RunRecord): number | undefined;
  /** "p50 round trip" or "½ round trip (qperf mean)". */
  what: string;
  short: string;
}

export function latencyFigure(t: TestRecord | undefined): LatencyFigure | undefined {
  const l = t?.latencySummary;
  if (l?.p50Us) return { median: l.p50Us.median, pick: (r) => r.latency?.p50Us, what: 'p50 round trip', short: 'p50 RTT' };
  if (l?.latencyUs)
    return { median: l.latencyUs.median, pick: (r) => r.latencyUs, what: 'half round trip (qperf, mean of each run)', short: '½ RTT' };
  return undefined;
}

/** Per-run values of the runs that succeeded. */
export function samples(t: TestRecord | undefined, pick: (r: RunRecord) => number | undefined): number[] {
  if (!t) return [];
  return t.runs
    .filter((r) => r.ok)
    .map(pick)
    .filter((v): v is number => v !== undefined && Number.isFinite(v));
}

export const gbpsSamples = (t: TestRecord | undefined) => samples(t, (r) => r.gbps);

export interface CpuSplit {
  user: number;
  system: number;
  softirq: number;
  irq: number;
  /** user + system + softirq + irq: the median of the runs' busy CPU-seconds per Gbit (the table's figure). */
  total: number;
  runs: number;
}

/**
 * CPU-seconds per Gbit moved, split by where it went. One aggregation everywhere (issue 16): the
 * total is the median over runs of each run's busy CPU per Gbit — the table's figure — and the
 * parts are that total shared out as the median run splits it (the mean of the two middle runs'
 * shares for an even count). So the chart's stacked bar ends exactly at the table's figure.
 */
export function cpuSplit(t: TestRecord | undefined): CpuSplit | undefined {
  const runs = (t?.runs ?? []).filter((r) => r.ok && r.cpu && r.bytes && r.bytes > 0);
  if (!runs.length) return undefined;
  const perGbit = (r: RunRecord) => r.cpu!.busy / ((r.bytes! * 8) / 1e9);
  const sorted = [...runs].sort((a, b) => perGbit(a) - perGbit(b));
  const n = sorted.length;
  const middle = n % 2 ? [sorted[(n - 1) / 2]] : [sorted[n / 2 - 1], sorted[n / 2]];
  const total = median(runs.map(perGbit));
  const share = (pick: (r: RunRecord) => number) =>
    (middle.reduce((sum, r) => sum + (r.cpu!.busy > 0 ? pick(r) / r.cpu!.busy : 0), 0) / middle.length) * total;
  const user = share((r) => r.cpu!.user);
  const system = share((r) => r.cpu!.system);
  const softirq = share((r) => r.cpu!.softirq);
  const irq = share((r) => r.cpu!.irq);
  return { user, system, softirq, irq, total, runs: n };
}

/** Bytes as 64 B, 1 KiB, 64 KiB. */
export const bytesText = (n: number): string => (n >= 1024 && n % 1024 === 0 ? `${n / 1024} KiB` : `${n} B`);

/** "tcp-1/cross" → "TCP, 1 stream, cross-host"; every test kind gets a readable title. */
export function testTitle(t: TestSpec | undefined, id = ''): string {
  if (!t) return id;
  const kind = t.kind ?? 'iperf3';
  let what: string;
  if (kind === 'qperf') what = `qperf ${t.qperfTest ?? t.protocol}${t.msgSize ? `, ${bytesText(t.msgSize)}` : ''}`;
  else if (kind === 'sockperf')
    what = `${t.protocol.toUpperCase()} round trip${t.msgSize ? ` (${t.msgSize} B)` : ''}${t.underLoad ? ` under ${t.underLoad.streams}-stream load` : ''}`;
  else if (kind === 'udp-rate-sweep') what = `UDP rate for < ${t.lossLimitPercent ?? 1}% loss`;
  else if (t.protocol === 'udp')
    what = `UDP${t.udpRate ? ` at ${t.udpRate}bit/s` : ''}${t.length ? `, ${bytesText(t.length)} datagrams` : ''}`;
  else what = `TCP, ${t.streams} stream${t.streams === 1 ? '' : 's'}${t.length ? `, ${bytesText(t.length)} writes` : ''}`;
  const pin = t.pin === undefined ? '' : t.pin ? ', pinned' : ', unpinned';
  return `${what}${pin}, ${t.placement}-host`;
}

export function specOf(result: ResultFile, id: string): TestSpec | undefined {
  return result.options.tests.find((t) => t.id === id) ?? result.schemes.flatMap((s) => s.tests).find((t) => t.id === id);
}

/** The environment knobs of a run, for header lines: "preset s1-cloud · CPUs 0 · pinned · offloads off". */
export function knobsText(r: ResultFile): string {
  const o = r.options;
  const k = o.knobs;
  const parts: string[] = [];
  if (o.preset) parts.push(`preset ${o.preset}`);
  if (k?.cpus) parts.push(`CPUs ${k.cpus}`);
  if (k) parts.push(k.pin ? 'pinned' : 'unpinned');
  if (k?.offloads) parts.push(`offloads ${k.offloads}`);
  if (k?.linkRate) parts.push(`link ${k.linkRate}`);
  if (o.warmupSeconds) parts.push(`${o.warmupSeconds} s warm-up`);
  return parts.join(' · ');
}

export const fmt = (v: number | undefined, digits = 2): string => (v === undefined || !Number.isFinite(v) ? '–' : v.toFixed(digits));
export const pct = (v: number | undefined, digits = 0): string =>
  v === undefined || !Number.isFinite(v) ? '–' : `${(v * 100).toFixed(digits)}%`;
/** A signed percentage: +7%, −23%. */
export const signedPct = (v: number, digits = 0): string => `${v >= 0 ? '+' : '−'}${Math.abs(v * 100).toFixed(digits)}%`;

/** Loss: one rounding rule in every report — one decimal, two below 1%. */
export function lossText(v: number): string {
  return `${v.toFixed(v < 1 ? 2 : 1)}%`;
}
