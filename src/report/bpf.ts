import { BPF_REDIRECTS, BPF_VERDICTS, type BpfCounters, type BpfVerdict, type ResultFile, type SchemeRecord } from '../result/types.js';
import { esc } from './escape.js';

/**
 * The BPF datapath's verdict counters in a scheme's card: packets per verdict, per test, summed
 * over hosts, by program. A test whose redirect verdicts stayed at zero while the datapath was
 * meant to redirect is flagged: its traffic took the host stack, not the BPF path.
 */

type Verdicts = Record<BpfVerdict, number>;

/** Per program, summed over hosts. */
export function byProgram(c: BpfCounters): Record<string, Verdicts> {
  const out: Record<string, Verdicts> = {};
  for (const progs of Object.values(c.hosts)) {
    for (const [prog, v] of Object.entries(progs)) {
      const acc = (out[prog] ??= Object.fromEntries(BPF_VERDICTS.map((k) => [k, 0])) as Verdicts);
      for (const k of BPF_VERDICTS) acc[k] += v[k] ?? 0;
    }
  }
  return out;
}

export const redirects = (c: BpfCounters): number =>
  Object.values(byProgram(c)).reduce((n, v) => n + BPF_REDIRECTS.reduce((m, k) => m + v[k], 0), 0);

/** Tests whose traffic should have been redirected but was not (legacy mode never redirects). */
export function bpfFlags(rec: SchemeRecord): string[] {
  return rec.tests.flatMap((t) =>
    t.bpfCounters && t.bpfCounters.mode !== 'legacy' && t.runs.some((r) => r.ok) && redirects(t.bpfCounters) === 0
      ? [`${t.id}: BPF redirect counters stayed at zero — the traffic took the host stack, not the BPF datapath`]
      : [],
  );
}

const line = (v: Verdicts): string =>
  BPF_VERDICTS.filter((k) => v[k] > 0)
    .map((k) => `${k} ${v[k]}`)
    .join(', ') || 'no packets';

export function bpfCard(rec: SchemeRecord): string {
  const tests = rec.tests.filter((t) => t.bpfCounters);
  if (!tests.length) return '';
  const rows = tests.flatMap((t) =>
    Object.entries(byProgram(t.bpfCounters!)).map(
      ([prog, v]) =>
        `<tr><td>${esc(t.id)}</td><td>${esc(prog)}</td>${BPF_VERDICTS.map((k) => `<td class="num">${v[k]}</td>`).join('')}</tr>`,
    ),
  );
  const flags = bpfFlags(rec);
  return `<details${flags.length ? ' open' : ''}><summary>BPF verdict counters (mode ${esc(tests[0].bpfCounters!.mode)}; packets per test, warm-up included, all hosts)</summary>
${flags.length ? `<ul>${flags.map((f) => `<li class="fail">${esc(f)}</li>`).join('')}</ul>` : ''}<div class="tablewrap"><table><thead><tr><th>test</th><th>program</th>${BPF_VERDICTS.map((k) => `<th class="num">${k}</th>`).join('')}</tr></thead><tbody>${rows.join('')}</tbody></table></div></details>`;
}

export function bpfMarkdown(r: ResultFile): string[] {
  const recs = r.schemes.filter((s) => s.tests.some((t) => t.bpfCounters));
  if (!recs.length) return [];
  const out = ['**BPF datapath verdict counters** (packets per test, all hosts)', ''];
  for (const s of recs) {
    for (const t of s.tests.filter((x) => x.bpfCounters)) {
      const progs = Object.entries(byProgram(t.bpfCounters!)).map(([p, v]) => `${p}: ${line(v)}`);
      out.push(`- ${s.name.replace(/[<>]/g, '')} ${t.id.replace(/[<>]/g, '')} (${t.bpfCounters!.mode}): ${progs.join('; ')}`);
    }
    out.push(...bpfFlags(s).map((f) => `- **flagged** ${s.name.replace(/[<>]/g, '')} ${f.replace(/[<>]/g, '')}`));
  }
  out.push('');
  return out;
}
