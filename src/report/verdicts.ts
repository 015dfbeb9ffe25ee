import type { Placement } from '../result/types.js';
import {
  cpuSplit,
  fmt,
  gbpsSamples,
  headlineTest,
  isBulk,
  lineOf,
  samples,
  signedPct,
  specOf,
  testOf,
  testTitle,
  type ReportModel,
  type SchemeView,
} from './figures.js';
import type { PacketPath } from './path.js';
import { difference, pText, tieredRanking, type Difference } from './significance.js';
import { latencyVerdicts, type LatencyVerdicts } from './verdicts-latency.js';

/**
 * Pure: verdicts computed from the measured figures and the schemes' own metadata (their plans,
 * encapsulation bytes, MTU, notes) — never from a scheme's name. Every comparison states whether
 * it is significant (see significance.ts: the measurement's own test on the per-run values).
 */

export interface RankEntry {
  scheme: string;
  gbps: number;
  tier: number;
}

export interface Ranking {
  testId: string;
  /** A ranking of stand-ins only (they are never ranked with the real datapaths). */
  standIns?: boolean;
  title: string;
  entries: RankEntry[];
  /** Schemes not significantly different from the tier's leader share a tier. */
  tiers: string[][];
  text: string;
}

export interface Cost {
  scheme: string;
  placement: Placement;
  testId: string;
  vsHost?: number;
  /** This scheme's samples against the host's. */
  test?: Difference;
  significant: boolean;
  /** Structural causes from the plan. */
  causes: string[];
  /** What measured figures say (CPU per Gbit against the host). */
  evidence: string[];
  text: string;
}

export interface Recommendation {
  constraint: string;
  pick?: string;
  /** The runner-up is not significantly different from the pick. */
  tiedWith?: string;
  text: string;
}

export interface Verdicts {
  headline: string[];
  /** Round-trip latency, when the run measured it. */
  latency: LatencyVerdicts;
  rankings: Ranking[];
  costs: Cost[];
  recommendations: Recommendation[];
  caveats: string[];
}

/** A test's Gbit/s between two schemes (a is the reference). */
function compareGbps(a: SchemeView, b: SchemeView, id: string): Difference | undefined {
  const xa = gbpsSamples(testOf(a, id));
  const xb = gbpsSamples(testOf(b, id));
  return xa.length && xb.length ? difference(xa, xb) : undefined;
}

const medianGbps = (s: SchemeView, id: string) => lineOf(s, id)?.gbps;

export function rank(model: ReportModel, id: string, standIns = false): Ranking | undefined {
  const withFigure = model.measured.filter(
    (s) => !!s.standIn === standIns && medianGbps(s, id) !== undefined && gbpsSamples(testOf(s, id)).length,
  );
  if (!withFigure.length) return undefined;
  // Holm-corrected pairwise tests decide the order: "A > B" is printed only when A against B is significant.
  const ranked = tieredRanking(
    withFigure,
    (s) => gbpsSamples(testOf(s, id)),
    (s) => medianGbps(s, id)!,
    true,
  );
  const grouped = ranked.tiers;
  const title = testTitle(specOf(model.result, id), id);
  const part = (t: SchemeView[], i: number) =>
    t.map((s) => `${s.label} ${fmt(medianGbps(s, id), 1)}`).join(' ≈ ') +
    (t.length > 1 ? (ranked.untested[i] ? ' (not all testable: too few runs)' : ' (not significantly different after Holm)') : '');
  return {
    testId: id,
    ...(standIns ? { standIns } : {}),
    title,
    entries: grouped.flat().map((s) => ({ scheme: s.rec.name, gbps: medianGbps(s, id)!, tier: grouped.findIndex((t) => t.includes(s)) })),
    tiers: grouped.map((t) => t.map((s) => s.rec.name)),
    text: `${standIns ? 'Stand-ins, ranked apart: ' : ''}${title} (Gbit/s): ${grouped.map(part).join(' > ')}`,
  };
}

