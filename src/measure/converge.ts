import { statSync } from 'node:fs';
import { join } from 'node:path';
import { isAborting, releaseLab } from '../apply/cleanup.js';
import { teardownState } from '../apply/teardown.js';
import { bringUp, buildHost, type UpLab } from '../apply/up.js';
import { blockOf } from '../control/bird.js';
import { resolveLab } from '../lab/resolve.js';
import { controlPlaneOf, type Topology, type Workload } from '../lab/types.js';
import { planLab } from '../plan/build.js';
import type { Scheme } from '../plan/scheme.js';
import type { Plan } from '../plan/types.js';
import { convergenceMedians, type ConvergenceRecord, type ConvergenceRun } from '../result/convergence.js';
import {
  addContainer,
  controlPlaneSnapshot,
  loseHost,
  loseStore,
  mechanismOf,
  restartHost,
  routesPerHost,
  waitWithdrawn,
  type Mechanism,
} from './converge-lab.js';
import { neighbourLimit, neighbourNote, neighbourOverflows } from './neighbours.js';
import { Probe } from './probe.js';
import { pinsUnderlay } from '../schemes/parts/pinned-underlay.js';
import { agentDir } from '../schemes/parts/flannel-etcd.js';

/**
 * `cnlab run --tests converge`: per repeat one fresh lab of the scheme, while cnlab's prober
 * (prober-main.ts) watches the containers:
 * - cold start: the control plane's daemons start → every probed container pair answers;
 * - new container: one more container on the last host → it answers from host 1's;
 * - host loss: the last host's daemon stops (flannel: and its lease is deleted) → no peer routes
 *   its blocks; meanwhile, did traffic between the other hosts' containers fail?
 * - rejoin: the daemon starts again → the last host's containers answer from host 1's again;
 * - store loss (etcd): etcd stops (with --etcd 3, the cluster's leader); does existing traffic go
 *   on, and what does a new lease get (a cluster: how soon)?
 * Schemes without a control plane (or with --control-plane static) converge on nothing.
 */

export const STATIC_NOTE = 'static control plane: no convergence';
/** Above this many hosts the cold start is probed from the first and last host's containers only. */
const ALL_PAIRS_MAX_HOSTS = 10;
const WAIT_MS = 120_000;

export interface ConvergeOptions {
  repeats: number;
  onStatus?(message: string): void;
}

const MECHANISM: Record<Mechanism, (t: Topology) => string> = {
  bgp: (t) => `BGP ${t.bgp === 'rr' ? 'route reflector (h1)' : 'full mesh'}`,
  etcd: (t) => `etcd watch${(t.etcd ?? 1) > 1 ? ` (${t.etcd} members)` : ''}`,
};

/** Plan stage numbers (as applyPlan's onStage counts them, namespaces = 0) for the daemons' start and the probes' start. */
function stageMarks(plan: Plan, containers: Set<string>): { daemons: number; probes: number } {
  const isControl = (name: string) => /^etcd(-|$)/.test(name) || name.startsWith('bird-') || name.startsWith('flannel-');
  const daemons = plan.stages.findIndex((s) => s.steps.some((x) => x.kind === 'daemon' && isControl(x.name)));
  let lastContainer = -1;
  plan.stages.forEach((s, i) => {
    if (s.steps.some((x) => containers.has(x.ns) || x.kind === 'cni')) lastContainer = i;
  });
  return { daemons: daemons + 1, probes: Math.max(daemons, lastContainer + 1) + 1 };
}

const mtimeMs = (file: string): number | undefined => {
  try {
    return statSync(file).mtimeMs;
  } catch {
    return undefined;
  }
};
const seconds = (from: number, to: number | null) => (to === null ? undefined : Math.max(0, to - from) / 1000);

/** Probers from `sources` to every other workload: one per source namespace. */
function probeAll(sources: Workload[], all: Workload[], interval: number): Array<{ probe: Probe; targets: string[] }> {
  return sources.map((s) => {
    const targets = all.filter((w) => w.ns !== s.ns).map((w) => w.ip);
    return { probe: new Probe(s.ns, targets, interval), targets };
  });
}

