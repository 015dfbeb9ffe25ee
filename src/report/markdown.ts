import { bpfMarkdown } from './bpf.js';
import type { ResultFile } from '../result/types.js';
import { mdCell, plain } from './escape.js';
import { SAME_HOST_SHORT } from './baseline.js';
import {
  buildModel,
  fmt,
  headlineTest,
  isBulk,
  knobsText,
  latencyFigure,
  latencyTest,
  lineOf,
  lossText,
  pct,
  samples,
  specOf,
  testOf,
  testTitle,
  type ReportModel,
} from './figures.js';
import { STAND_IN_LEGEND } from './stand-in.js';
import { extraMarkdown } from './optional.js';
import { FABRIC_TEXT, pathText } from './path.js';
import { SIGNIFICANCE_TEXT } from './significance.js';
import { hostLines } from './hosts.js';
import { sampleText } from './summary.js';
import { verdicts, type Verdicts } from './verdicts.js';

/** Pure: the Markdown summary, to paste into an issue or a pull request. */

/** Prose from the result file: no raw HTML, verdicts' **bold** kept. */
const md = (text: string) => plain(text).replace(/</g, '&lt;');
/** A code span: its content is literal in Markdown, so markup characters are swapped for look-alikes. */
const code = (text: string) => `\`${text.replace(/`/g, "'").replace(/</g, '‹').replace(/>/g, '›')}\``;

export function headerLine(r: ResultFile): string {
  const e = r.environment;
  const o = r.options;
  const knobs = knobsText(r);
  return `${r.createdAt.slice(0, 16).replace('T', ' ')} UTC · cnlab ${r.cnlab.version} · kernel ${e.kernel} · ${e.cpuModel} × ${e.cpus} · ${o.repeats} runs × ${o.seconds} s per test · underlay MTU ${r.topology.underlay.mtu}${r.topology.underlay.rate ? `, ${r.topology.underlay.rate}` : ''}${knobs ? ` · ${knobs}` : ''}`;
}

function table(m: ReportModel, v: Verdicts): string {
  const r = m.result;
  const ids = m.placements.map((p) => ({
    p,
    id: headlineTest(r, p),
    udp: r.options.tests.find((t) => isBulk(t) && t.protocol === 'udp' && !t.length && t.placement === p)?.id,
    lat: latencyTest(r, p),
  }));
  const latShort = (id: string) => latencyFigure(m.measured.map((s) => testOf(s, id)).find((t) => latencyFigure(t)))?.short ?? 'latency';
  const head = [
    'scheme',
    'layout',
    'MTU',
    ...ids.flatMap(({ p, udp, lat }) => [
      `${p}-host TCP Gbit/s`,
      p === 'same' ? '% of host (loopback)' : '% of host',
      ...(udp ? ['UDP loss'] : []),
      ...(lat ? [`${latShort(lat)} µs`] : []),
    ]),
    'CPU-s/Gbit',
  ];
  const measured = m.schemes.filter((s) => s.rec.status === 'ok');
  const rows = measured.map((s) => {
    const cells = ids.flatMap(({ id, udp, lat }) => {
      const t = id ? lineOf(s, id) : undefined;
      const ci = t?.medianCi && t.runs - t.failedRuns > 1 ? ` [${fmt(t.medianCi[0])}–${fmt(t.medianCi[1])}]` : '';
      const c = v.costs.find((x) => x.scheme === s.rec.name && x.testId === id);
      const ns = c?.test?.p !== undefined && !c.significant;
      const loss = udp ? lineOf(s, udp)?.lossPercent : undefined;
      const lt = lat ? testOf(s, lat) : undefined;
      const lf = latencyFigure(lt);
      const latNs = !s.baseline && lt?.vsHostDiff && lt.vsHostDiff.method !== 'none' && !lt.vsHostDiff.significant;
      const limited =
        udp && lineOf(s, udp)?.senderLimited
          ? ` (sender-limited: sent ${fmt(lineOf(s, udp)?.sentGbps)} of ${fmt(lineOf(s, udp)?.offeredGbps)} Gbit/s)`
          : '';
      return [
        t?.gbps === undefined ? (t?.failedRuns ? 'failed' : '–') : `${fmt(t.gbps)}${ci}`,
        s.baseline ? '100%' : `${ns ? '≈ ' : ''}${pct(t?.vsHost)}`,
        ...(udp ? [loss === undefined ? '–' : `${lossText(loss)}${limited}`] : []),
        ...(lat ? [lf ? `${latNs ? '≈ ' : ''}${fmt(lf.median, 1)}` : '–'] : []),
      ];
    });
    const cpu = ids[0]?.id ? lineOf(s, ids[0].id)?.cpuSecondsPerGbit : undefined;
    return [mdCell(s.label), FABRIC_TEXT[s.path.fabric], String(s.path.workloadMtu ?? '–'), ...cells, fmt(cpu, 3)];
  });
  const align = head.map((_, i) => (i < 2 ? '---' : '---:'));
  const off = m.schemes
    .filter((s) => s.rec.status !== 'ok')
    .map((s) => `- ${mdCell(s.rec.name)}: ${s.rec.status} — ${mdCell(s.rec.reason ?? 'not measured')}`);
  return [
    [head, align, ...rows].map((x) => `| ${x.join(' | ')} |`).join('\n'),
    ...(off.length ? ['', '**Not measured**', '', ...off] : []),
  ].join('\n');
}