/** TCP payload per full-size packet: MTU − 20 (IP) − 20 (TCP) − 12 (timestamps). */
const mss = (mtu: number) => mtu - 52;

function causes(p: PacketPath): string[] {
  const out: string[] = [];
  if (p.encapBytes > 0 && p.workloadMtu) {
    const share = mss(p.workloadMtu) / mss(p.underlayMtu) - 1;
    const tunnel = p.tunnel ? `${p.tunnel.type.replace(/^ovs-/, '').toUpperCase()} ` : '';
    out.push(
      `${p.encapBytes} B of ${tunnel}encapsulation per packet: MTU ${p.workloadMtu} instead of ${p.underlayMtu}, so each full packet carries ${Math.abs(share * 100).toFixed(1)}% less TCP payload`,
    );
  } else if (p.encapBytes > 0) out.push(`${p.encapBytes} B of encapsulation per packet`);
  if (p.userspace) out.push('a userspace copy: every packet crosses the kernel boundary through a process');
  if (p.nat) out.push('NAT: connection tracking and address rewriting on every packet');
  if (p.hostStack)
    out.push(`an extra pass through the host's IP stack (forwarding, netfilter)${p.attach === 'bridge' ? ' after a bridge hop' : ''}`);
  else if (p.attach === 'bridge' || p.attach === 'ovs') out.push('a bridge hop on each host');
  if (p.attach !== 'none' && (p.attach === 'macvlan' || p.attach === 'ipvlan') && !p.hostStack)
    out.push(`no host-stack traversal: ${p.attach} children switch packets onto the underlay port`);
  else if (p.attach !== 'none' && p.attach !== 'macvlan' && p.attach !== 'ipvlan') out.push('a veth pair between container and host');
  return out;
}

function cost(model: ReportModel, s: SchemeView, placement: Placement): Cost | undefined {
  const host = model.host;
  const id = headlineTest(model.result, placement);
  if (!host || !id || medianGbps(s, id) === undefined || medianGbps(host, id) === undefined) return undefined;
  const line = lineOf(s, id)!;
  const w = compareGbps(host, s, id);
  const significant = !!w?.significant;
  const hostMean = gbpsSamples(testOf(host, id)).reduce((a, b, _, xs) => a + b / xs.length, 0);
  const ratio = line.vsHost ?? medianGbps(s, id)! / medianGbps(host, id)!;
  const where = `${placement}-host`;
  let text: string;
  if (!w || w.p === undefined) text = `${where}: ${Math.round(ratio * 100)}% of host (${pText(w)})`;
  else if (!significant) text = `${where}: ≈ host (${signedPct(ratio - 1)}, not significant: ${pText(w)})`;
  else
    text = `${where}: ${signedPct(ratio - 1)} against host (95% CI ${signedPct(Math.max(-1, w.ci95[0] / hostMean))} to ${signedPct(Math.max(-1, w.ci95[1] / hostMean))}, ${pText(w)})`;
  const evidence: string[] = [];
  const cpuS = samples(testOf(s, id), (r) => r.cpuSecondsPerGbit);
  const cpuH = samples(testOf(host, id), (r) => r.cpuSecondsPerGbit);
  const cs = lineOf(s, id)?.cpuSecondsPerGbit;
  const ch = lineOf(host, id)?.cpuSecondsPerGbit;
  if (cs !== undefined && ch !== undefined && ch > 0 && cpuS.length && cpuH.length) {
    const cw = difference(cpuH, cpuS);
    const split = cpuSplit(testOf(s, id));
    const where2 = split && split.total > 0 ? `; ${Math.round((split.softirq / split.total) * 100)}% of it in softirq` : '';
    evidence.push(
      `${where}, CPU per Gbit ${(cs / ch).toFixed(2)}× the host's (${cw.p === undefined ? 'too few runs to test' : cw.significant ? `significant, ${pText(cw)}` : `not significant, ${pText(cw)}`})${where2}`,
    );
  }
  if (significant && ratio < 1 && s.path.encapBytes > 0 && s.path.workloadMtu) {
    const mtuShare = mss(s.path.workloadMtu) / mss(s.path.underlayMtu);
    if (ratio < mtuShare)
      evidence.push(
        `${where}, the smaller MTU explains at most ${signedPct(mtuShare - 1, 1)}; the rest of the ${signedPct(ratio - 1)} is the extra per-packet work`,
      );
  }
  if (significant && ratio > 1)
    evidence.push(
      `${where}, faster than the host baseline: check the offloads in the environment section (GRO/TSO differ between interfaces)`,
    );
  return { scheme: s.rec.name, placement, testId: id, vsHost: ratio, test: w, significant, causes: causes(s.path), evidence, text };
}

