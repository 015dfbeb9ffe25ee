import { esc } from './escape.js';
import {
  fmt,
  headlineTest,
  isBulk,
  latencyFigure,
  latencyTest,
  lineOf,
  lossText,
  testIds,
  testOf,
  type ReportModel,
  type SchemeView,
} from './figures.js';
import { latencyGrade, lossGrade, ratioGrade } from './layout.js';
import type { Verdicts } from './verdicts.js';

/**
 * Pure HTML: the one-line headline above the verdict and the verdict as a short table — one row
 * per figure (throughput per placement, UDP loss, latency, CPU; at most five), with the best real
 * datapath, the ones after it, the stand-ins (ranked apart) and the host. Cells are coloured by
 * value, not by whether a test was significant.
 */

interface Entry {
  s: SchemeView;
  value: number;
  text: string;
  grade?: number;
}

interface Row {
  what: string;
  unit: string;
  real: Entry[];
  standIns: Entry[];
  host?: Entry;
  /** The best real entry is not significantly ahead of these. */
  tied: Set<string>;
}

const chip = (e: Entry, tied = false) =>
  `<span class="chip${e.grade === undefined ? '' : ` g${e.grade}`}" title="${esc(e.s.rec.name)}">${esc(e.s.label)} <b>${esc(e.text)}</b>${tied ? ' ≈' : ''}</span>`;

function rowsOf(model: ReportModel, v: Verdicts): Row[] {
  const r = model.result;
  const rows: Row[] = [];
  const split = (es: Entry[], higherIsBetter: boolean) => {
    const sorted = [...es].sort((a, b) => (higherIsBetter ? b.value - a.value : a.value - b.value));
    return {
      real: sorted.filter((e) => !e.s.baseline && !e.s.standIn),
      standIns: sorted.filter((e) => e.s.standIn && !e.s.baseline),
      host: sorted.find((e) => e.s === model.host),
    };
  };
  for (const p of model.placements) {
    const id = headlineTest(r, p);
    if (!id) continue;
    const es = model.measured.flatMap((s): Entry[] => {
      const t = lineOf(s, id);
      if (t?.gbps === undefined) return [];
      const ratio = s.baseline ? undefined : t.vsHost;
      return [
        {
          s,
          value: t.gbps,
          text: `${fmt(t.gbps, 1)} Gbit/s${ratio === undefined ? '' : ` · ${Math.round(ratio * 100)}%`}`,
          grade: ratio === undefined ? undefined : ratioGrade(ratio),
        },
      ];
    });
    if (!es.length) continue;
    const k = v.rankings.find((x) => x.testId === id && !x.standIns);
    const tied = new Set((k?.tiers[0] ?? []).slice(1).filter((n) => n !== model.host?.rec.name));
    rows.push({
      what: `TCP throughput, ${p}-host`,
      unit: p === 'same' ? 'Gbit/s · % of host (loopback)' : 'Gbit/s · % of host',
      ...split(es, true),
      tied,
    });
  }
  const udp = testIds(r, (t) => isBulk(t) && t.protocol === 'udp' && !t.length && t.placement === (model.placements[0] ?? 'cross'))[0];
  if (udp) {
    const es = model.measured.flatMap((s): Entry[] => {
      const loss = lineOf(s, udp)?.lossPercent;
      return loss === undefined ? [] : [{ s, value: loss, text: lossText(loss), grade: lossGrade(loss) }];
    });
    if (es.length)
      rows.push({ what: `UDP loss at ${r.options.udpRate}bit/s`, unit: 'datagrams lost', ...split(es, false), tied: new Set() });
  }
  const lat = model.placements.map((p) => latencyTest(r, p)).find(Boolean);
  if (lat) {
    const hostLat = model.host ? latencyFigure(testOf(model.host, lat))?.median : undefined;
    const es = model.measured.flatMap((s): Entry[] => {
      const f = latencyFigure(testOf(s, lat));
      return f
        ? [
            {
              s,
              value: f.median,
              text: `${fmt(f.median, f.median < 100 ? 1 : 0)} µs`,
              grade: hostLat && !s.baseline ? latencyGrade(f.median / hostLat) : undefined,
            },
          ]
        : [];
    });
    const what = latencyFigure(testOf(es[0]?.s ?? model.measured[0], lat))?.short ?? 'latency';
    if (es.length)
      rows.push({
        what: `Latency (${what}), ${lat.split('/')[1]}-host`,
        unit: 'µs, lower is better',
        ...split(es, false),
        tied: new Set(),
      });
  }
  const cpuId = headlineTest(r, model.placements[0] ?? 'cross');
  if (cpuId) {
    const hostCpu = model.host ? lineOf(model.host, cpuId)?.cpuSecondsPerGbit : undefined;
    const es = model.measured.flatMap((s): Entry[] => {
      const c = lineOf(s, cpuId)?.cpuSecondsPerGbit;
      return c === undefined
        ? []
        : [{ s, value: c, text: fmt(c, 3), grade: hostCpu && !s.baseline ? latencyGrade(c / hostCpu) : undefined }];
    });
    if (es.length)
      rows.push({
        what: `CPU per Gbit, ${cpuId.split('/')[1]}-host TCP`,
        unit: 'CPU-seconds, lower is better',
        ...split(es, false),
        tied: new Set(),
      });
  }
  return rows.slice(0, 5);
}

