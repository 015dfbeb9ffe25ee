import { median } from 'simple-statistics';
import { checkAbort, isAborting, releaseLab } from '../apply/cleanup.js';
import { teardownState } from '../apply/teardown.js';
import { labEncapCounters } from './encap-counters.js';
import { bringUp, unsupportedReason, type OnHosts, type UpLab } from '../apply/up.js';
import { RunError } from '../errors.js';
import { executorOf, lostHost, resetLostHosts } from '../util/executor.js';
import { hostsCpuSampler } from './host-cpu.js';
import { controlPlaneOf, type Topology } from '../lab/types.js';
import type { ResultFile, RunRecord, SchemeRecord, TestRecord, TestSpec } from '../result/types.js';
import type { DoctorFindingRecord } from '../result/doctor.js';
import { cpusFor, ownCpus } from '../runners/affinity.js';
import { toolOf } from '../runners/registry.js';
import type { Scheme } from '../plan/scheme.js';
import { bpfDelta, readBpfCounters } from './bpf-counters.js';
import { deriveAll } from '../result/derive.js';
import { daemonVersion, interfaceInfo } from './environment.js';
import { executeRun, type RunContext } from './execute.js';
import { measureConvergence } from './converge.js';
import { pairFor } from './pairs.js';
import { ServerPool, serverNeeds } from './servers.js';

/**
 * Measures schemes one at a time: build, run every test (a warm-up, then the repeats), tear down.
 * measureLab runs the tests on a lab that is already up (the benchmarks use it on their own lab).
 * A test that cannot run (its server does not start, the tool fails) is recorded as failed runs
 * with the reason, and the next test goes on.
 */

export interface SuiteOptions {
  repeats: number;
  /** Seconds per run (whole seconds), unless a test says otherwise. */
  seconds: number;
  udpRate: string;
  tests: TestSpec[];
  /** Seconds of the unrecorded warm-up run before each test's repeats; 0 or absent: none. */
  warmupSeconds?: number;
  /** --cpus: the CPU set benchmark processes run on (taskset prefix); absent: all. */
  cpus?: number[];
  /** --pin: client and server each on their own core of that set (a test's `pin` overrides). */
  pin?: boolean;
  /** Also measure the control plane's convergence (converge.ts), on labs of its own after the tests. */
  converge?: boolean;
  /** Runs on the built lab before teardown when a test run failed (`cnlab run` passes doctor). */
  diagnose?: (up: UpLab) => Promise<DoctorFindingRecord[]>;
  /** `cnlab run -i`: build on the inventory's hosts over SSH; servers, clients and CPU sampling run there. */
  onHosts?: OnHosts;
}

/**
 * A TCP figure below this share of its peers' median is "far below" them. Healthy kernel data
 * planes on one box differ by about 2x (default-7schemes: calico 2.0, flannel-vxlan 3.4 Gbit/s
 * TCP cross-host), userspace stand-ins by up to about 12x (ovs 0.21); an MTU black hole or a drop
 * storm takes a figure to near zero, well below a tenth.
 */
export const FAR_BELOW_PEERS = 0.1;

/**
 * Pure: why a scheme's lab should be diagnosed before teardown — failed test runs, or a TCP test
 * whose median throughput is below FAR_BELOW_PEERS of the median of the same test over the
 * schemes measured before it in this run (at least two of them) — or null.
 */
export function diagnoseTrigger(
  rec: Pick<SchemeRecord, 'tests'>,
  peers: readonly Pick<SchemeRecord, 'status' | 'tests'>[] = [],
): string | null {
  const runs = rec.tests.flatMap((t) => t.runs);
  const failed = runs.filter((r) => !r.ok).length;
  if (failed) return `${failed} of ${runs.length} test runs failed`;
  for (const t of rec.tests) {
    const mine = t.summary?.gbps.median;
    if (t.protocol !== 'tcp' || mine === undefined) continue;
    const theirs = peers.flatMap((p) =>
      p.status === 'ok' ? p.tests.flatMap((x) => (x.id === t.id && x.summary ? [x.summary.gbps.median] : [])) : [],
    );
    if (theirs.length < 2) continue;
    const mid = median(theirs);
    if (mine < FAR_BELOW_PEERS * mid)
      return `${t.id}: ${mine.toPrecision(3)} Gbit/s, below a tenth of its ${theirs.length} peers' median ${mid.toPrecision(3)} Gbit/s`;
  }
  return null;
}

