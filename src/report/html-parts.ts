import { controlPlaneText } from './convergence.js';
import type { ResultFile } from '../result/types.js';
import { bpfCard } from './bpf.js';
import { esc, slug } from './escape.js';
import { hostsHtml } from './hosts.js';
import { SAME_HOST_SHORT } from './baseline.js';
import {
  fmt,
  headlineTest,
  isBulk,
  knobsText,
  latencyFigure,
  latencyTest,
  lineOf,
  lossText,
  pct,
  specOf,
  testIds,
  testOf,
  testTitle,
  type ReportModel,
  type SchemeView,
} from './figures.js';
import { headlineHtml, verdictTable } from './html-verdict.js';
import { latencyGrade, lossGrade, ratioGrade } from './layout.js';
import { STAND_IN_LEGEND, STAND_IN_MARK, standInOf } from './stand-in.js';
import { SIGNIFICANCE_TEXT } from './significance.js';
import { FABRIC_SHORT, FABRIC_TEXT, type Hop } from './path.js';
import type { Cost, Verdicts } from './verdicts.js';

/** Pure HTML fragments of the report page; every value from the result file goes through esc(). */

/** Verdict text: escaped, then the **bold** marks verdicts use become <strong>. */
export const rich = (text: string): string => esc(text).replace(/\*\*(.+?)\*\*/g, '<strong>$1</strong>');

export function badge(s: SchemeView): string {
  if (s.rec.status !== 'ok') return `<span class="badge off">${esc(s.rec.status)}</span>`;
  return `<span class="badge ${s.path.fabric}" title="${esc(FABRIC_TEXT[s.path.fabric])}">${esc(FABRIC_SHORT[s.path.fabric])}</span>`;
}

export function pathList(hops: Hop[], label: string): string {
  const items = hops.map(
    (h) =>
      `<li><span class="hop ${h.kind}"><span class="l">${esc(h.label)}</span>${h.detail ? `<span class="d">${esc(h.detail)}</span>` : ''}</span></li>`,
  );
  return `<div class="pathlabel">${esc(label)}</div><ol class="path" aria-label="${esc(label)}">${items.join('')}</ol>`;
}

function vsHostCell(s: SchemeView, id: string, costs: Cost[]): string {
  const t = lineOf(s, id);
  if (s.baseline || t?.vsHost === undefined) return '<td class="num">–</td>';
  const c = costs.find((x) => x.scheme === s.rec.name && x.testId === id);
  const p = c?.test?.p;
  const ns = p !== undefined && !c!.significant;
  const title =
    p === undefined
      ? 'too few runs to test'
      : c!.significant
        ? `significant (p = ${p.toPrecision(2)})`
        : `not significant (p = ${p.toPrecision(2)})`;
  return `<td class="num g${ratioGrade(t.vsHost)}" title="${esc(title)}">${ns ? '≈ ' : ''}${pct(t.vsHost)}</td>`;
}

function gbpsCell(s: SchemeView, id: string | undefined): string {
  const t = id ? lineOf(s, id) : undefined;
  if (!t) return '<td class="num">–</td>';
  if (t.gbps === undefined) return `<td class="num">${t.failedRuns ? 'failed' : '–'}</td>`;
  const ci =
    t.medianCi && t.runs - t.failedRuns > 1 ? `<br><span class="ns">[${fmt(t.medianCi[0], 2)}–${fmt(t.medianCi[1], 2)}]</span>` : '';
  return `<td class="num">${fmt(t.gbps)}${ci}</td>`;
}

function latencyCell(s: SchemeView, id: string, host: SchemeView | undefined): string {
  const t = testOf(s, id);
  const f = latencyFigure(t);
  if (!f) return `<td class="num">${t?.runs.some((x) => !x.ok) ? 'failed' : '–'}</td>`;
  const h = host && !s.baseline ? latencyFigure(testOf(host, id))?.median : undefined;
  const ns = !s.baseline && t?.vsHostDiff && t.vsHostDiff.method !== 'none' && !t.vsHostDiff.significant;
  return `<td class="num${h ? ` g${latencyGrade(f.median / h)}` : ''}">${ns ? '≈ ' : ''}${fmt(f.median, f.median < 100 ? 1 : 0)}</td>`;
}