/** One line: the best real datapath against the host, and what stands apart. */
export function headlineHtml(model: ReportModel, v: Verdicts): string {
  const rows = rowsOf(model, v);
  const tp = rows[0];
  if (!tp) return '<p class="headline">No throughput was measured.</p>';
  const best = tp.real[0];
  const lat = rows.find((x) => x.what.startsWith('Latency'));
  const parts: string[] = [];
  if (best) {
    const ratio = lineOf(best.s, headlineTest(model.result, model.placements[0])!)?.vsHost;
    parts.push(
      `Best real datapath ${tp.what.replace('TCP throughput, ', '')}: <b>${esc(best.s.label)}</b>, ${esc(fmt(best.value, 1))} Gbit/s${ratio !== undefined ? ` (${Math.round(ratio * 100)}% of the host)` : ''}${tp.tied.size ? ` — not significantly ahead of ${esc([...tp.tied].join(', '))}` : ''}`,
    );
  }
  if (lat?.real[0])
    parts.push(`lowest latency ${esc(lat.real[0].s.label)} ${esc(lat.real[0].text)}${lat.host ? ` (host ${esc(lat.host.text)})` : ''}`);
  if (tp.standIns.length) parts.push(`${tp.standIns.length} stand-in${tp.standIns.length > 1 ? 's' : ''}† ranked apart`);
  return `<p class="headline">${parts.join('; ')}.</p>`;
}

export function verdictTable(model: ReportModel, v: Verdicts): string {
  const rows = rowsOf(model, v);
  if (!rows.length) return '';
  const anyStandIn = rows.some((x) => x.standIns.length);
  const cells = rows.map((x) => {
    const [best, ...rest] = x.real;
    const more = rest.length > 3 ? ` <span class="ns">+${rest.length - 3} more</span>` : '';
    const host = x.host ? `<br><span class="ns">host: ${esc(x.host.text)}</span>` : '';
    return `<tr><th scope="row">${esc(x.what)}<br><span class="ns">${esc(x.unit)}</span>${host}</th><td data-label="best real datapath">${best ? chip(best) : '–'}</td><td data-label="then">${
      rest
        .slice(0, 3)
        .map((e) => chip(e, x.tied.has(e.s.rec.name)))
        .join(' ') || '–'
    }${more}</td>${anyStandIn ? `<td data-label="stand-ins† (ranked apart)">${x.standIns.map((e) => chip(e)).join(' ') || '–'}</td>` : ''}</tr>`;
  });
  return `<div class="tablewrap"><table class="verdict-table"><thead><tr><th>figure</th><th>best real datapath</th><th>then (≈: not significantly behind the best)</th>${anyStandIn ? '<th>stand-ins† (ranked apart)</th>' : ''}</tr></thead><tbody>${cells.join('')}</tbody></table></div>`;
}