export interface SuiteContext {
  result: ResultFile;
  /** Persist the result file (called after every test run). */
  save(): void;
  onStatus?(message: string): void;
}

/** Per placement: whether a warm-up has carried traffic over the path yet. */
interface Warmth {
  done: boolean;
}

async function runTest(
  pool: ServerPool,
  test: TestRecord,
  opts: SuiteOptions,
  online: number[],
  ctx: SuiteContext,
  warmth: Warmth,
  cpuTimes?: RunContext['cpuTimes'],
): Promise<void> {
  const pin = test.pin ?? opts.pin ?? false;
  const slot = (i: number) => cpusFor(i, opts.cpus, pin, online);
  const { needs, ports } = serverNeeds(test, { server: slot(1), loadServer: slot(3) });
  const seconds = test.seconds ?? opts.seconds;
  const fail = (error: string) => {
    for (let r = 1; r <= opts.repeats; r++)
      test.runs.push({ repeat: r, startedAt: new Date().toISOString(), ok: false, error, argv: [], raw: '' });
    deriveAll(ctx.result);
    ctx.save();
  };
  try {
    await pool.ensure(needs);
  } catch (e) {
    if (isAborting()) throw e;
    fail((e as Error).message);
    return;
  }
  const run: RunContext = { ports, clientCpus: slot(0), loadClientCpus: slot(2), cpuTimes };
  const affinity = { client: run.clientCpus, server: pool.affinityOf(toolOf(test).name) };
  const warm = opts.warmupSeconds ?? 0;
  // What a warm-up runs is the tool's say: the test itself, one rate of a rate search, or nothing.
  const warmTest = toolOf(test).warmup(test);
  // The warm-up warms the path (neighbour entries, bridge/OVS/daemon learning, flow caches), which
  // every later test of the placement shares: one that worked is enough.
  if (warm > 0 && warmTest && !warmth.done) {
    checkAbort();
    ctx.onStatus?.(`${test.id} warm-up`);
    const w = await executeRun(warmTest, run, warm, 0);
    test.warmup = { seconds: warm, ok: w.ok, ...(w.error ? { error: w.error } : {}) };
    warmth.done = w.ok;
  }
  for (let r = 1; r <= opts.repeats; r++) {
    checkAbort();
    ctx.onStatus?.(`${test.id} run ${r}/${opts.repeats}`);
    const rec: RunRecord = await executeRun(test, run, seconds, r);
    rec.affinity = affinity;
    test.runs.push(rec);
    deriveAll(ctx.result);
    ctx.save();
    // A host that stopped answering (after the executor's retries) ends the scheme, naming it.
    const lost = lostHost();
    if (lost) throw new RunError(lost);
  }
}

export async function measureLab(up: UpLab, rec: SchemeRecord, opts: SuiteOptions, ctx: SuiteContext): Promise<void> {
  const online = ownCpus();
  const cpuTimes = up.state.hosts ? hostsCpuSampler(up.state.hosts) : undefined;
  for (const placement of ['cross', 'same'] as const) {
    const specs = opts.tests.filter((t) => t.placement === placement);
    const pair = pairFor(up.build.workloads, placement);
    if (!specs.length || !pair) continue;
    const [from, to] = pair;
    const pool = new ServerPool(up.state, to.ns, to.ip);
    const warmth: Warmth = { done: false };
    try {
      for (const spec of specs) {
        const ends = {
          client: { node: from.node, ns: from.ns },
          server: { node: to.node, ns: to.ns },
          target: up.build.targetIp(from, to),
        };
        const test: TestRecord = { ...spec, ...ends, metric: toolOf(spec).mainMetric(spec), runs: [] };
        rec.tests.push(test);
        const before = await readBpfCounters(up.state);
        await runTest(pool, test, opts, online, ctx, warmth, cpuTimes);
        if (before) {
          test.bpfCounters = bpfDelta(before, (await readBpfCounters(up.state))!);
          ctx.save();
        }
      }
    } finally {
      await pool.stopAll();
    }
  }
}

