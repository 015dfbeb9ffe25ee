import { checkAbort, critical, isAborting, releaseLab } from '../apply/cleanup.js';
import { trackProcess, untrackProcess } from '../apply/state.js';
import { teardownState } from '../apply/teardown.js';
import { labEncapCounters } from '../encap/collect.js';
import { bringUp, unsupportedReason, type UpLab } from '../apply/up.js';
import type { Topology } from '../lab/types.js';
import type { Placement, ResultFile, SchemeRecord, TestRecord, TestSpec } from '../result/types.js';
import { runClient, startServer } from '../runners/iperf3.js';
import { SERVICE_PORT } from '../schemes/parts/workloads.js';
import type { Scheme } from '../schemes/types.js';
import { cpuDelta, cpuSecondsPerGbit, readCpuTimes } from './cpu.js';
import { deriveAll } from './derive.js';
import { interfaceInfo } from './environment.js';
import { pairFor } from './pairs.js';

/** Measures schemes one at a time: build, run every test with repeats, tear down. measureLab runs
 * the tests on a lab that is already up (the benchmark uses it on its own lab). */

export interface SuiteOptions {
  repeats: number;
  seconds: number;
  udpRate: string;
  tests: TestSpec[];
}

export function defaultTests(udpRate: string, placements: Placement[] = ['cross', 'same']): TestSpec[] {
  return placements.flatMap((p) => [
    { id: `tcp-1/${p}`, protocol: 'tcp' as const, streams: 1, placement: p },
    { id: `tcp-4/${p}`, protocol: 'tcp' as const, streams: 4, placement: p },
    { id: `udp/${p}`, protocol: 'udp' as const, streams: 1, placement: p, udpRate },
  ]);
}

export interface SuiteContext {
  result: ResultFile;
  /** Persist the result file (called after every test run). */
  save(): void;
  onStatus?(message: string): void;
}

export async function measureLab(up: UpLab, rec: SchemeRecord, opts: SuiteOptions, ctx: SuiteContext): Promise<void> {
  for (const placement of ['cross', 'same'] as const) {
    const specs = opts.tests.filter((t) => t.placement === placement);
    const pair = pairFor(up.build.workloads, placement);
    if (!specs.length || !pair) continue;
    const [from, to] = pair;
    ctx.onStatus?.(`${placement}-host: starting iperf3 server in ${to.node}`);
    checkAbort();
    const server = await critical(startServer({
      ns: to.ns,
      port: SERVICE_PORT,
      onSpawn: (pid) => trackProcess(up.state, pid, to.ns, 'iperf3-server', ['iperf3', '-s', '-p', String(SERVICE_PORT)]),
    }));
    try {
      for (const spec of specs) {
        const test: TestRecord = { ...spec, client: { node: from.node, ns: from.ns }, server: { node: to.node, ns: to.ns }, target: up.build.targetIp(from, to), runs: [] };
        rec.tests.push(test);
        for (let r = 1; r <= opts.repeats; r++) {
          checkAbort();
          ctx.onStatus?.(`${spec.id} run ${r}/${opts.repeats}`);
          const startedAt = new Date().toISOString();
          const before = await readCpuTimes();
          const out = await runClient({ ns: from.ns, target: test.target, port: SERVICE_PORT, seconds: opts.seconds, protocol: spec.protocol, streams: spec.streams, udpRate: spec.udpRate });
          const cpu = cpuDelta(before, await readCpuTimes());
          const p = out.result;
          test.runs.push(
            p.ok
              ? { repeat: r, startedAt, ok: true, argv: out.argv, raw: out.raw, gbps: p.bitsPerSecond / 1e9, bytes: p.bytes, retransmits: p.retransmits, lossPercent: p.lostPercent, jitterMs: p.jitterMs, cpu, cpuSecondsPerGbit: cpuSecondsPerGbit(cpu.busy, p.bytes) }
              : { repeat: r, startedAt, ok: false, error: p.error, argv: out.argv, raw: out.raw },
          );
          deriveAll(ctx.result);
          ctx.save();
        }
      }
    } finally {
      await server.stop();
      untrackProcess(up.state, server.pid);
    }
  }
}

/** One scheme: recorded as ok, unsupported (with why) or failed (with why); never throws. */
export async function measureScheme(topology: Topology, scheme: Scheme, opts: SuiteOptions, ctx: SuiteContext): Promise<SchemeRecord> {
  const rec: SchemeRecord = { name: scheme.name, status: 'ok', summary: scheme.summary, attach: scheme.attach, notes: [...scheme.notes], overhead: scheme.overhead, tests: [] };
  ctx.result.schemes.push(rec);
  const why = await unsupportedReason(scheme);
  if (why) {
    Object.assign(rec, { status: 'unsupported', reason: why });
    ctx.save();
    return rec;
  }
  let up: UpLab | undefined;
  try {
    ctx.onStatus?.('building');
    const t0 = performance.now();
    up = await bringUp(topology, scheme, { onStage: (title) => ctx.onStatus?.(`building: ${title}`) });
    rec.buildSeconds = (performance.now() - t0) / 1000;
    Object.assign(rec, { plan: up.plan, workloads: up.build.workloads, mtu: up.build.mtu });
    rec.notes.push(...(up.build.notes ?? []));
    const pairs = (['cross', 'same'] as const).flatMap((p) => pairFor(up!.build.workloads, p) ?? []);
    const seen = new Map(pairs.map((w) => [w.ns + w.ifName, w]));
    rec.interfaces = await Promise.all([...seen.values()].map(interfaceInfo));
    ctx.save();
    await measureLab(up, rec, opts, ctx);
    rec.encapCounters = await labEncapCounters(up.state.stateDir, up.state.processes);
  } catch (e) {
    Object.assign(rec, { status: 'failed', reason: (e as Error).message });
  } finally {
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
  return rec;
}
