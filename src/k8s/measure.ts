import type { V1Pod } from '@kubernetes/client-node';
import type { CpuUse, RunRecord } from '../result/types.js';
import { cpuDelta, cpuSecondsPerGbit, parseProcStat, type CpuTimes } from '../measure/cpu.js';
import { cpuSecondsPer1k, LOAD_LEAD_SECONDS } from '../measure/execute.js';
import { figures as iperf3Figures, parse as iperf3Parse } from '../runners/iperf3.js';
import { figures as qperfFigures, parse as qperfParse } from '../runners/qperf.js';
import { figures as sockperfFigures, parse as sockperfParse } from '../runners/sockperf.js';
import { LOAD_TOOL, toolOf, type ToolName } from '../runners/registry.js';
import type { Failure, RunFigures } from '../runners/types.js';
import { createPod, podLog, type Cluster } from './api.js';
import { clientPod, loadPod, loadSeconds, SAMPLE_SECONDS, type K8sTest } from './plan.js';
import { collect, containerFailure, notInImage, runOnce, waitPod } from './pods.js';

/**
 * One repeat of one test on a cluster: the client as a one-shot pod (and, under load, the bulk
 * flow as a second one beside it), its log read by the same parse functions as on a box, the
 * nodes' CPU from the sampler pods' last /proc/stat lines just before and just after.
 */

export const K8S_CPU_METHOD = `per node /proc/stat read by a hostNetwork, hostPID sampler pod every ${SAMPLE_SECONDS} s; the window runs from the sample last printed before the client pod is created to the one printed after it has ended (so it includes the pod's start and end); summed over the measured nodes, nodes sharing a boot ID (one kernel, e.g. kind) counted once; busy = user + nice + system + irq + softirq (steal excluded), in CPU-seconds (USER_HZ 100); per Gbit = busy / (received bytes × 8 / 1e9)`;

/**
 * Pure: the JSON document of an iperf3 -J client's log. A pod's log holds stdout and stderr both,
 * and iperf3 warns on stderr (e.g. "warning: UDP block size 1472 exceeds TCP MSS 1448"), which a
 * box's run never mixes into the JSON.
 */
