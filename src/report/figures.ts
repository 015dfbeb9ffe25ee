import { median } from 'simple-statistics';
import type { Placement, ResultFile, RunRecord, SchemeRecord, TestRecord } from '../result/types.js';
import { packetPath, type PacketPath } from './path.js';
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
const PALETTE = ['#0072B2', '#E69F00', '#009E73', '#CC79A7', '#D55E00', '#56B4E9', '#9467BD', '#8C564B', '#F0E442', '#17BECF', '#BCBD22', '#1F77B4', '#FF7F0E', '#2CA02C', '#D62728'];
export const BASELINE_COLOR = '#6B7280';

export function buildModel(result: ResultFile): ReportModel {
  const lines = summarizeResult(result);
  let k = 0;
  const schemes = result.schemes.map((rec, i) => {
    const baseline = rec.attach === 'none';
    return { rec, line: lines[i], path: packetPath(rec, result.topology), baseline, color: baseline ? BASELINE_COLOR : PALETTE[k++ % PALETTE.length] };
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
export function testIds(result: ResultFile, filter: (t: { protocol: string; placement: Placement; streams: number }) => boolean = () => true): string[] {
  const ids = new Set<string>();
  for (const t of result.options.tests) if (filter(t)) ids.add(t.id);
  for (const s of result.schemes) for (const t of s.tests) if (filter(t)) ids.add(t.id);
  return [...ids];
}

/** The headline test of a placement: TCP with one stream, else the first TCP test. */
export function headlineTest(result: ResultFile, placement: Placement): string | undefined {
  const tcp = testIds(result, (t) => t.protocol === 'tcp' && t.placement === placement);
  return tcp.find((id) => id.startsWith('tcp-1/')) ?? tcp[0];
}

/** Per-run values of the runs that succeeded. */
export function samples(t: TestRecord | undefined, pick: (r: RunRecord) => number | undefined): number[] {
  if (!t) return [];
  return t.runs.filter((r) => r.ok).map(pick).filter((v): v is number => v !== undefined && Number.isFinite(v));
}

export const gbpsSamples = (t: TestRecord | undefined) => samples(t, (r) => r.gbps);

export interface CpuSplit {
  user: number;
  system: number;
  softirq: number;
  irq: number;
  /** user + system + softirq + irq */
  total: number;
  runs: number;
}

/** CPU-seconds per Gbit moved, split by where it went: the median over runs of each part. */
export function cpuSplit(t: TestRecord | undefined): CpuSplit | undefined {
  const runs = (t?.runs ?? []).filter((r) => r.ok && r.cpu && r.bytes && r.bytes > 0);
  if (!runs.length) return undefined;
  const per = (pick: (r: RunRecord) => number) => median(runs.map((r) => pick(r) / ((r.bytes! * 8) / 1e9)));
  const user = per((r) => r.cpu!.user);
  const system = per((r) => r.cpu!.system);
  const softirq = per((r) => r.cpu!.softirq);
  const irq = per((r) => r.cpu!.irq);
  return { user, system, softirq, irq, total: user + system + softirq + irq, runs: runs.length };
}

/** "tcp-1/cross" → "TCP, 1 stream, cross-host". */
export function testTitle(t: { protocol: string; streams: number; placement: Placement; udpRate?: string } | undefined, id = ''): string {
  if (!t) return id;
  const what = t.protocol === 'udp' ? `UDP${t.udpRate ? ` at ${t.udpRate}bit/s` : ''}` : `TCP, ${t.streams} stream${t.streams === 1 ? '' : 's'}`;
  return `${what}, ${t.placement}-host`;
}

export function specOf(result: ResultFile, id: string): { protocol: string; streams: number; placement: Placement; udpRate?: string } | undefined {
  return result.options.tests.find((t) => t.id === id) ?? result.schemes.flatMap((s) => s.tests).find((t) => t.id === id);
}

export const fmt = (v: number | undefined, digits = 2): string => (v === undefined || !Number.isFinite(v) ? '–' : v.toFixed(digits));
export const pct = (v: number | undefined, digits = 0): string => (v === undefined || !Number.isFinite(v) ? '–' : `${(v * 100).toFixed(digits)}%`);
/** A signed percentage: +7%, −23%. */
export const signedPct = (v: number, digits = 0): string => `${v >= 0 ? '+' : '−'}${Math.abs(v * 100).toFixed(digits)}%`;
