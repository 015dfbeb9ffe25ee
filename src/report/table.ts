import { convergenceLines } from './convergence.js';
import Table from 'cli-table3';
import type { ResultFile, RunKnobs, SchemeRecord, TestRecord } from '../result/types.js';
import { SAME_HOST_TEXT } from './baseline.js';
import { SIGNIFICANCE_TEXT } from './significance.js';
import { markedName, STAND_IN_LEGEND, standInOf } from './stand-in.js';
import { lossText } from './figures.js';
import { medianText, sampleText, summarizeResult, type TestLine } from './summary.js';
import { onlySweeps, renderSweepTable } from './sweep-headlines.js';
import { hostLines } from './hosts.js';

export { lossText };

/**
 * The terminal table: one row per scheme and placement, figures from the result file alone.
 * Columns for figures the run did not take (TCP×4, latency) are left out. A figure whose
 * difference to the host is not significant reads "≈ 72%" (the sign, then the figure). Notes become
 * numbered footnotes under the table, stand-ins carry STAND_IN_MARK, and the whole fits the
 * terminal's width where it can. Sweeps (message size, streams, datagram size) follow as one line
 * per scheme and series.
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
  if (!isHost && rec?.vsHostDiff && rec.vsHostDiff.method !== 'none' && !rec.vsHostDiff.significant)
    return `≈ ${Math.round(t.vsHost * 100)}%`;
  return `${Math.round(t.vsHost * 100)}%`;
}

function latencyCell(rec: TestRecord | undefined, hostRec: TestRecord | undefined, isHost: boolean): string {
  const l = rec?.latencySummary;
  if (!rec) return '–';
  const same = !isHost && hostRec && rec.vsHostDiff && rec.vsHostDiff.method !== 'none' && !rec.vsHostDiff.significant;
  if (l?.p50Us && l.p99Us) return `${same ? '≈ ' : ''}${num(l.p50Us.median, 1)} / ${num(l.p99Us.median, 0)}`;
  if (l?.latencyUs) return `${same ? '≈ ' : ''}${num(l.latencyUs.median, 1)}`;
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
  return `${rates}, ${t.lossPercent === undefined ? '–' : lossText(t.lossPercent)}${t.senderLimited ? ', sender-limited' : ''}`;
}

/** The knobs as the header's words. */
export function knobsText(k: RunKnobs): string {
  return [
    `CPUs ${k.cpus ?? 'all'}`,
    k.pin ? 'pinned' : 'not pinned',
    `offloads ${k.offloads ?? 'default'}`,
    `MTU ${k.mtu}`,
    `link ${k.linkRate ?? 'unlimited'}`,
  ].join(', ');
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
    out.push(
      `${label} (${isLatency ? 'µs' : 'Gbit/s'} by ${result.schemes.flatMap((s) => s.tests).find((t) => t.sweep && `${t.sweep.series}, ${t.placement}-host` === label)?.sweep?.param}: ${first.map((p) => p.x).join(' ')})`,
    );
    for (const [scheme, pts] of byScheme)
      out.push(`  ${scheme.padEnd(16)} ${pts.map((p) => (p.v === undefined ? '–' : p.v.toPrecision(3))).join(' ')}`);
  }
  return out;
}

/** Wrap `text` to `width` columns, continuation lines indented by `indent`. */
export function wrap(text: string, width: number, indent = 4): string[] {
  const out: string[] = [];
  let line = '';
  for (const word of text.split(/\s+/).filter(Boolean)) {
    const room = width - (out.length ? indent : 0);
    if (line && line.length + 1 + word.length > room) {
      out.push(line);
      line = word;
    } else line = line ? `${line} ${word}` : word;
  }
  if (line) out.push(line);
  return out.map((l, i) => (i ? `${' '.repeat(indent)}${l}` : l));
}

export interface TableOptions {
  /** Terminal width: the table and its footnotes fit in it where they can (default $COLUMNS, else 120). */
  columns?: number;
}

/** The terminal width to fit: the option, else $COLUMNS, else the terminal's own width, else 120. */
export function terminalColumns(o: TableOptions = {}): number {
  const env = Number(process.env.COLUMNS);
  return Math.max(
    40,
    o.columns ?? (Number.isInteger(env) && env > 0 ? env : process.stdout.isTTY && process.stdout.columns ? process.stdout.columns : 120),
  );
}

