import Table from 'cli-table3';
import type { ResultFile, SchemeRecord, TestRecord } from '../result/types.js';

/**
 * A run made only of sweeps (preset s1-cloud: qperf tcp_bw and tcp_lat over message sizes) has no
 * single figure per scheme for the table. Its headline figures are the study's: bandwidth at the
 * largest message (64 KiB), latency at the smallest (1 B), CPU-seconds per Gbit at that bandwidth,
 * and S1's ranking of the schemes by CPU load. From the result file alone.
 */

export interface SweepPoint {
  value: number;
  /** The sweep's parameter at that point (message size in bytes, streams, datagram length). */
  at: number;
  param: string;
  testId: string;
}

export interface SweepHeadline {
  scheme: string;
  placement: string;
  /** Throughput at the sweep's largest point, Gbit/s, and as a share of the host's same test. */
  bandwidth?: SweepPoint & { vsHost?: number };
  /** Latency at the sweep's smallest point, µs (qperf: half the round trip). */
  latency?: SweepPoint & { cpuPer1kTransactions?: number };
  /** CPU-seconds per Gbit at the bandwidth point. */
  cpuPerGbit?: number;
}

const isThroughput = (t: TestRecord) => t.summary?.gbps !== undefined;
const latencyOf = (t: TestRecord) => t.latencySummary?.latencyUs?.median ?? t.latencySummary?.p50Us?.median;

/** True when the run has tests and every one of them is a sweep point. */
export function onlySweeps(result: ResultFile): boolean {
  const all = result.schemes.flatMap((s) => s.tests);
  return all.length > 0 && all.every((t) => t.sweep) && result.options.tests.every((t) => t.sweep);
}

/** One scheme's headlines per placement it was measured in. */
export function sweepHeadlines(s: SchemeRecord): SweepHeadline[] {
  const out: SweepHeadline[] = [];
  for (const placement of [...new Set(s.tests.map((t) => t.placement))]) {
    const sweeps = s.tests.filter((t) => t.sweep && t.placement === placement);
    // S1's series first (TCP), then any other of the kind.
    const tcpFirst = (a: TestRecord, b: TestRecord) => Number(b.protocol === 'tcp') - Number(a.protocol === 'tcp');
    const bw = sweeps.filter(isThroughput).sort((a, b) => tcpFirst(a, b) || b.sweep!.value - a.sweep!.value)[0];
    const lat = sweeps.filter((t) => latencyOf(t) !== undefined).sort((a, b) => tcpFirst(a, b) || a.sweep!.value - b.sweep!.value)[0];
    if (!bw && !lat) continue;
    out.push({
      scheme: s.name,
      placement,
      bandwidth: bw && {
        value: bw.summary!.gbps.median,
        at: bw.sweep!.value,
        param: bw.sweep!.param,
        testId: bw.id,
        vsHost: bw.vsHost?.value,
      },
      latency: lat && {
        value: latencyOf(lat)!,
        at: lat.sweep!.value,
        param: lat.sweep!.param,
        testId: lat.id,
        cpuPer1kTransactions: lat.latencySummary?.cpuSecondsPer1kTransactions?.median,
      },
      cpuPerGbit: bw?.summary?.cpuSecondsPerGbit?.median,
    });
  }
  return out;
}

/** S1's ranking by CPU load: least CPU-seconds per Gbit first (schemes without the figure left out). */
export function cpuRanking(result: ResultFile, placement = 'cross'): Array<{ scheme: string; cpuPerGbit: number }> {
  return result.schemes
    .filter((s) => s.status === 'ok')
    .flatMap((s) => sweepHeadlines(s).filter((h) => h.placement === placement && h.cpuPerGbit !== undefined))
    .map((h) => ({ scheme: h.scheme, cpuPerGbit: h.cpuPerGbit! }))
    .sort((a, b) => a.cpuPerGbit - b.cpuPerGbit);
}

/** "64 KiB", "1 B", "4 streams". */
export function pointLabel(p: Pick<SweepPoint, 'at' | 'param'>): string {
  if (p.param === 'streams') return `${p.at} stream${p.at === 1 ? '' : 's'}`;
  return p.at >= 1024 && p.at % 1024 === 0 ? `${p.at / 1024} KiB` : `${p.at} B`;
}

const num = (v: number | undefined, digits: number) => (v === undefined ? '–' : v.toFixed(digits));

/** The terminal table of a sweeps-only run: one row per scheme and placement, then the CPU ranking. */
export function renderSweepTable(result: ResultFile): string {
  const heads = result.schemes.flatMap(sweepHeadlines);
  const bwAt = heads.find((h) => h.bandwidth)?.bandwidth;
  const latAt = heads.find((h) => h.latency)?.latency;
  const head = [
    'scheme',
    'path',
    `bandwidth Gbit/s${bwAt ? ` at ${pointLabel(bwAt)}` : ''}`,
    '% of host',
    `latency µs${latAt ? ` at ${pointLabel(latAt)}` : ''}`,
    'CPU-s/Gbit',
    'CPU rank',
    'notes',
  ];
  const table = new Table({ head, style: { head: [], border: [] }, chars: { mid: '', 'left-mid': '', 'mid-mid': '', 'right-mid': '' } });
  const ranks = new Map<string, number>();
  for (const placement of ['cross', 'same']) cpuRanking(result, placement).forEach((r, i) => ranks.set(`${r.scheme}/${placement}`, i + 1));
  for (const s of result.schemes) {
    const rows = s.status === 'ok' ? sweepHeadlines(s) : [];
    if (!rows.length) {
      table.push([s.name, '', s.status, '', '', '', '', [s.reason, ...s.notes].filter(Boolean).join('; ')]);
      continue;
    }
    rows.forEach((h, i) => {
      const pct =
        s.name === 'host' || h.bandwidth?.vsHost === undefined
          ? s.name === 'host' && h.bandwidth
            ? '100%'
            : '–'
          : `${Math.round(h.bandwidth.vsHost * 100)}%`;
      table.push([
        i === 0 ? s.name : '',
        `${h.placement}-host`,
        num(h.bandwidth?.value, 2),
        pct,
        num(h.latency?.value, 1),
        num(h.cpuPerGbit, 3),
        ranks.has(`${s.name}/${h.placement}`) ? String(ranks.get(`${s.name}/${h.placement}`)) : '–',
        i === 0 ? s.notes.join('; ') : '',
      ]);
    });
  }
  const ranking = cpuRanking(result);
  const line = ranking.length
    ? `CPU ranking (S1: least CPU-seconds per Gbit first${bwAt ? `, at ${pointLabel(bwAt)}` : ''}, cross-host): ${ranking.map((r, i) => `${i + 1}. ${r.scheme} ${r.cpuPerGbit.toFixed(3)}`).join(', ')}\n`
    : '';
  return `${table.toString()}\n${line}`;
}