interface Constraint {
  constraint: string;
  eligible(p: PacketPath): boolean;
  why(p: PacketPath): string;
}

const FABRIC_WHY: Record<string, string> = {
  routed:
    'routed without encapsulation: pod routes point at peer hosts, so hosts must share a segment or the routers must learn the routes (BGP)',
  overlay: 'an overlay: works over any IP underlay, at the cost of its encapsulation',
  l2: 'flat L2: containers take addresses on the underlay segment',
  nat: "NAT: containers hide behind the host's address and are reached through published ports",
  unknown: 'layout not recognised from the plan',
};

const CONSTRAINTS: Constraint[] = [
  { constraint: 'If the hosts share an L2 segment', eligible: (p) => p.fabric !== 'unknown', why: (p) => FABRIC_WHY[p.fabric] },
  {
    constraint: 'If BGP is allowed (the underlay routers can learn pod routes)',
    eligible: (p) => ['routed', 'overlay', 'nat'].includes(p.fabric),
    why: (p) => FABRIC_WHY[p.fabric],
  },
  {
    constraint: 'If the hosts share only an IP network and BGP is not allowed',
    eligible: (p) => p.fabric === 'overlay' || p.fabric === 'nat',
    why: (p) => FABRIC_WHY[p.fabric],
  },
  {
    constraint: 'If every container must be reachable at its own address from other hosts',
    eligible: (p) => ['routed', 'overlay', 'l2'].includes(p.fabric),
    why: (p) => FABRIC_WHY[p.fabric],
  },
  {
    constraint: 'If you need isolation between applications',
    eligible: (p) => p.perWorkloadRoutedIf || p.nat,
    why: (p) =>
      p.perWorkloadRoutedIf
        ? 'each container has its own routed interface on the host, where per-workload rules see every packet'
        : 'only published ports are reachable; everything else stays behind NAT',
  },
];

