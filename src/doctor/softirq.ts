import { readFile } from 'node:fs/promises';
import { cpuDelta, parseProcStatPerCpu, type CpuTimes } from '../measure/cpu.js';
import type { UpLab } from '../apply/up.js';
import { trackProcess, untrackProcess } from '../apply/state.js';
import { SERVICE_PORT } from '../lab/ports.js';
import type { Workload } from '../lab/types.js';
import { runClient, startServer } from '../runners/iperf3.js';
import type { Finding } from './types.js';

/**
 * Resources: a CPU saturated by softirq (the kernel's packet processing: veth, bridge, VXLAN,
 * netfilter) while a load probe (iperf3 TCP, LOAD_SECONDS) crosses the path — /proc/stat per CPU
 * before and after. One CPU near 100% softirq is the bottleneck of a slow figure: the path's
 * packet processing is serialized on it. No single command fixes that (spreading it — RPS,
 * more queues, more streams — is a design choice), so the finding carries evidence only.
 */

export const LOAD_SECONDS = 2;

/** A CPU's share of softirq at or above this during the probe is named (below it, not the bottleneck). */
export const SOFTIRQ_SATURATED = 0.9;

/** Pure: per-CPU times before and after the probe, what the probe was → findings. */
export function judgeSoftirq(before: ReadonlyMap<number, CpuTimes>, after: ReadonlyMap<number, CpuTimes>, probe: string): Finding[] {
  const out: Finding[] = [];
  for (const [cpu, a] of after) {
    const b = before.get(cpu);
    if (!b) continue;
    const d = cpuDelta(b, a);
    // Under a tenth of a second sampled: too little to judge.
    if (d.total < 0.1 || d.softirq / d.total < SOFTIRQ_SATURATED) continue;
    const pct = Math.round((100 * d.softirq) / d.total);
    out.push({
      check: 'cpu',
      rank: 40,
      what: `CPU ${cpu} at ${pct}% softirq during ${probe}: the bottleneck of the path's throughput (packet processing serialized on one CPU)`,
      evidence: `/proc/stat cpu${cpu}: softirq ${d.softirq.toFixed(2)} s of ${d.total.toFixed(2)} s (user ${d.user.toFixed(2)}, system ${d.system.toFixed(2)}, idle ${d.idle.toFixed(2)})`,
      fix: [],
    });
  }
  return out;
}

const readPerCpu = async () => parseProcStatPerCpu(await readFile('/proc/stat', 'utf8'));

/**
 * The load probe: an iperf3 server in TO's namespace (tracked in the lab's state while it runs), a
 * LOAD_SECONDS TCP client from FROM, /proc/stat per CPU around the client. A failed client or server
 * is no finding here (reachability is the path check's).
 */
export async function checkSoftirq(up: Pick<UpLab, 'state'>, from: Workload, to: Workload, target: string): Promise<Finding[]> {
  // A server that cannot start (the port still taken by a test's own) leaves the other checks' findings standing.
  const server = await startServer({
    ns: to.ns,
    port: SERVICE_PORT,
    onSpawn: (pid) => trackProcess(up.state, pid, to.ns, 'doctor-iperf3-server', ['iperf3', '-s', '-p', String(SERVICE_PORT)]),
  }).catch(() => undefined);
  if (!server) return [];
  try {
    const before = await readPerCpu();
    const { result } = await runClient({ ns: from.ns, target, port: SERVICE_PORT, seconds: LOAD_SECONDS, protocol: 'tcp' });
    const after = await readPerCpu();
    if (!result.ok) return [];
    const rate = (result.bitsPerSecond / 1e9).toPrecision(3);
    return judgeSoftirq(before, after, `${LOAD_SECONDS} s of iperf3 TCP ${from.node} → ${target} (${rate} Gbit/s)`);
  } finally {
    await server.stop();
    untrackProcess(up.state, server.pid);
  }
}
