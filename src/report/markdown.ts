import { bpfMarkdown } from './bpf.js';
import type { ResultFile } from '../result/types.js';
import { mdCell, plain } from './escape.js';
import { buildModel, fmt, headlineTest, isBulk, knobsText, latencyTest, lineOf, pct, type ReportModel } from './figures.js';
import { extraMarkdown } from './optional.js';
import { FABRIC_TEXT, pathText } from './path.js';
import { SIGNIFICANCE_TEXT } from './significance.js';
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
  const ids = m.placements.map((p) => ({ p, id: headlineTest(r, p), udp: r.options.tests.find((t) => isBulk(t) && t.protocol === 'udp' && !t.length && t.placement === p)?.id, lat: latencyTest(r, p) }));
  const head = ['scheme', 'layout', 'MTU', ...ids.flatMap(({ p, udp, lat }) => [`${p}-host TCP Gbit/s`, '% of host', ...(udp ? ['UDP loss'] : []), ...(lat ? ['RTT p50 µs'] : [])]), 'CPU-s/Gbit'];
  const rows = m.schemes.map((s) => {
    if (s.rec.status !== 'ok') return [mdCell(s.rec.name), s.rec.status, '', ...ids.flatMap(({ udp, lat }) => ['', '', ...(udp ? [''] : []), ...(lat ? [''] : [])]), mdCell(s.rec.reason ?? '')];
    const cells = ids.flatMap(({ id, udp, lat }) => {
      const t = id ? lineOf(s, id) : undefined;
      const ci = t?.ci95 && t.runs - t.failedRuns > 1 ? ` ± ${fmt((t.ci95[1] - t.ci95[0]) / 2)}` : '';
      const c = v.costs.find((x) => x.scheme === s.rec.name && x.testId === id);
      const sig = c?.test?.p === undefined ? '' : c.significant ? '' : ' (n.s.)';
      const loss = udp ? lineOf(s, udp)?.lossPercent : undefined;
      return [t?.gbps === undefined ? (t?.failedRuns ? 'failed' : '–') : `${fmt(t.gbps)}${ci}`, s.baseline ? '100%' : `${pct(t?.vsHost)}${sig}`, ...(udp ? [loss === undefined ? '–' : `${fmt(loss, 1)}%`] : []), ...(lat ? [fmt(s.rec.tests.find((t) => t.id === lat)?.latencySummary?.p50Us?.median, 0)] : [])];
    });
    const cpu = ids[0]?.id ? lineOf(s, ids[0].id)?.cpuSecondsPerGbit : undefined;
    return [mdCell(s.rec.name), FABRIC_TEXT[s.path.fabric], String(s.path.workloadMtu ?? '–'), ...cells, fmt(cpu, 3)];
  });
  const align = head.map((_, i) => (i < 2 ? '---' : '---:'));
  return [head, align, ...rows].map((r) => `| ${r.join(' | ')} |`).join('\n');
}

export function renderMarkdown(result: ResultFile, model: ReportModel = buildModel(result), v: Verdicts = verdicts(model)): string {
  const r = result;
  const out: string[] = [];
  out.push(`## cnlab: container networks against the host — lab ${code(r.topology.lab)}`, '', md(headerLine(r)), '');
  if (!r.complete) out.push('> **Incomplete run**: the figures cover only what was measured before it stopped.', '');
  const headline = [...v.headline, ...v.latency.headline];
  if (headline.length) out.push(...headline.map((h) => `- ${md(h)}`), '');
  out.push(table(model, v), '');
  out.push(`Median with the half-width of the 95% CI; “% of host” against the host baseline of the same run; (n.s.): not significantly different from the host (${SIGNIFICANCE_TEXT}).`, '');
  const ranks = [...v.rankings, ...v.latency.rankings];
  if (ranks.length) out.push('**Ranking**', '', ...ranks.map((k) => `- ${md(k.text)}`), '');
  if (v.recommendations.length) out.push('**Recommendations by constraint**', '', ...v.recommendations.map((x) => `- ${md(x.text)}`), '');
  const costs = model.measured.filter((s) => !s.baseline);
  if (costs.length) {
    out.push('**Cost against the host, and why**', '');
    for (const s of costs) {
      const cs = [...v.costs, ...v.latency.costs.map((c) => ({ ...c, causes: [] as string[], evidence: [] as string[] }))].filter((c) => c.scheme === s.rec.name);
      if (!cs.length) continue;
      const why = cs[0].causes.length ? ` On its path: ${cs[0].causes.join('; ')}.` : '';
      const ev = cs.flatMap((c) => c.evidence);
      out.push(`- **${md(s.rec.name)}**: ${md(cs.map((c) => c.text).join('; '))}.${md(why)}${ev.length ? ` ${md(ev.join('; '))}.` : ''}`);
    }
    out.push('');
  }
  out.push('**Packet paths** (cross-host, from the plans)', '');
  for (const s of model.schemes.filter((x) => x.rec.plan)) {
    out.push(`- ${md(s.rec.name)}: ${code(pathText(s.path.cross))} — MTU ${s.path.workloadMtu ?? '?'}, ${s.path.encapBytes} B encapsulation`);
  }
  out.push('');
  out.push(...bpfMarkdown(r));
  out.push(...extraMarkdown(r));
  if (v.caveats.length) out.push('**Caveats**', '', ...v.caveats.map((c) => `- ${md(c)}`), '');
  out.push(`<sub>Regenerate: ${code('cnlab report result.json')} · raw data and every run in result.json</sub>`, '');
  return out.join('\n');
}