/** Latency per scheme: the median and, where the tool gives them, the percentiles. */
function latencyMarkdown(m: ReportModel): string[] {
  const out: string[] = [];
  for (const p of m.placements) {
    const id = latencyTest(m.result, p);
    if (!id) continue;
    const rows = m.measured.filter((s) => latencyFigure(testOf(s, id)));
    if (!rows.length) continue;
    const withPct = rows.some((s) => testOf(s, id)?.latencySummary?.p99Us);
    const f0 = latencyFigure(testOf(rows[0], id))!;
    const head = ['scheme', 'median µs', "runs' range µs", ...(withPct ? ['p90 µs', 'p99 µs', 'p99.9 µs', 'max µs'] : []), 'runs'];
    const body = rows.map((s) => {
      const t = testOf(s, id)!;
      const f = latencyFigure(t)!;
      const runs = samples(t, f.pick);
      const l = t.latencySummary;
      return [
        mdCell(s.label),
        fmt(f.median, 1),
        runs.length ? `${fmt(Math.min(...runs), 1)}–${fmt(Math.max(...runs), 1)}` : '–',
        ...(withPct ? [l?.p90Us, l?.p99Us, l?.p999Us, l?.maxUs].map((x) => fmt(x?.median, 0)) : []),
        String(runs.length),
      ];
    });
    out.push(
      `### Latency, ${p}-host: ${md(testTitle(specOf(m.result, id), id))}`,
      '',
      `${f0.what[0].toUpperCase()}${f0.what.slice(1)}; lower is better.${withPct ? '' : ' qperf gives one mean per run, so no percentiles: run `--tests lat-tcp,lat-udp` or `--full` for sockperf’s.'}`,
      '',
    );
    out.push([head, head.map((_, i) => (i ? '---:' : '---')), ...body].map((x) => `| ${x.join(' | ')} |`).join('\n'), '');
  }
  return out;
}

export function renderMarkdown(result: ResultFile, model: ReportModel = buildModel(result), v: Verdicts = verdicts(model)): string {
  const r = result;
  const out: string[] = [];
  out.push(
    `## cnlab: container networks against the host — lab ${code(r.topology.lab)}`,
    '',
    md(headerLine(r)),
    '',
    ...hostLines(r).flatMap((l) => [`- ${md(l)}`]),
    ...(r.hosts ? [''] : []),
  );
  out.push(`**${md(sampleText(r))}**`, '');
  if (!r.complete) out.push('> **Incomplete run**: the figures cover only what was measured before it stopped.', '');
  const headline = [...v.headline, ...v.latency.headline];
  if (headline.length) out.push('### Verdict', '', ...headline.map((h) => `- ${md(h)}`), '');
  out.push('### Results', '', table(model, v), '');
  const standIns = model.schemes.filter((s) => s.standIn);
  out.push(
    `Median [its interval: order statistics, 95% from 6 runs; below 6, min–max]; “% of host” against the host baseline of the same run${model.placements.includes('same') ? `; ${SAME_HOST_SHORT}` : ''}; ≈: not significantly different from the host (${SIGNIFICANCE_TEXT}); UDP loss with one decimal (two below 1%).`,
    '',
  );
  if (standIns.length)
    out.push(md(STAND_IN_LEGEND), '', ...standIns.map((s) => `- ${md(s.label)}: ${md(s.standIn!.what)} — ${md(s.standIn!.why)}`), '');
  out.push(...latencyMarkdown(model));
  const ranks = [...v.rankings, ...v.latency.rankings];
  if (ranks.length) out.push('### Ranking', '', ...ranks.map((k) => `- ${md(k.text)}`), '');
  if (v.recommendations.length) out.push('### Recommendations by constraint', '', ...v.recommendations.map((x) => `- ${md(x.text)}`), '');
  const costs = model.measured.filter((s) => !s.baseline);
  if (costs.length) {
    out.push(
      '### Cost against the host, and why',
      '',
      '<details><summary>Per scheme: the cost, its cause on the path and the evidence</summary>',
      '',
    );
    for (const s of costs) {
      const cs = [...v.costs, ...v.latency.costs.map((c) => ({ ...c, causes: [] as string[], evidence: [] as string[] }))].filter(
        (c) => c.scheme === s.rec.name,
      );
      if (!cs.length) continue;
      const why = cs[0].causes.length ? ` On its path: ${cs[0].causes.join('; ')}.` : '';
      const ev = cs.flatMap((c) => c.evidence);
      out.push(`- **${md(s.label)}**: ${md(cs.map((c) => c.text).join('; '))}.${md(why)}${ev.length ? ` ${md(ev.join('; '))}.` : ''}`);
    }
    out.push('', '</details>', '');
  }
  out.push('### Packet paths', '', '<details><summary>Cross-host, from the plans</summary>', '');
  for (const s of model.schemes.filter((x) => x.rec.plan)) {
    out.push(`- ${md(s.label)}: ${code(pathText(s.path.cross))} — MTU ${s.path.workloadMtu ?? '?'}, ${s.path.encapBytes} B encapsulation`);
  }
  out.push('', '</details>', '');
  out.push(...bpfMarkdown(r));
  out.push(...extraMarkdown(r));
  if (v.caveats.length)
    out.push(
      '### Caveats',
      '',
      '<details><summary>' + `${v.caveats.length} caveat${v.caveats.length > 1 ? 's' : ''}` + '</summary>',
      '',
      ...v.caveats.map((c) => `- ${md(c)}`),
      '',
      '</details>',
      '',
    );
  out.push(`<sub>Regenerate: ${code('cnlab report result.json')} · raw data and every run in result.json</sub>`, '');
  return out.join('\n');
}