/** A scheme's name cell: linked to its card, with the stand-in mark. */
const nameCell = (s: SchemeView) =>
  `<td><a href="#scheme-${slug(s.rec.name)}">${esc(s.rec.name)}</a>${s.standIn ? `<span class="mark" title="${esc(`stand-in: ${s.standIn.what}`)}">${STAND_IN_MARK}</span>` : ''}</td>`;

/** One row per scheme: family, MTU, the headline figures per placement, UDP loss, latency, CPU per Gbit. */
export function summaryTable(model: ReportModel, v: Verdicts): string {
  const r = model.result;
  const cols = model.placements.map((p) => ({
    p,
    tcp: headlineTest(r, p),
    tcp4: testIds(r, (t) => isBulk(t) && t.protocol === 'tcp' && t.placement === p && t.streams > 1)[0],
    udp: testIds(r, (t) => isBulk(t) && t.protocol === 'udp' && !t.length && t.placement === p)[0],
    lat: latencyTest(r, p),
  }));
  const latWhat = (id: string) => latencyFigure(model.measured.map((s) => testOf(s, id)).find((t) => latencyFigure(t)))?.short ?? 'latency';
  const head = [
    '<th>scheme</th><th>layout</th><th class="num">MTU</th>',
    ...cols.map(
      (c) =>
        `<th class="num">${esc(c.p)}-host TCP<br>Gbit/s [interval]</th><th class="num">% of host${c.p === 'same' ? '<br>(loopback)' : ''}</th>${
          c.tcp4
            ? `<th class="num">${esc(
                testTitle(specOf(r, c.tcp4), c.tcp4)
                  .replace(/, (cross|same)-host$/, '')
                  .replace('TCP, ', 'TCP×')
                  .replace(/ streams?/, ''),
              )}<br>Gbit/s</th>`
            : ''
        }${c.udp ? '<th class="num">UDP<br>loss</th>' : ''}${c.lat ? `<th class="num">${esc(latWhat(c.lat))}<br>µs</th>` : ''}`,
    ),
    `<th class="num">CPU-s<br>per Gbit</th>`,
  ].join('');
  const span = 3 + cols.reduce((n, c) => n + 2 + (c.tcp4 ? 1 : 0) + (c.udp ? 1 : 0) + (c.lat ? 1 : 0), 0) + 1;
  const measured = model.schemes.filter((s) => s.rec.status === 'ok' && s.rec.tests.length);
  const rest = model.schemes.filter((s) => !measured.includes(s));
  const rows = measured.map((s) => {
    const cells = cols.map((c) => {
      const udp = c.udp ? lineOf(s, c.udp) : undefined;
      return `${gbpsCell(s, c.tcp)}${c.tcp ? vsHostCell(s, c.tcp, v.costs) : '<td class="num">–</td>'}${c.tcp4 ? gbpsCell(s, c.tcp4) : ''}${c.udp ? `<td class="num${udp?.lossPercent === undefined ? '' : ` g${lossGrade(udp.lossPercent)}`}">${udp?.lossPercent === undefined ? '–' : lossText(udp.lossPercent)}${udp?.senderLimited ? ` <span class="ns" title="${esc(`the sender sent ${fmt(udp.sentGbps)} of the ${fmt(udp.offeredGbps)} Gbit/s offered: loss says nothing about the path's capacity`)}">sender-limited</span>` : ''}</td>` : ''}${c.lat ? latencyCell(s, c.lat, model.host) : ''}`;
    });
    const cpuId = cols[0]?.tcp;
    const cpu = cpuId ? lineOf(s, cpuId)?.cpuSecondsPerGbit : undefined;
    return `<tr>${nameCell(s)}<td>${badge(s)}</td><td class="num">${s.path.workloadMtu ?? '–'}</td>${cells.join('')}<td class="num">${fmt(cpu, 3)}</td></tr>`;
  });
  // Schemes not measured go last, their reason across the whole row.
  const off = rest.map(
    (s) =>
      `<tr class="off"><td colspan="${span}"><a href="#scheme-${slug(s.rec.name)}">${esc(s.rec.name)}</a> ${badge(s)} <span class="reason">${esc(s.rec.reason ?? 'not measured')}</span></td></tr>`,
  );
  const standIns = measured.some((s) => s.standIn);
  const anyNs = rows.some((x) => x.includes('≈ '));
  return `<div class="tablewrap"><table class="results"><thead><tr>${head}</tr></thead><tbody>${rows.join('')}${off.join('')}</tbody></table></div>
<p class="sub">Median of ${r.options.repeats} runs × ${r.options.seconds} s with the median's own interval in brackets (order statistics: 95% from 6 runs; below 6, min–max, 75% at 3 runs). “% of host” is the ratio to the host baseline in the same run${model.placements.includes('same') ? `; ${esc(SAME_HOST_SHORT)}` : ''}. Colours grade the value itself (green near the host or without loss, red far from it).${anyNs ? ` ≈ marks a difference from the host that is not significant (${esc(SIGNIFICANCE_TEXT)}); the figure beside it is the measured one.` : ''} CPU per Gbit is for ${esc(cols[0]?.tcp ?? 'the first TCP test')}.</p>
${standIns ? `<p class="legend"><span class="mark">${STAND_IN_MARK}</span> ${esc(STAND_IN_LEGEND.slice(2))}</p>` : ''}`;
}

export function verdictBlock(model: ReportModel, v: Verdicts): string {
  const list = (items: string[], cls = '') =>
    items.length ? `<ul class="${cls}">${items.map((t) => `<li>${rich(t)}</li>`).join('')}</ul>` : '';
  const ranks = [...v.rankings, ...v.latency.rankings].map((k) => k.text);
  const ranking = ranks.length ? `<h3>Ranking</h3>${list(ranks)}` : '';
  const recs = v.recommendations.length ? `<h3>Recommendations by constraint</h3>${list(v.recommendations.map((r) => r.text))}` : '';
  const caveats = v.caveats.length ? `<h3>Caveats</h3>${list(v.caveats, 'caveats')}` : '';
  const standIns = model.measured.some((s) => s.standIn);
  return `${headlineHtml(model, v)}<div class="verdict">${verdictTable(model, v)}${standIns ? `<p class="legend"><span class="mark">${STAND_IN_MARK}</span> ${esc(STAND_IN_LEGEND.slice(2))}</p>` : ''}
<details class="more"><summary>The verdict in words: headline, ranking, recommendations, caveats</summary>${list([...v.headline, ...v.latency.headline])}${ranking}${recs}${caveats}</details></div>`;
}

export function schemeCard(model: ReportModel, s: SchemeView, v: Verdicts): string {
  const r = s.rec;
  const costs = v.costs.filter((c) => c.scheme === r.name);
  const lat = v.latency.costs
    .filter((c) => c.scheme === r.name)
    .map((c) => `<li>${rich(c.text)}</li>`)
    .join('');
  const kv = [
    r.mtu || s.path.workloadMtu ? `<span>MTU <b>${esc(s.path.workloadMtu ?? r.mtu)}</b> (underlay ${esc(s.path.underlayMtu)})</span>` : '',
    `<span>encapsulation <b>${esc(s.path.encapBytes)} B</b></span>`,
    `<span>attached <b>${esc(r.attach)}</b></span>`,
    r.buildSeconds !== undefined ? `<span>built in <b>${fmt(r.buildSeconds, 2)} s</b></span>` : '',
    controlPlaneText(r) ? `<span>control plane <b>${esc(controlPlaneText(r))}</b></span>` : '',
  ].filter(Boolean);
  const failures = r.tests.flatMap((t) => {
    const bad = t.runs.filter((x) => !x.ok);
    return bad.length
      ? [`${t.id}: ${bad.length} of ${t.runs.length} runs failed — ${[...new Set(bad.map((x) => x.error ?? 'failed'))].join('; ')}`]
      : [];
  });
  // `cnlab doctor` on the failing lab before teardown: most likely cause first, each with its fix.
  const doctor = r.doctor
    ? [
        `doctor (${r.doctor.trigger}): ${r.doctor.error ?? (r.doctor.findings.length ? `${r.doctor.findings.length} findings` : 'nothing found')}`,
        ...r.doctor.findings.map(
          (f) => `${f.what} — ${f.evidence}${f.fix.length ? ` — fix: ${f.fix.map((a) => a.join(' ')).join(' && ')}` : ''}`,
        ),
      ]
    : [];
  const outliers = r.tests.filter((t) => t.outlierRepeats?.length).map((t) => `${t.id} run ${t.outlierRepeats!.join(', ')}`);
  const warmups = r.tests.filter((t) => t.warmup && !t.warmup.ok).map((t) => `${t.id}: ${t.warmup!.error ?? 'failed'}`);
  const notes = [
    // A note that only said "stand-in" in words is the banner above when the record carries standIn.
    ...r.notes.filter((n) => !(r.standIn && standInOf({ notes: [n] }))).map((n) => `note: ${n}`),
    ...(r.status !== 'ok' ? [`${r.status}: ${r.reason ?? 'no reason recorded'}`] : []),
    ...(outliers.length ? [`outlier runs (flagged, still counted): ${outliers.join('; ')}`] : []),
    ...(warmups.length ? [`warm-up failed: ${warmups.join('; ')}`] : []),
  ];
  const costList = costs.length
    ? `<ul>${costs.map((c) => `<li>${rich(c.text)}${c.evidence.length ? `<br><span class="ns">${esc(c.evidence.join('; '))}</span>` : ''}</li>`).join('')}</ul>`
    : '';
  const causes = costs[0]?.causes.length ? `<p class="sub">On its path: ${esc(costs[0].causes.join('; '))}.</p>` : '';
  const plan = r.plan
    ? `<details><summary>Plan: ${r.plan.stages.length} stages, ${r.plan.stages.reduce((n, st) => n + st.steps.length, 0)} steps</summary><ol>${r.plan.stages.map((st) => `<li>${esc(st.title)} <span class="ns">(${st.steps.length})</span></li>`).join('')}</ol></details>`
    : '';
  const standIn = s.standIn
    ? `<p class="standin"><span class="mark">${STAND_IN_MARK}</span> <b>Stand-in:</b> ${esc(s.standIn.what)} — ${esc(s.standIn.why)}</p>`
    : '';
  return `<article class="card" id="scheme-${slug(r.name)}"><header><h3>${esc(s.label)}</h3>${badge(s)}</header>
<p class="summary">${esc(r.summary)}</p>${standIn}
<div class="kv">${kv.join('')}</div>
${s.path.cross.length ? pathList(s.path.cross, 'cross-host path') : ''}${s.path.same ? pathList(s.path.same, 'same-host path') : ''}
${costList}${lat ? `<ul>${lat}</ul>` : ''}${causes}${notes.length ? `<ul>${notes.map((n) => `<li>${esc(n)}</li>`).join('')}</ul>` : ''}${failures.length ? `<ul>${failures.map((f) => `<li class="fail">${esc(f)}</li>`).join('')}</ul>` : ''}${doctor.length ? `<ul>${doctor.map((f) => `<li class="fail">${esc(f)}</li>`).join('')}</ul>` : ''}${bpfCard(r)}${plan}</article>`;
}

/** Keys of an object that a renderer does not already show, as escaped key: value rows. */
function extraRows(obj: Record<string, unknown>, known: string[]): string {
  return Object.entries(obj)
    .filter(([k, val]) => !known.includes(k) && val !== undefined)
    .map(([k, val]) => `<tr><th>${esc(k)}</th><td class="mono">${esc(typeof val === 'string' ? val : JSON.stringify(val))}</td></tr>`)
    .join('');
}

export function environmentBlock(r: ResultFile): string {
  const e = r.environment;
  const t = r.topology;
  const o = r.options;
  const tools = Object.entries(e.tools)
    .map(([k, val]) => `<tr><th>${esc(k)}</th><td class="mono">${esc(val)}</td></tr>`)
    .join('');
  const env = `<tr><th>kernel</th><td class="mono">${esc(e.kernel)}</td></tr><tr><th>CPU</th><td>${esc(e.cpuModel)} × ${esc(e.cpus)}</td></tr><tr><th>Node.js</th><td class="mono">${esc(e.node)}</td></tr>${tools}<tr><th>CPU figures</th><td>${esc(e.cpuMethod)}</td></tr>${Object.entries(
    e.methods ?? {},
  )
    .map(([k, val]) => `<tr><th>how: ${esc(k)}</th><td>${esc(val)}</td></tr>`)
    .join(
      '',
    )}${extraRows(e as unknown as Record<string, unknown>, ['kernel', 'cpuModel', 'cpus', 'node', 'tools', 'cpuMethod', 'methods'])}`;
  const topo = `<tr><th>hosts</th><td>${esc(t.hosts)} × ${esc(t.containersPerHost)} container(s)${t.sameHost ? ', plus a second container on host 1' : ''}</td></tr><tr><th>underlay</th><td class="mono">${esc(t.underlay.cidr)}, MTU ${esc(t.underlay.mtu)}${t.underlay.rate ? `, rate ${esc(t.underlay.rate)}` : ''}</td></tr><tr><th>pods</th><td class="mono">${esc(t.pods.cidr)}, /${esc(t.pods.blockPrefix)} per host</td></tr>`;
  const opts = `<tr><th>repeats × duration</th><td>${esc(o.repeats)} × ${esc(o.seconds)} s</td></tr><tr><th>UDP rate</th><td>${esc(o.udpRate)}</td></tr>${knobsText(r) ? `<tr><th>knobs</th><td>${esc(knobsText(r))}</td></tr>` : ''}<tr><th>tests</th><td class="mono">${o.tests.map((x) => esc(x.id)).join(', ')}</td></tr>${extraRows(o as unknown as Record<string, unknown>, ['repeats', 'seconds', 'udpRate', 'tests', 'knobs', 'preset', 'warmupSeconds'])}`;
  const run = `<tr><th>cnlab</th><td class="mono">${esc(r.cnlab.version)} ${r.cnlab.argv.map(esc).join(' ')}</td></tr><tr><th>started</th><td>${esc(r.createdAt)}</td></tr><tr><th>last written</th><td>${esc(r.updatedAt)}</td></tr>`;
  const ifaces = r.schemes.flatMap((s) => (s.interfaces ?? []).map((i) => ({ s: s.name, i })));
  const offloadKeys = [...new Set(ifaces.flatMap(({ i }) => Object.keys(i.offloads)))];
  const short = (k: string) =>
    k
      .replace('tcp-segmentation-offload', 'TSO')
      .replace('generic-segmentation-offload', 'GSO')
      .replace('generic-receive-offload', 'GRO')
      .replace('tx-checksumming', 'tx csum')
      .replace('rx-checksumming', 'rx csum');
  const ifTable = ifaces.length
    ? `<h3>Interfaces of the measured workloads</h3><div class="tablewrap"><table><thead><tr><th>scheme</th><th>node</th><th>interface</th><th class="num">MTU</th>${offloadKeys.map((k) => `<th>${esc(short(k))}</th>`).join('')}</tr></thead><tbody>${ifaces
        .map(
          ({ s, i }) =>
            `<tr><td>${esc(s)}</td><td>${esc(i.node)}</td><td class="mono">${esc(i.ifName)}</td><td class="num">${esc(i.mtu || '?')}</td>${offloadKeys.map((k) => `<td>${esc(i.offloads[k] ?? '–')}</td>`).join('')}</tr>`,
        )
        .join('')}</tbody></table></div>`
    : '';
  const table = (title: string, rows: string) => `<h3>${title}</h3><div class="tablewrap"><table><tbody>${rows}</tbody></table></div>`;
  return `${hostsHtml(r)}${table(r.hosts ? 'Machine cnlab ran on, and tools' : 'Machine and tools', env)}${table('Topology', topo)}${table('Run', opts + run)}${ifTable}`;
}