/** One scheme: recorded as ok, unsupported (with why) or failed (with why); never throws. */
export async function measureScheme(topology: Topology, scheme: Scheme, opts: SuiteOptions, ctx: SuiteContext): Promise<SchemeRecord> {
  const rec: SchemeRecord = {
    name: scheme.name,
    status: 'ok',
    summary: scheme.summary,
    attach: scheme.attach,
    notes: [...scheme.notes],
    overhead: scheme.overhead,
    tests: [],
  };
  ctx.result.schemes.push(rec);
  // On the user's hosts, this machine's tools say nothing: the build checks the hosts (preflight).
  const why = opts.onHosts ? null : await unsupportedReason(scheme, controlPlaneOf(topology), topology.tenants !== undefined);
  if (why) {
    Object.assign(rec, { status: 'unsupported', reason: why });
    ctx.save();
    return rec;
  }
  let up: UpLab | undefined;
  try {
    ctx.onStatus?.('building');
    const t0 = performance.now();
    resetLostHosts();
    up = await bringUp(topology, scheme, { onStage: (title) => ctx.onStatus?.(`building: ${title}`) }, opts.onHosts);
    rec.buildSeconds = (performance.now() - t0) / 1000;
    Object.assign(rec, { plan: up.plan, workloads: up.build.workloads, mtu: up.build.mtu });
    rec.notes.push(...(up.build.notes ?? []));
    const control = up.build.control;
    if (control)
      rec.controlPlane = {
        mode: 'real',
        label: control.label,
        versions: await Promise.all(
          control.daemons.map((d) => daemonVersion(d, up!.state.hosts && executorOf(up!.state.hosts.hosts[0].namespaces[0]))),
        ),
      };
    else if (scheme.controlRequires) rec.controlPlane = { mode: 'static' };
    if (up.build.standIn ?? scheme.standIn) rec.standIn = up.build.standIn ?? scheme.standIn;
    const pairs = (['cross', 'same'] as const).flatMap((p) => pairFor(up!.build.workloads, p) ?? []);
    const seen = new Map(pairs.map((w) => [w.ns + w.ifName, w]));
    rec.interfaces = await Promise.all([...seen.values()].map(interfaceInfo));
    ctx.save();
    await measureLab(up, rec, opts, ctx);
    rec.encapCounters = await labEncapCounters(up.state.stateDir, up.state.processes);
  } catch (e) {
    Object.assign(rec, { status: 'failed', reason: (e as Error).message });
  } finally {
    const trigger =
      up && opts.diagnose && !opts.onHosts && !isAborting()
        ? diagnoseTrigger(
            rec,
            ctx.result.schemes.filter((x) => x !== rec),
          )
        : null;
    if (up && trigger && opts.diagnose) {
      ctx.onStatus?.('doctor');
      rec.doctor = await opts.diagnose(up).then(
        (findings) => ({ trigger, findings }),
        (e: Error) => ({ trigger, findings: [], error: e.message }),
      );
    }
    // Interrupted: the signal handler owns the teardown.
    if (up && !isAborting()) {
      ctx.onStatus?.('tearing down');
      const t1 = performance.now();
      const report = await teardownState(up.state);
      releaseLab(up.state);
      rec.teardownSeconds = (performance.now() - t1) / 1000;
      if (report.problems.length) rec.notes.push(`teardown: ${report.problems.join('; ')}`);
    }
    ctx.save();
  }
  if (opts.converge && !opts.onHosts && rec.status === 'ok' && !isAborting()) {
    rec.convergence = await measureConvergence(topology, scheme, { repeats: opts.repeats, onStatus: ctx.onStatus });
    ctx.save();
  }
  return rec;
}
