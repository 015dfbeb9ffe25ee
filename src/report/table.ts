import Table from 'cli-table3';
import type { ResultFile, RunKnobs, SchemeRecord, TestRecord } from '../result/types.js';
import { MEDIAN_CI_TEXT, medianText, sampleText, summarizeResult, type TestLine } from './summary.js';

/**
 * The terminal table: one row per scheme and placement, figures from the result file alone.
 * Columns for figures the run did not take (TCP×4, latency) are left out. A scheme whose
 * difference to the host is not significant reads "≈ host (not significant)". Sweeps (message
 * size, streams, datagram size) follow as one line per scheme and series.
 */

const num = (v: number | undefined, digits = 2) => (v === undefined ? '–' : v.toFixed(digits));

function gbpsCell(t: TestLine | undefined): string {
  if (!t) return '–';
  if (t.gbps === undefined) return t.failedRuns ? 'failed' : '–';
  // The median with its own interval (order statistics); one good run has none: the figure alone.
  return medianText(t);
}

function pctCell(t: TestLine | undefined, rec: TestRecord | undefined, isHost: boolean): string {
  if (t?.vsHost === undefined) return '–';
  if (!isHost && rec?.vsHostDiff && rec.vsHostDiff.method !== 'none' && !rec.vsHostDiff.significant) return '≈ host (not significant)';
  return `${Math.round(t.vsHost * 100)}%`;
}

function latencyCell(rec: TestRecord | undefined, hostRec: TestRecord | undefined, isHost: boolean): string {
  const l = rec?.latencySummary;
  if (!rec) return '–';
  const same = !isHost && hostRec && rec.vsHostDiff && rec.vsHostDiff.method !== 'none' && !rec.vsHostDiff.significant ? ' ≈ host' : '';
  if (l?.p50Us && l.p99Us) return `${num(l.p50Us.median, 1)} / ${num(l.p99Us.median, 0)}${same}`;
  if (l?.latencyUs) return `${num(l.latencyUs.median, 1)}${same}`;
  return rec.runs.some((r) => !r.ok) ? 'failed' : '–';
}

/**
 * Offered, sent and received side by side: "0.95/0.94, 1.10%". A sender that never reached the
 * offered rate had nothing to lose: its loss is no figure of the path, and the cell says so.
 */
function udpCell(t: TestLine | undefined): string {
  if (!t) return '–';
  if (t.gbps === undefined) return t.failedRuns ? 'failed' : '–';
  const rates = `${num(t.sentGbps)}/${num(t.gbps)}`;
  return `${rates}, ${t.lossPercent === undefined ? '–' : `${num(t.lossPercent)}%`}${t.senderLimited ? ', sender-limited' : ''}`;
}

/** The knobs as the header's words. */
export function knobsText(k: RunKnobs): string {
  return [`CPUs ${k.cpus ?? 'all'}`, k.pin ? 'pinned' : 'not pinned', `offloads ${k.offloads ?? 'default'}`, `MTU ${k.mtu}`, `link ${k.linkRate ?? 'unlimited'}`].join(', ');
}

/** The headline test of a kind in a placement: "tcp-1", else its pinned variant, else none. */
function pick(s: SchemeRecord, names: string[], placement: string): TestRecord | undefined {
  for (const n of names) {
    const t = s.tests.find((x) => x.id === `${n}/${placement}`);
    if (t) return t;
  }
  return undefined;
}

const TCP = ['tcp-1', 'tcp-1-pinned', 'tcp-1-unpinned'];
const UDP = ['udp', 'udp-pinned', 'udp-unpinned'];
/** sockperf round-trip percentiles first; else the quick run's qperf latency (half the round trip). */
const LAT = ['lat-tcp', 'lat-udp', 'udp-lat'];

function sweepLines(result: ResultFile): string[] {
  const out: string[] = [];
  const series = new Map<string, Map<string, Array<{ x: number; v?: number }>>>();
  for (const s of result.schemes) {
    for (const t of s.tests) {
      if (!t.sweep) continue;
      const label = `${t.sweep.series}, ${t.placement}-host`;
      const byScheme = series.get(label) ?? new Map();
      series.set(label, byScheme);
      const v = t.summary?.gbps.median ?? t.latencySummary?.latencyUs?.median ?? t.latencySummary?.p50Us?.median;
      byScheme.set(s.name, [...(byScheme.get(s.name) ?? []), { x: t.sweep.value, v }]);
    }
  }
  for (const [label, byScheme] of series) {
    const first = [...byScheme.values()][0];
    const isLatency = /_lat/.test(label);
    out.push(`${label} (${isLatency ? 'µs' : 'Gbit/s'} by ${result.schemes.flatMap((s) => s.tests).find((t) => t.sweep && `${t.sweep.series}, ${t.placement}-host` === label)?.sweep?.param}: ${first.map((p) => p.x).join(' ')})`);
    for (const [scheme, pts] of byScheme) out.push(`  ${scheme.padEnd(16)} ${pts.map((p) => (p.v === undefined ? '–' : p.v.toPrecision(3))).join(' ')}`);
  }
  return out;
}

