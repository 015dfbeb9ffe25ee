import { placeHosts, hostExecutor } from '../apply/hosts.js';
import type { HostsRecord } from '../apply/state.js';
import { lostHost, type Executor } from '../util/executor.js';
import { parseProcStat, type CpuTimes } from './cpu.js';

/**
 * CPU on the user's own hosts (`cnlab run -i`): each host's aggregate /proc/stat line read over its
 * own SSH session around each client run, summed over the hosts. Hosts that report one boot ID
 * share a kernel (containers or namespaces on one machine, as in the test fixture) and are read
 * once, so nothing is counted twice. The SSH sessions that read it are part of the window.
 */

const READ = ['sh', '-c', 'cat /proc/sys/kernel/random/boot_id && grep "^cpu " /proc/stat'];

async function read(ex: Executor): Promise<{ boot: string; times: CpuTimes }> {
  const r = await ex.run(READ, { timeoutMs: 30_000 });
  // A host lost after the executor's retries: its one line.
  if (r.code !== 0)
    throw new Error(lostHost() ?? `host ${ex.host}: reading /proc/stat: ${(r.stderr || `exit ${r.code}`).trim().split('\n').slice(-1)[0]}`);
  const [boot, ...rest] = r.stdout.split('\n');
  return { boot: boot.trim(), times: parseProcStat(rest.join('\n')) };
}

/** Pure: field-wise sum. */
export function sumCpuTimes(all: CpuTimes[]): CpuTimes {
  const out = { user: 0, nice: 0, system: 0, idle: 0, iowait: 0, irq: 0, softirq: 0, steal: 0 };
  for (const t of all) for (const k of Object.keys(out) as (keyof CpuTimes)[]) out[k] += t[k];
  return out;
}

/** A sampler for the hosts' kernels (one per boot ID, found on the first call). */
export function hostsCpuSampler(rec: HostsRecord): () => Promise<CpuTimes> {
  placeHosts(rec);
  const executors = rec.hosts.map((h) => hostExecutor(rec, h));
  let kernels: Executor[] | undefined;
  return async () => {
    if (!kernels) {
      const first = await Promise.all(executors.map(async (ex) => ({ ex, ...(await read(ex)) })));
      const seen = new Set<string>();
      kernels = first.filter((k) => !seen.has(k.boot) && seen.add(k.boot)).map((k) => k.ex);
      return sumCpuTimes(first.filter((k) => kernels!.includes(k.ex)).map((k) => k.times));
    }
    return sumCpuTimes((await Promise.all(kernels.map(read))).map((k) => k.times));
  };
}