function recommend(model: ReportModel, c: Constraint, id: string, said: Set<string>): Recommendation {
  const cands = model.measured
    .filter((s) => !s.baseline && !s.standIn && c.eligible(s.path) && medianGbps(s, id) !== undefined)
    .sort((a, b) => medianGbps(b, id)! - medianGbps(a, id)!);
  if (!cands.length) return { constraint: c.constraint, text: `${c.constraint}: none of the measured schemes fits.` };
  const [best, next] = cands;
  const w = next && compareGbps(best, next, id);
  const tied = next && w && w.p !== undefined && !w.significant;
  // The same pick for the same reason a second time: say so rather than repeat the paragraph.
  const why = c.why(best.path);
  const key = [best.rec.name, why, next?.rec.name ?? ''].join('\u0000');
  const again = said.has(key);
  said.add(key);
  let text = `${c.constraint}: **${best.rec.name}** (${fmt(medianGbps(best, id), 1)} Gbit/s) — ${again ? 'as above' : why}.`;
  if (again) {
    // Nothing to add: the comparison with the runner-up was given above.
  } else if (tied) {
    const cb = lineOf(best, id)?.cpuSecondsPerGbit;
    const cn = lineOf(next, id)?.cpuSecondsPerGbit;
    const cheaper =
      cb !== undefined && cn !== undefined
        ? cn < cb
          ? `${next.rec.name} used less CPU per Gbit`
          : `${best.rec.name} used less CPU per Gbit`
        : '';
    text += ` ${next.rec.name} is not significantly different (${pText(w)})${cheaper ? `; ${cheaper}` : ''}.`;
  } else if (next && w) text += ` Ahead of ${next.rec.name} (${fmt(medianGbps(next, id), 1)} Gbit/s, ${pText(w)}).`;
  const bypass = model.measured.filter(
    (s) => !s.baseline && (s.path.attach === 'macvlan' || s.path.attach === 'ipvlan') && !s.path.hostStack,
  );
  if (c.constraint.includes('isolation') && bypass.length)
    text += ` Not ${bypass.map((s) => s.rec.name).join(', ')}: their traffic bypasses the host's IP stack, so the host cannot filter it.`;
  return { constraint: c.constraint, pick: best.rec.name, tiedWith: tied ? next.rec.name : undefined, text };
}

function cpuRecommendation(model: ReportModel, id: string): Recommendation | undefined {
  const cands = model.measured
    .filter(
      (s) =>
        !s.baseline &&
        !s.standIn &&
        lineOf(s, id)?.cpuSecondsPerGbit !== undefined &&
        samples(testOf(s, id), (r) => r.cpuSecondsPerGbit).length,
    )
    .sort((a, b) => lineOf(a, id)!.cpuSecondsPerGbit! - lineOf(b, id)!.cpuSecondsPerGbit!);
  if (cands.length < 2) return undefined;
  const [best, next] = cands;
  const w = difference(
    samples(testOf(best, id), (r) => r.cpuSecondsPerGbit),
    samples(testOf(next, id), (r) => r.cpuSecondsPerGbit),
  );
  const constraint = 'If CPU is the constraint';
  const tail =
    w.p !== undefined && !w.significant
      ? `; ${next.rec.name} is not significantly different (${pText(w)})`
      : `, ahead of ${next.rec.name} (${pText(w)})`;
  return {
    constraint,
    pick: best.rec.name,
    tiedWith: w.p !== undefined && !w.significant ? next.rec.name : undefined,
    text: `${constraint}: **${best.rec.name}**, ${fmt(lineOf(best, id)!.cpuSecondsPerGbit, 3)} CPU-s per Gbit${tail}.`,
  };
}

/** One sentence per placement: the fastest container network, then every cost by significance. */
function headlineOf(model: ReportModel, k: Ranking, costs: Cost[]): string {
  const placement = specOf(model.result, k.testId)?.placement ?? 'cross';
  const mine = costs.filter((c) => c.placement === placement);
  const label = (name: string) => model.schemes.find((s) => s.rec.name === name)?.label ?? name;
  const list = (cs: Cost[]) => cs.map((c) => `${label(c.scheme)} (${signedPct(c.vsHost! - 1)})`).join(', ');
  const containers = k.entries.filter((e) => !model.schemes.find((s) => s.rec.name === e.scheme)?.baseline);
  const parts: string[] = [];
  if (containers.length) {
    const best = containers[0];
    const tied = containers.filter((e) => e !== best && e.tier === best.tier).map((e) => e.scheme);
    parts.push(
      `fastest real container network ${best.scheme}, ${fmt(best.gbps, 1)} Gbit/s${tied.length ? ` (not significantly ahead of ${tied.join(', ')})` : ''}`,
    );
  }
  const slower = mine.filter((c) => c.significant && c.vsHost! < 1).sort((a, b) => a.vsHost! - b.vsHost!);
  const faster = mine.filter((c) => c.significant && c.vsHost! >= 1);
  const par = mine.filter((c) => c.test?.p !== undefined && !c.significant);
  const untested = mine.filter((c) => c.test?.p === undefined);
  if (slower.length) parts.push(`slower than the host: ${list(slower)}`);
  if (par.length) parts.push(`no significant difference from the host: ${list(par)}`);
  if (faster.length) parts.push(`faster than the host: ${list(faster)}`);
  if (untested.length) parts.push(`too few runs to test against the host: ${list(untested)}`);
  return `${placement === 'cross' ? 'Cross-host' : 'Same-host'}: ${parts.join('; ')}.`;
}