export function jsonOfLog(log: string): string {
  const i = log.search(/^\{/m);
  const j = log.lastIndexOf('}');
  return i >= 0 && j > i ? log.slice(i, j + 1) : log;
}

const FIGURES: Record<ToolName, (log: string, t: K8sTest) => RunFigures | Failure> = {
  iperf3: (log) => iperf3Figures(iperf3Parse(jsonOfLog(log)), jsonOfLog(log)),
  sockperf: (log, t) => sockperfFigures(sockperfParse(log, t.spec.protocol)),
  qperf: (log) => qperfFigures(qperfParse(log)),
};

/** Pure: a client's log → the run's figures, through the same parse functions as on a box. */
export function runFigures(t: K8sTest, log: string): Pick<RunRecord, 'ok' | 'error'> & Partial<RunRecord> {
  if (notInImage(log)) return { ok: false, error: `not in image: ${toolOf(t.spec).name}` };
  const f = FIGURES[toolOf(t.spec).name](log, t);
  return 'ok' in f && f.ok === false ? { ok: false, error: f.error } : { ok: true, ...f };
}

/** Pure: each tool whose server container failed in a server pod, with the run's word for it ("not in image: …" when the image lacks it). */
export function serverFailures(server: V1Pod): Map<string, string> {
  const out = new Map<string, string>();
  for (const s of server.status?.containerStatuses ?? []) {
    const why = containerFailure(s);
    if (why)
      out.set(s.name, notInImage(why) ? `not in image: ${s.name}` : `${s.name} server in pod ${server.metadata?.name} failed: ${why}`);
  }
  return out;
}

/** Pure: the last complete /proc/stat "cpu" line of a sampler's log tail. */
export function lastSample(log: string): CpuTimes | undefined {
  const line = log
    .split('\n')
    .filter((l) => /^cpu\s+\d/.test(l))
    .pop();
  try {
    return line ? parseProcStat(line) : undefined;
  } catch {
    return undefined;
  }
}

/** Pure: the sum of the nodes' CPU use. */
export function sumCpu(uses: CpuUse[]): CpuUse {
  const keys = ['user', 'system', 'softirq', 'irq', 'steal', 'idle', 'busy', 'total'] as const;
  return Object.fromEntries(keys.map((k) => [k, uses.reduce((a, u) => a + u[k], 0)])) as unknown as CpuUse;
}

export interface MeasureContext {
  cluster: Cluster;
  run: string;
  ns: string;
  image: string;
  nodes: [string, string];
  seconds: number;
  podTimeoutMs: number;
  targets: Record<K8sTest['network'], string>;
  /** The sampler pods (one per kernel); none: CPU not measured. */
  samplers: string[];
  /** Per network, the tools whose server failed and why. */
  failed: Record<K8sTest['network'], Map<string, string>>;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function samples(x: MeasureContext): Promise<CpuTimes[] | undefined> {
  const all = await Promise.all(x.samplers.map(async (s) => lastSample(await podLog(x.cluster, x.ns, s, 3))));
  return all.every(Boolean) && all.length ? (all as CpuTimes[]) : undefined;
}

/** One repeat of a test; a failed measurement is a run with ok: false and its reason. */
export async function measureRun(x: MeasureContext, t: K8sTest, repeat: number): Promise<RunRecord> {
  const startedAt = new Date().toISOString();
  const p = clientPod(x.run, x.image, x.nodes, t, repeat, x.seconds, x.targets[t.network]);
  const argv = p.spec!.containers[0].command!;
  const failed = [toolOf(t.spec).name, ...(t.spec.underLoad ? [LOAD_TOOL] : [])].map((n) => x.failed[t.network].get(n)).find(Boolean);
  if (failed) return { repeat, startedAt, argv, raw: '', ok: false, error: failed };
  const before = await samples(x);
  let load: Promise<{ ok: boolean; log: string }> | undefined;
  const lp = t.spec.underLoad ? loadPod(x.run, x.image, x.nodes, t, repeat, x.seconds, x.targets[t.network]) : undefined;
  if (lp) {
    await createPod(x.cluster, lp);
    load = waitPod(x.cluster, lp, loadSeconds(t, x.seconds) * 1000 + x.podTimeoutMs, 'done').then((d) => collect(x.cluster, d));
    // Awaited below; if the probe fails first, the run ends and the namespace's deletion stops the load.
    load.catch(() => undefined);
    await sleep(LOAD_LEAD_SECONDS * 1000);
  }
  const done = await runOnce(x.cluster, p, x.seconds * 1000 + x.podTimeoutMs);
  const bulk = load ? await load : undefined;
  await sleep(SAMPLE_SECONDS * 1000 + 50);
  const after = before ? await samples(x) : undefined;
  const f = runFigures(t, done.log);
  const rec: RunRecord = { repeat, startedAt, argv, raw: done.log, ...f };
  if (bulk) {
    const lf = runFigures({ network: t.network, spec: { ...t.spec, kind: undefined, underLoad: undefined } }, bulk.log);
    const largv = lp!.spec!.containers[0].command!;
    rec.load = lf.ok ? { ok: true, gbps: lf.gbps, argv: largv, raw: bulk.log } : { ok: false, error: lf.error, argv: largv, raw: bulk.log };
    if (rec.ok && !lf.ok) Object.assign(rec, { ok: false, error: `the bulk flow failed: ${lf.error}` });
  }
  if (rec.ok && before && after) {
    const cpu = sumCpu(before.map((b, i) => cpuDelta(b, after[i])));
    rec.cpu = cpu;
    if (rec.bytes) rec.cpuSecondsPerGbit = cpuSecondsPerGbit(cpu.busy, rec.bytes);
    if (rec.transactions !== undefined) rec.cpuSecondsPer1kTransactions = cpuSecondsPer1k(cpu.busy, rec.transactions);
  }
  return rec;
}