async function oneRun(
  topology: Topology,
  scheme: Scheme,
  repeat: number,
  rec: ConvergenceRecord,
  status: (m: string) => void,
): Promise<ConvergenceRun> {
  const run: ConvergenceRun = { repeat };
  const lab = resolveLab(topology);
  const { plan, build } = planLab(lab, scheme, await buildHost(scheme));
  const workloads = build.workloads;
  const containers = new Set(workloads.map((w) => w.ns));
  const marks = stageMarks(plan, containers);
  const n = lab.hosts.length;
  const hostOf = (w: Workload) => lab.hosts.find((h) => h.containers.some((c) => c.ns === w.ns))!;
  const sources = n <= ALL_PAIRS_MAX_HOSTS ? workloads : workloads.filter((w) => [1, n].includes(hostOf(w).index));
  const pairs = sources.length * (workloads.length - 1);
  const interval = pairs <= 100 ? 20 : 100;
  rec.probed = `${n <= ALL_PAIRS_MAX_HOSTS ? 'every container pair' : `from the containers of h1 and h${n} to every other`} (${pairs} pairs), TCP connect every ${interval} ms`;
  let t0 = 0;
  let probes: Array<{ probe: Probe; targets: string[] }> = [];
  const startProbes = () => {
    if (!probes.length) probes = probeAll(sources, workloads, interval);
  };
  let up: UpLab | undefined;
  const extra: Probe[] = [];
  try {
    status(`converge ${repeat}: building`);
    up = await bringUp(topology, scheme, {
      onStage: (_title, index) => {
        if (index === marks.daemons) t0 = Date.now();
        if (index === marks.probes && t0) startProbes();
      },
    });
    startProbes();
    const mech = mechanismOf(up);
    if (!mech || !t0) throw new Error('the build ran no control plane');
    rec.mechanism = MECHANISM[mech](topology);
    const done = await Promise.all(probes.map((p) => p.probe.allOk(p.targets, WAIT_MS, t0)));
    run.coldStartSeconds = done.includes(null) ? undefined : seconds(t0, Math.max(...(done as number[])));
    if (run.coldStartSeconds === undefined) {
      const silent = probes.flatMap((p) => p.targets.filter((t) => !p.probe.okNow(t)).map((t) => `${p.probe.ns}→${t}`));
      throw new Error(
        `cold start: ${silent.length} of ${pairs} pairs did not answer within ${WAIT_MS / 1000} s (e.g. ${silent.slice(0, 3).join(', ')}); ${await controlPlaneSnapshot(up, mech)}`,
      );
    }
    run.routesPerHost = await routesPerHost(up, mech);
    probes.forEach((p) => p.probe.stop());

    const first = workloads[0];
    const last = up.lab.hosts[n - 1];
    status(`converge ${repeat}: new container on ${last.name}`);
    const tNew = Date.now();
    const added = await addContainer(up, last, mech, { attach: scheme.attach === 'direct' ? 'direct' : 'cni' });
    const fromH1 = new Probe(first.ns, [added.ip], 20);
    extra.push(fromH1);
    run.newContainerSeconds = seconds(tNew, await fromH1.allOk([added.ip], WAIT_MS, tNew));
    rec.newContainer = `a container ${added.what}`;

    status(`converge ${repeat}: host loss (${last.name})`);
    // By name: `last` is the built lab's host object, hostOf() this function's resolved one. (Compared
    // as objects, the lost host's own containers counted as "others": their expected loss was
    // reported as an interruption of ~300 ms, the wait below.)
    const others = workloads.filter((w) => w.ns !== first.ns && hostOf(w).name !== last.name);
    const watch = others.length
      ? new Probe(
          first.ns,
          others.map((w) => w.ip),
          20,
        )
      : null;
    if (watch) {
      extra.push(watch);
      await watch.allOk(
        others.map((w) => w.ip),
        WAIT_MS,
      );
    }
    const lastIps = [...workloads.filter((w) => hostOf(w).name === last.name).map((w) => w.ip), added.ip];
    const blocks = [blockOf(last), ...(added.block ? [added.block] : [])];
    const tLoss = Date.now();
    await loseHost(up, last, mech);
    const gone = await waitWithdrawn(up, up.lab.hosts.slice(0, -1), blocks, WAIT_MS);
    run.hostLossSeconds = seconds(tLoss, gone);
    await new Promise((r) => setTimeout(r, 300));
    const fails = watch ? watch.failures(tLoss, Date.now()) : [];
    const gap = Math.max(0, ...fails.map((x) => x.ms));
    run.othersInterrupted = watch ? gap > 0 : null;
    if (gap) {
      run.othersGapMs = gap;
      const where = (ip: string) => hostOf(workloads.find((w) => w.ip === ip)!).name;
      run.othersGaps = fails.map((x) => `${x.ip} (${where(x.ip)}${where(x.ip) === hostOf(first).name ? ', same host' : ''}) ${x.ms} ms`);
    }

    status(`converge ${repeat}: ${last.name} rejoins`);
    const back = new Probe(first.ns, lastIps, 20);
    extra.push(back);
    const tBack = Date.now();
    await restartHost(up, last, mech);
    const reached = await back.allOk(lastIps, WAIT_MS, tBack);
    run.rejoinSeconds = seconds(tBack, reached);
    if (mech === 'etcd') {
      // The agent writes subnet.env right after its lease is granted: from then on it is the watch.
      const leased = mtimeMs(join(agentDir(up.lab, last), 'subnet.env'));
      if (leased !== undefined && leased >= tBack && reached !== null)
        run.rejoinFromLeaseSeconds = seconds(Math.min(leased, reached), reached);
    }

    if (mech === 'etcd') {
      status(`converge ${repeat}: store loss`);
      const all = workloads.filter((w) => w.ns !== first.ns).map((w) => w.ip);
      const flow = new Probe(first.ns, all, 20);
      extra.push(flow);
      await flow.allOk(all, WAIT_MS);
      const tStore = Date.now();
      const loss = await loseStore(up);
      await new Promise((r) => setTimeout(r, 1000));
      run.storeLoss = { trafficContinued: flow.longestFailure(tStore, Date.now()) === 0, ...loss };
    }
  } catch (e) {
    run.error = (e as Error).message;
  } finally {
    probes.forEach((p) => p.probe.stop());
    extra.forEach((p) => p.stop());
    if (up && !isAborting()) {
      status(`converge ${repeat}: tearing down`);
      const report = await teardownState(up.state);
      releaseLab(up.state);
      if (report.problems.length) run.error = [run.error, `teardown: ${report.problems.join('; ')}`].filter(Boolean).join('; ');
    }
  }
  return run;
}

