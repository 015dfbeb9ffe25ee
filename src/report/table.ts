import Table from 'cli-table3';
import type { ResultFile } from '../result/types.js';
import { summarizeResult, type TestLine } from './summary.js';

/** The terminal table: one row per scheme and placement, figures from the result file alone. */

const num = (v: number | undefined, digits = 2) => (v === undefined ? '–' : v.toFixed(digits));

function gbpsCell(t: TestLine | undefined): string {
  if (!t) return '–';
  if (t.gbps === undefined) return t.failedRuns ? 'failed' : '–';
  // One good run has no interval: show the figure alone rather than a misleading "± 0".
  if (!t.ci95 || t.runs - t.failedRuns < 2) return num(t.gbps);
  return `${num(t.gbps)} ± ${num((t.ci95[1] - t.ci95[0]) / 2)}`;
}

function pctCell(t: TestLine | undefined): string {
  return t?.vsHost === undefined ? '–' : `${Math.round(t.vsHost * 100)}%`;
}

export function renderTable(result: ResultFile): string {
  const o = result.options;
  const table = new Table({
    head: ['scheme', 'path', 'TCP Gbit/s ± CI', '% of host', 'TCP×4 Gbit/s', 'UDP loss', 'CPU-s/Gbit', 'notes'],
    style: { head: [], border: [] },
    chars: { mid: '', 'left-mid': '', 'mid-mid': '', 'right-mid': '' },
  });
  for (const s of summarizeResult(result)) {
    if (s.status !== 'ok' || !s.tests.length) {
      // No colSpan: cli-table3 draws stray border pieces around spanned cells.
      table.push([s.name, '', s.status, '', '', '', '', [s.reason, ...s.notes].filter(Boolean).join('; ')]);
      continue;
    }
    for (const placement of ['cross', 'same']) {
      const get = (kind: string) => s.tests.find((t) => t.id === `${kind}/${placement}`);
      const tcp = get('tcp-1');
      const udp = get('udp');
      if (!tcp && !udp) continue;
      const failed = s.tests.filter((t) => t.id.endsWith(placement)).reduce((n, t) => n + t.failedRuns, 0);
      const notes = [...(placement === 'cross' ? s.notes : []), failed ? `${failed} failed runs: ${s.tests.flatMap((t) => t.errors)[0]}` : ''];
      table.push([
        placement === 'cross' ? s.name : '',
        `${placement}-host`,
        gbpsCell(tcp),
        pctCell(tcp),
        gbpsCell(get('tcp-4')),
        udp?.lossPercent === undefined ? '–' : `${num(udp.lossPercent)}%`,
        num(tcp?.cpuSecondsPerGbit, 3),
        notes.filter(Boolean).join('; '),
      ]);
    }
  }
  const head = `cnlab: ${result.options.tests.length} tests × ${o.repeats} repeats × ${o.seconds} s, UDP at ${o.udpRate}; median and 95% CI; kernel ${result.environment.kernel}, ${result.environment.cpus} CPUs, underlay MTU ${result.topology.underlay.mtu}${result.topology.underlay.rate ? `, link ${result.topology.underlay.rate}` : ''}`;
  return `${head}\n${table.toString()}\n`;
}
