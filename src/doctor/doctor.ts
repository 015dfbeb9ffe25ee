import { probePair } from '../apply/mtu-check.js';
import { InputError } from '../errors.js';
import type { Workload } from '../lab/types.js';
import { checkBgp } from './bgp.js';
import { checkConntrack } from './conntrack.js';
import { checkDaemons } from './daemons.js';
import { checkDrops } from './drops.js';
import { doctorLabOf, planSteps, type DoctorLab } from './load.js';
import type { UpLab } from '../apply/up.js';
import type { DoctorFindingRecord } from '../result/doctor.js';
import { checkLeases } from './leases.js';
import { checkMtu } from './mtu.js';
import { checkNft } from './nft.js';
import { checkOffloads } from './offloads.js';
import { checkOverlay } from './overlay.js';
import { checkPath } from './path.js';
import { checkReach } from './reach.js';
import { checkSoftirq } from './softirq.js';
import { walkLines } from './walk.js';
import { checkSysctls } from './sysctls.js';
import { checkVxlan } from './vxlan.js';
import type { Finding } from './types.js';

/**
 * `cnlab doctor LAB [FROM TO]`: the checks run against the live kernel, findings sorted most likely
 * cause first (a state difference from the plan before a symptom such as an unanswered ping).
 */

export interface DoctorReport {
  lab: string;
  scheme: string;
  path: { from: string; to: string; target: string } | null;
  /** The live path walk, one line per hop (walk.ts). */
  walk?: string[];
  findings: Finding[];
}

/** Pure: the workloads named FROM and TO, or the default cross-host pair. */
export function pickPath(workloads: readonly Workload[], from?: string, to?: string): [Workload, Workload] | null {
  if (from === undefined && to === undefined) return probePair(workloads);
  const a = workloads.find((w) => w.node === from);
  const b = workloads.find((w) => w.node === to);
  const names = workloads.map((w) => w.node).join(', ');
  if (!a || !b) throw new InputError(`no workload named "${!a ? from : to}" in this lab`, `workloads: ${names}`);
  if (a === b) throw new InputError('FROM and TO are the same workload');
  return [a, b];
}

/** Pure: findings, most likely cause first (stable within a rank). */
export function sortFindings(findings: readonly Finding[]): Finding[] {
  return findings
    .map((f, i) => [f, i] as const)
    .sort((x, y) => x[0].rank - y[0].rank || x[1] - y[1])
    .map(([f]) => f);
}

/** load: also run the load probe (iperf3 across the path, CPUs sampled) — for a slow figure; needs a lab cnlab up recorded. */
export async function runDoctor(d: DoctorLab, from?: string, to?: string, opts: { load?: boolean } = {}): Promise<DoctorReport> {
  const steps = planSteps(d.plan);
  const pair = pickPath(d.build.workloads, from, to);
  const hostNs = d.lab.hosts.map((h) => h.ns);
  const state = [
    checkDaemons(d.state, steps),
    ...(await Promise.all([
      checkLeases(d.state),
      checkConntrack(hostNs),
      checkBgp(d.state),
      checkSysctls(steps),
      checkNft(steps, hostNs),
      checkOverlay(planSteps(d.staticPlan)),
      checkVxlan(planSteps(d.staticPlan)),
      checkOffloads(d.lab, d.plan.stages),
    ])),
  ];
  const probes: Finding[][] = [];
  let path: DoctorReport['path'] = null;
  let walk: string[] | undefined;
  if (pair) {
    const [a, b] = pair;
    const target = d.build.targetIp(a, b);
    path = { from: a.node, to: b.node, target };
    const reach = await checkReach(a, b, target);
    probes.push(reach);
    // After the ping: its neighbour lookups are what the walk follows.
    const p = await checkPath(d.plan.namespaces, a, b, target, planSteps(d.staticPlan), !reach.length);
    walk = walkLines(p.walk);
    probes.push(p.findings);
    if (!reach.length) {
      probes.push(await checkMtu(a, target, d.build.mtu));
      probes.push(await checkDrops(d.plan.namespaces, a, target, d.build.mtu, steps));
      if (opts.load) probes.push(await checkSoftirq(d, a, b, target));
    }
  }
  return { lab: d.state.lab, scheme: d.state.scheme, path, walk, findings: sortFindings([...state, ...probes].flat()) };
}

/** `cnlab run`'s diagnosis of a failing lab before teardown: doctor's findings as the result file keeps them. */
export async function diagnoseLab(up: UpLab): Promise<DoctorFindingRecord[]> {
  const report = await runDoctor(await doctorLabOf(up), undefined, undefined, { load: true });
  return report.findings.map(({ check, what, evidence, fix }) => ({ check, what, evidence, fix }));
}
