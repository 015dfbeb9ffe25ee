import type { ResultFile } from '../result/types.js';
import type { ChartSpec } from './charts.js';
import { esc } from './escape.js';
import type { ReportModel } from './figures.js';

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
function encapRows(r: ResultFile): Array<{ scheme: string; host: string; c: NonNullable<ResultFile['schemes'][number]['encapCounters']>[string] }> {
  return r.schemes.flatMap((s) => Object.entries(s.encapCounters ?? {}).map(([host, c]) => ({ scheme: s.name, host, c })));
}

const overheadPct = (bytes: number, datagramBytes: number) => (bytes > 0 ? ((datagramBytes / bytes - 1) * 100).toFixed(1) : '–');
const drops = (d: Record<string, number>) => Object.entries(d).filter(([, n]) => n > 0).map(([k, n]) => `${k} ${n}`).join(', ') || 'none';

export function extraCsv(r: ResultFile): ExtraCsv[] {
  const out: ExtraCsv[] = [];
  const encap = encapRows(r);
  if (encap.length) {
    out.push({
      name: 'encap-counters.csv',
      title: 'userspace encapsulation counters',
      header: ['scheme', 'host', 'dev', 'mode', 'encrypted', 'batching', 'tx_packets', 'tx_bytes', 'tx_datagrams', 'tx_datagram_bytes', 'rx_packets', 'rx_bytes', 'rx_datagrams', 'rx_datagram_bytes', 'multi_frame_batches', 'max_frames', 'drops', 'daemon_cpu_user_s', 'daemon_cpu_system_s'],
      rows: encap.map(({ scheme, host, c }) => [scheme, host, c.dev, c.mode, c.encrypted, c.batching, c.tx?.packets, c.tx?.bytes, c.tx?.datagrams, c.tx?.datagramBytes, c.rx?.packets, c.rx?.bytes, c.rx?.datagrams, c.rx?.datagramBytes, c.batches?.multiFrame, c.batches?.maxFrames, drops(c.drops ?? {}), c.cpuSeconds?.user, c.cpuSeconds?.system]),
    });
  }
  return out;
}

export function extraHtml(r: ResultFile): ExtraSection[] {
  const out: ExtraSection[] = [];
  const encap = encapRows(r);
  if (encap.length) {
    const rows = encap
      .map(
        ({ scheme, host, c }) =>
          `<tr><td>${esc(scheme)}</td><td>${esc(host)}</td><td class="mono">${esc(c.dev)} (${esc(c.mode)})</td><td>${c.encrypted ? 'yes' : 'no'}</td><td class="num">${esc(c.tx?.packets)}</td><td class="num">${esc(c.rx?.packets)}</td><td class="num">${overheadPct(c.tx?.bytes ?? 0, c.tx?.datagramBytes ?? 0)}%</td><td class="num">${esc(c.batches?.multiFrame ?? 0)}</td><td>${esc(drops(c.drops ?? {}))}</td><td class="num">${((c.cpuSeconds?.user ?? 0) + (c.cpuSeconds?.system ?? 0)).toFixed(2)}</td></tr>`,
      )
      .join('');
    out.push({
      id: 'encap',
      title: 'Userspace encapsulation daemons',
      html: `<p class="sub">Counters of cnlab's encapsulation daemon on each host, read after the tests: what went through the TUN/TAP device, the bytes the encapsulation added, batching, drops by reason and the daemon's own CPU time.</p><div class="tablewrap"><table><thead><tr><th>scheme</th><th>host</th><th>device</th><th>encrypted</th><th class="num">tx packets</th><th class="num">rx packets</th><th class="num">added bytes</th><th class="num">multi-frame datagrams</th><th>drops</th><th class="num">daemon CPU-s</th></tr></thead><tbody>${rows}</tbody></table></div>`,
    });
  }
  return out;
}

export function extraMarkdown(r: ResultFile): string[] {
  const encap = encapRows(r);
  if (!encap.length) return [];
  return [
    '**Userspace encapsulation daemons**',
    '',
    ...encap.map(({ scheme, host, c }) => `- ${scheme.replace(/[<>]/g, '')} ${host.replace(/[<>]/g, '')}: tx ${c.tx?.packets ?? 0} packets (+${overheadPct(c.tx?.bytes ?? 0, c.tx?.datagramBytes ?? 0)}% bytes), rx ${c.rx?.packets ?? 0}, drops: ${drops(c.drops ?? {}).replace(/[<>]/g, '')}`),
    '',
  ];
}

export function extraCharts(_model: ReportModel): Array<ChartSpec | undefined> {
  return [];
}