/** Convergence of one scheme at the topology's size: `repeats` fresh labs, never throws. */
export async function measureConvergence(topology: Topology, scheme: Scheme, opts: ConvergeOptions): Promise<ConvergenceRecord> {
  const rec: ConvergenceRecord = { mode: 'real', hosts: topology.hosts, runs: [], notes: [] };
  if (!scheme.controlRequires || controlPlaneOf(topology) === 'static') return { ...rec, mode: 'static', notes: [STATIC_NOTE] };
  const status = opts.onStatus ?? (() => undefined);
  const fullsBefore = neighbourOverflows();
  for (let r = 1; r <= opts.repeats && !isAborting(); r++) {
    const run = await oneRun(topology, scheme, r, rec, status);
    rec.runs.push(run);
    if (run.error && !run.coldStartSeconds) break;
  }
  rec.median = convergenceMedians(rec.runs);
  const fullsAfter = neighbourOverflows();
  const limit = neighbourNote({
    hosts: topology.hosts,
    // Pinned underlay neighbours are permanent entries, outside the limit.
    fullMesh: rec.mechanism?.startsWith('BGP') === true && topology.bgp !== 'rr' && !pinsUnderlay(resolveLab(topology)),
    limit: neighbourLimit(),
    overflows: fullsBefore !== null && fullsAfter !== null ? fullsAfter - fullsBefore : null,
  });
  if (limit) rec.notes.push(limit);
  if (rec.runs.some((r) => r.othersInterrupted === null))
    rec.notes.push('host loss: no container pair outside the lost host was left to watch');
  return rec;
}
