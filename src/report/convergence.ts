import type { ConvergenceRecord, ConvergenceRun } from '../result/convergence.js';
import type { ResultFile, SchemeRecord } from '../result/types.js';
import { groupedBars, type ChartSpec } from './charts.js';
import { esc } from './escape.js';
import type { ReportModel } from './figures.js';

/**
 * Pure: the control plane of each scheme (which daemons, their versions) and its convergence
 * (`--tests converge`) as terminal/Markdown lines, an HTML section and a chart. Present only when
 * the result file holds them.
 */

const s = (x: number | undefined) => (x === undefined ? '–' : `${x < 1 ? x.toFixed(3) : x.toFixed(2)} s`);

/** "BGP: BIRD per host (full mesh) …; bird 2.0.12", or "static (precomputed routes)"; undefined without a control plane. */
export function controlPlaneText(r: SchemeRecord): string | undefined {
  const c = r.controlPlane;
  if (!c) return undefined;
  if (c.mode === 'static') return 'static: routes precomputed by the plan (--control-plane static)';
  return [c.label, ...(c.versions ?? [])].filter(Boolean).join('; ');
}

const converged = (r: ResultFile) => r.schemes.filter((x): x is SchemeRecord & { convergence: ConvergenceRecord } => !!x.convergence);

function interrupted(runs: ConvergenceRun[]): string {
  const v = runs.map((r) => r.othersInterrupted).filter((x) => x !== undefined);
  if (!v.length || v.every((x) => x === null)) return 'n/a';
  const bad = runs.filter((r) => r.othersInterrupted);
  if (!bad.length) return 'no';
  const worst = bad.reduce((a, b) => ((b.othersGapMs ?? 0) > (a.othersGapMs ?? 0) ? b : a));
  const which = worst.othersGaps?.length ? `: ${worst.othersGaps.slice(0, 3).join(', ')}` : '';
  return `yes in ${bad.length}/${v.length} (longest ${worst.othersGapMs ?? 0} ms${which})`;
}

function storeText(runs: ConvergenceRun[]): string | undefined {
  const st = runs.flatMap((r) => (r.storeLoss ? [r.storeLoss] : []));
  if (!st.length) return undefined;
  const cont = st.filter((x) => x.trafficContinued).length;
  return `store loss${st[0].stopped ? ` (${st[0].stopped} stopped)` : ''}: existing traffic went on in ${cont}/${st.length}; new lease ${st[0].newLease}`;
}

/** One line per scheme with a convergence record (terminal and Markdown). */
export function convergenceLines(r: ResultFile): string[] {
  const recs = converged(r);
  if (!recs.length) return [];
  const out = [`convergence (median of repeats at ${recs[0].convergence.hosts} hosts; cnlab's TCP-connect prober):`];
  for (const x of recs) {
    const c = x.convergence;
    if (c.mode === 'static') {
      out.push(`  ${x.name}: ${c.notes.join('; ')}`);
      continue;
    }
    const m = c.median ?? {};
    const errors = c.runs.filter((run) => run.error).map((run) => `repeat ${run.repeat}: ${run.error}`);
    out.push(
      `  ${x.name} (${c.mechanism ?? '?'}, ${c.runs.length} repeats): cold start ${s(m.coldStart)}, new container ${s(m.newContainer)}, host loss withdrawn in ${s(m.hostLoss)} (other hosts interrupted: ${interrupted(c.runs)}), rejoin ${s(m.rejoin)}${m.rejoinFromLease !== undefined ? ` (from the lease: ${s(m.rejoinFromLease)})` : ''}, routes per host ${m.routesPerHost ?? '–'}`,
      ...[storeText(c.runs), c.newContainer ? `new container: ${c.newContainer}` : undefined, ...c.notes, ...errors]
        .filter((l): l is string => !!l)
        .map((l) => `    ${l}`),
    );
  }
  return out;
}

export function convergenceHtml(r: ResultFile): string | undefined {
  const recs = converged(r);
  if (!recs.length) return undefined;
  const rows = recs
    .map((x) => {
      const c = x.convergence;
      if (c.mode === 'static') return `<tr><td>${esc(x.name)}</td><td colspan="7">${esc(c.notes.join('; '))}</td></tr>`;
      const m = c.median ?? {};
      const more = [
        storeText(c.runs),
        c.newContainer && `new container: ${c.newContainer}`,
        c.probed && `cold start probed ${c.probed}`,
        ...c.notes,
      ]
        .concat(c.runs.filter((run) => run.error).map((run) => `repeat ${run.repeat}: ${run.error}`))
        .filter(Boolean)
        .map((l) => esc(l))
        .join('<br>');
      return `<tr><td>${esc(x.name)}<br><span class="ns">${esc(c.mechanism)}</span></td><td class="num">${s(m.coldStart)}</td><td class="num">${s(m.newContainer)}</td><td class="num">${s(m.hostLoss)}</td><td>${esc(interrupted(c.runs))}</td><td class="num">${s(m.rejoin)}${m.rejoinFromLease !== undefined ? `<br><span class="ns">from the lease ${s(m.rejoinFromLease)}</span>` : ''}</td><td class="num">${esc(m.routesPerHost ?? '–')}</td><td class="ns">${more}</td></tr>`;
    })
    .join('');
  return `<p class="sub">Per repeat a fresh lab at ${recs[0].convergence.hosts} hosts, watched by cnlab's prober (a TCP connect to every target at short intervals; an RST counts as reached): cold start from starting the daemons until every probed pair answers; a new container on the last host until host 1's container reaches it; host loss (the last host's daemon stopped; flannel: its lease deleted) until no peer routes its blocks, and whether traffic between the other containers failed meanwhile; rejoin (the daemon started again) until host 1 reaches the last host's containers. Medians over repeats.</p><div class="tablewrap"><table class="wrap"><thead><tr><th>scheme</th><th class="num">cold start</th><th class="num">new container</th><th class="num">host loss</th><th>others interrupted</th><th class="num">rejoin</th><th class="num">routes/host</th><th>notes</th></tr></thead><tbody>${rows}</tbody></table></div>`;
}

export function convergenceChart(model: ReportModel): ChartSpec | undefined {
  const recs = converged(model.result).filter((x) => x.convergence.mode === 'real' && x.convergence.median);
  if (!recs.length) return undefined;
  const pick: Array<[string, (m: NonNullable<ConvergenceRecord['median']>) => number | undefined]> = [
    ['cold start', (m) => m.coldStart],
    ['new container', (m) => m.newContainer],
    ['host loss', (m) => m.hostLoss],
    ['rejoin', (m) => m.rejoin],
  ];
  return groupedBars({
    id: 'convergence',
    title: `Control-plane convergence, ${recs[0].convergence.hosts} hosts`,
    caption:
      'Median seconds over repeats, each on a fresh lab: cold start (daemons started → every probed pair answers), new container on the last host (→ reached from host 1), host loss (daemon stopped → peers withdrew its routes), rejoin (daemon started again → reached from host 1).',
    axis: 's',
    categories: recs.map((x) => `${x.name} (${x.convergence.mechanism ?? '?'})`),
    series: pick.map(([name, f]) => ({
      name,
      points: recs.map((x) => {
        const v = f(x.convergence.median!);
        return v === undefined ? undefined : { value: v, text: v < 1 ? v.toFixed(3) : v.toFixed(2) };
      }),
    })),
  });
}