const widest = (text: string) => Math.max(...text.split('\n').map((l) => [...l].length));

export function renderTable(result: ResultFile, opts: TableOptions = {}): string {
  const columns = terminalColumns(opts);
  const o = result.options;
  const all = result.schemes.flatMap((s) => s.tests);
  const withTcp4 = all.some((t) => t.id.startsWith('tcp-4/')) || o.tests.some((t) => t.id.startsWith('tcp-4/'));
  const withLatency = all.some((t) => LAT.some((n) => t.id.startsWith(`${n}/`)));
  const sockperfLatency = all.some((t) => t.id.startsWith('lat-tcp/') || t.id.startsWith('lat-udp/'));
  const host = result.schemes.find((s) => s.name === 'host');
  // Notes (a stand-in's label above all, failures, reasons) become numbered footnotes under the table.
  const footnotes: string[] = [];
  const noteRef = (text: string) => {
    let i = footnotes.indexOf(text);
    if (i < 0) i = footnotes.push(text) - 1;
    return i + 1;
  };
  let anyNs = false;
  let anyStandIn = false;
  const body: string[][] = [];
  const width = 8 + (withTcp4 ? 1 : 0) + (withLatency ? 1 : 0);
  for (const s of summarizeResult(result)) {
    const rec = result.schemes.find((x) => x.name === s.name)!;
    const standIn = standInOf(rec);
    if (standIn) anyStandIn = true;
    const name = markedName(rec);
    // With a structured stand-in, the notes that only said the same in words are left out.
    const notes = rec.standIn ? s.notes.filter((n) => !standInOf({ notes: [n] })) : s.notes.filter((n) => !standIn || n !== standIn.why);
    const own = [...(standIn ? [rec.standIn ? `stand-in: ${standIn.what} — ${standIn.why}` : `stand-in: ${standIn.why}`] : []), ...notes];
    if (s.status !== 'ok' || !s.tests.length) {
      // No colSpan: cli-table3 draws stray border pieces around spanned cells.
      const refs = [s.reason ?? 'not measured', ...own].map((n) => noteRef(`${name}: ${n}`));
      body.push([name, '', s.status, ...Array(width - 4).fill(''), refs.map((n) => `[${n}]`).join('')]);
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
      // The scheme's notes go on its first row, whichever placement that is.
      const texts = [
        ...(firstRow ? own : []),
        ...(failed ? [`${failed} failed ${placement}-host runs: ${s.tests.flatMap((t) => t.errors)[0]}`] : []),
      ];
      const refs = texts.map((n) => noteRef(`${name}: ${n}`));
      const tcp = line(tcpRec);
      const udp = line(udpRec);
      const pctText = pctCell(tcp, tcpRec, rec === host);
      if (pctText.startsWith('≈')) anyNs = true;
      const lat = withLatency
        ? latencyCell(latRec, host && latRec ? pick(host, [latRec.id.split('/')[0]], placement) : undefined, rec === host)
        : '';
      if (lat.includes('≈')) anyNs = true;
      body.push([
        firstRow ? name : '',
        `${placement}-host`,
        gbpsCell(tcp),
        num(tcp?.retransmits, 0),
        pctText,
        ...(withTcp4 ? [gbpsCell(s.tests.find((t) => t.id === `tcp-4/${placement}`))] : []),
        udpCell(udp),
        ...(withLatency ? [lat] : []),
        num(tcp?.cpuSecondsPerGbit, 3),
        refs.map((n) => `[${n}]`).join(''),
      ]);
      firstRow = false;
    }
  }
  const latHead = sockperfLatency ? 'latency p50/p99 µs' : 'UDP latency µs';
  const head = [
    'scheme',
    'path',
    'TCP Gbit/s',
    'retr/run',
    '% of host',
    ...(withTcp4 ? ['TCP×4 Gbit/s'] : []),
    'UDP sent/rcvd, loss',
    ...(withLatency ? [latHead] : []),
    'CPU-s/Gbit',
    'notes',
  ];
  // Narrower terminals: first less padding, then short path names and headers.
  const attempt = (level: number) => {
    const short = level >= 2;
    const h = short ? head.map((x) => SHORT_HEAD[x] ?? x) : head;
    const pad = level >= 1 ? 0 : 1;
    const table = new Table({
      head: h,
      style: { head: [], border: [], 'padding-left': pad, 'padding-right': pad },
      chars: { mid: '', 'left-mid': '', 'mid-mid': '', 'right-mid': '' },
    });
    // Narrowest: the path without "-host", and the UDP cell's loss without the rates.
    const udpCol = head.indexOf('UDP sent/rcvd, loss');
    for (const row of body)
      table.push(short ? row.map((c, i) => (i === 1 ? c.replace('-host', '') : i === udpCol ? c.replace(/^[^,]*, /, '') : c)) : row);
    return table.toString();
  };
  let text = attempt(0);
  for (let level = 1; level <= 2 && widest(text) > columns; level++) text = attempt(level);
  const legend = [
    "[interval]: the median's own interval (order statistics: 95% from 6 runs; below 6, min–max, 75% at 3 runs).",
    ...(anyStandIn ? [STAND_IN_LEGEND] : []),
    ...(anyNs
      ? [`≈ not significantly different from the host (${SIGNIFICANCE_TEXT}); the figure beside it is still the measured one.`]
      : []),
    ...(result.schemes.some((x) => x.tests.some((t) => t.placement === 'same')) ? [SAME_HOST_TEXT] : []),
    ...(withLatency && !sockperfLatency ? ['UDP latency: qperf udp_lat with 64 B messages, half the round trip, median of the runs.'] : []),
  ];
  const notes = [...legend.flatMap((l) => wrap(l, columns, 2)), ...footnotes.flatMap((f, i) => wrap(`[${i + 1}] ${f}`, columns, 4))];
  const first = `cnlab: ${o.tests.length} tests × ${o.repeats} repeats × ${o.seconds} s, UDP at ${o.udpRate}; median [interval]; kernel ${result.environment.kernel}, ${result.environment.cpus} CPUs, underlay MTU ${result.topology.underlay.mtu}${result.topology.underlay.rate ? `, link ${result.topology.underlay.rate}` : ''}`;
  const knobs = o.knobs
    ? `knobs: ${knobsText(o.knobs)}${o.warmupSeconds ? `; ${o.warmupSeconds} s warm-up per placement` : ''}${o.preset ? `; preset ${o.preset}` : ''}${o.full ? '; --full' : ''}`
    : '';
  const sweeps = [...sweepLines(result), ...convergenceLines(result).flatMap((l) => wrap(l, columns, 4))];
  const header = [
    ...wrap(first, columns, 2),
    ...hostLines(result).flatMap((l) => wrap(l, columns, 2)),
    ...(knobs ? wrap(knobs, columns, 2) : []),
    ...wrap(sampleText(result), columns, 2),
  ];
  const env = `kernel ${result.environment.kernel}, ${result.environment.cpus} CPUs, underlay MTU ${result.topology.underlay.mtu}`;
  // A convergence-only run (--tests converge) measured no traffic: no table of empty rows, its section alone.
  if (!o.tests.length && sweeps.length)
    return `${wrap(`cnlab: convergence only (no traffic tests); ${env}`, columns, 2).join('\n')}\n${sweeps.join('\n')}\n`;
  // A run of sweeps only (s1-cloud) has no single figure for the columns above: its headlines instead.
  const main = onlySweeps(result) ? renderSweepTable(result) : `${text}\n${notes.length ? `${notes.join('\n')}\n` : ''}`;
  return `${header.join('\n')}\n${main}${sweeps.length ? `${sweeps.join('\n')}\n` : ''}`;
}

/** Shorter headers for narrow terminals. */
const SHORT_HEAD: Record<string, string> = {
  'retr/run': 'retr',
  'UDP sent/rcvd, loss': 'UDP loss',
  '% of host': '% host',
  'TCP×4 Gbit/s': 'TCP×4',
  'latency p50/p99 µs': 'p50/p99 µs',
  'UDP latency µs': 'lat µs',
  'CPU-s/Gbit': 'CPU/Gbit',
};