export function renderTable(result: ResultFile): string {
  const o = result.options;
  const all = result.schemes.flatMap((s) => s.tests);
  const withTcp4 = all.some((t) => t.id.startsWith('tcp-4/')) || o.tests.some((t) => t.id.startsWith('tcp-4/'));
  const withLatency = all.some((t) => LAT.some((n) => t.id.startsWith(`${n}/`)));
  const sockperfLatency = all.some((t) => t.id.startsWith('lat-tcp/') || t.id.startsWith('lat-udp/'));
  const head = ['scheme', 'path', 'TCP Gbit/s [interval]', 'retr/run', '% of host', ...(withTcp4 ? ['TCP×4 Gbit/s'] : []), `UDP at ${o.udpRate}: sent/rcvd Gbit/s, loss`, ...(withLatency ? [sockperfLatency ? 'latency p50/p99 µs' : 'UDP latency µs (½ RTT)'] : []), 'CPU-s/Gbit', 'notes'];
  const table = new Table({ head, style: { head: [], border: [] }, chars: { mid: '', 'left-mid': '', 'mid-mid': '', 'right-mid': '' } });
  const host = result.schemes.find((s) => s.name === 'host');
  for (const s of summarizeResult(result)) {
    const rec = result.schemes.find((x) => x.name === s.name)!;
    if (s.status !== 'ok' || !s.tests.length) {
      // No colSpan: cli-table3 draws stray border pieces around spanned cells.
      table.push([s.name, '', s.status, ...head.slice(4, -1).map(() => ''), '', [s.reason, ...s.notes].filter(Boolean).join('; ')].slice(0, head.length));
      continue;
    }
    let firstRow = true;
    for (const placement of ['cross', 'same']) {
      const tcpRec = pick(rec, TCP, placement);
      const udpRec = pick(rec, UDP, placement);
      const latRec = pick(rec, LAT, placement);
      const line = (t: TestRecord | undefined) => (t ? s.tests.find((x) => x.id === t.id) : undefined);
      if (!rec.tests.some((t) => t.placement === placement)) continue;
      const failed = s.tests.filter((t) => t.id.endsWith(placement)).reduce((n, t) => n + t.failedRuns, 0);
      // The scheme's notes (a stand-in's label above all) go on its first row, whichever placement that is.
      const notes = [...(firstRow ? s.notes : []), failed ? `${failed} failed runs: ${s.tests.flatMap((t) => t.errors)[0]}` : ''];
      const tcp = line(tcpRec);
      const udp = line(udpRec);
      table.push([
        firstRow ? s.name : '',
        `${placement}-host`,
        gbpsCell(tcp),
        num(tcp?.retransmits, 0),
        pctCell(tcp, tcpRec, rec === host),
        ...(withTcp4 ? [gbpsCell(s.tests.find((t) => t.id === `tcp-4/${placement}`))] : []),
        udpCell(udp),
        ...(withLatency ? [latencyCell(latRec, host && latRec ? pick(host, [latRec.id.split('/')[0]], placement) : undefined, rec === host)] : []),
        num(tcp?.cpuSecondsPerGbit, 3),
        notes.filter(Boolean).join('; '),
      ]);
      firstRow = false;
    }
  }
  const first = `cnlab: ${o.tests.length} tests × ${o.repeats} repeats × ${o.seconds} s, UDP at ${o.udpRate}; ${MEDIAN_CI_TEXT}; kernel ${result.environment.kernel}, ${result.environment.cpus} CPUs, underlay MTU ${result.topology.underlay.mtu}${result.topology.underlay.rate ? `, link ${result.topology.underlay.rate}` : ''}`;
  const knobs = o.knobs
    ? `knobs: ${knobsText(o.knobs)}${o.warmupSeconds ? `; ${o.warmupSeconds} s warm-up per placement` : ''}${o.preset ? `; preset ${o.preset}` : ''}${o.full ? '; --full' : ''}\n`
    : '';
  const sweeps = sweepLines(result);
  return `${first}\n${knobs}${sampleText(result)}\n${table.toString()}\n${sweeps.length ? `${sweeps.join('\n')}\n` : ''}`;
}