export function verdicts(model: ReportModel): Verdicts {
  const r = model.result;
  const rankings = model.placements.flatMap((p) => {
    const id = headlineTest(r, p);
    return id ? [rank(model, id), rank(model, id, true)].flatMap((k) => k ?? []) : [];
  });
  const costs = model.measured.filter((s) => !s.baseline).flatMap((s) => model.placements.flatMap((p) => cost(model, s, p) ?? []));
  const recId = headlineTest(r, model.placements.includes('cross') ? 'cross' : 'same');
  const said = new Set<string>();
  const recommendations = recId
    ? [...CONSTRAINTS.map((c) => recommend(model, c, recId, said)), ...[cpuRecommendation(model, recId)].flatMap((x) => x ?? [])]
    : [];

  const caveats: string[] = [];
  if (!r.complete) caveats.push('The run did not finish: the figures cover only what was measured before it stopped.');
  if (!model.host || model.host.rec.status !== 'ok')
    caveats.push('No host baseline was measured: there is no "% of host" and no cost against it.');
  const few = model.measured.flatMap((s) =>
    s.line.tests.filter((t) => t.gbps !== undefined && t.runs - t.failedRuns < 2).map((t) => `${s.rec.name} ${t.id}`),
  );
  if (few.length) caveats.push(`Fewer than two good runs, so no significance test: ${few.join(', ')}.`);
  const noisy = model.measured.flatMap((s) =>
    s.rec.tests
      .filter((t) => isBulk(t) && t.protocol === 'tcp' && (t.summary?.gbps.cv ?? 0) > 0.1)
      .map((t) => `${s.rec.name} ${t.id} (CV ${Math.round((t.summary!.gbps.cv ?? 0) * 100)}%)`),
  );
  const listed = noisy.length > 8 ? `${noisy.slice(0, 8).join(', ')} and ${noisy.length - 8} more` : noisy.join(', ');
  if (noisy.length)
    caveats.push(
      `Noisy figures (coefficient of variation above 10%), so only large differences can be significant — more repeats, longer runs or pinning help: ${listed}.`,
    );
  const failed = new Map<string, { schemes: string[]; error: string }>();
  for (const s of model.measured) {
    for (const t of s.rec.tests.filter((x) => x.runs.length && x.runs.every((run) => !run.ok))) {
      const f = failed.get(t.id) ?? { schemes: [], error: (t.runs[0].error ?? 'failed').replace(/\s+/g, ' ') };
      f.schemes.push(s.rec.name);
      failed.set(t.id, f);
    }
  }
  const short = (e: string) => (e.length > 140 ? `${e.slice(0, 140)}…` : e);
  for (const [id, f] of failed)
    caveats.push(
      `Every run of ${id} failed in ${f.schemes.join(', ')} (first error: ${short(f.error)}); details in the scheme cards and result.json.`,
    );
  for (const s of model.schemes.filter((x) => x.rec.status !== 'ok'))
    caveats.push(`${s.rec.name} was not measured (${s.rec.status}): ${s.rec.reason ?? 'no reason recorded'}.`);

  const headline = rankings.filter((k) => !k.standIns).map((k) => headlineOf(model, k, costs));
  return { headline, latency: latencyVerdicts(model), rankings, costs, recommendations, caveats };
}
