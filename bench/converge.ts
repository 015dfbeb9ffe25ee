import { loadTopology } from '../src/lab/topology.js';
import { measureConvergence } from '../src/measure/converge.js';
import { measureScheme } from '../src/measure/suite.js';
import { tcpTest } from '../src/measure/tests.js';
import type { ConvergenceRecord } from '../src/result/convergence.js';
import { getScheme } from '../src/schemes/registry.js';
import { benchResult } from './result.js';

/**
 * Control-plane convergence at several sizes (calico full mesh, calico with a route reflector,
 * flannel-vxlan), beside issue 11's targets at 50 hosts: a new container reachable cross-host in
 * ≤ 2 s through BGP and ≤ 0.3 s through the etcd watch. Flannel leases subnets per host, so its
 * new container needs no etcd change; the etcd-watch target is read against the rejoin (a host's
 * lease written → its containers reached from host 1). And TCP throughput with the control plane
 * static and real.
 */

/** The lab's name (CNLAB_BENCH_LAB to keep clear of another engineer's). */
const BENCH_LAB = process.env.CNLAB_BENCH_LAB ?? 'cv-bench';

const CONFIGS = [{ scheme: 'calico', bgp: 'mesh' as const }, { scheme: 'calico', bgp: 'rr' as const }, { scheme: 'flannel-vxlan' }];

const f = (x: number | undefined) => (x === undefined ? '–' : `${x.toFixed(3)} s`);
const mark = (ok: boolean) => (ok ? 'ok  ' : 'MISS');

function line(label: string, hosts: number, c: ConvergenceRecord): string {
  const m = c.median ?? {};
  const bgp = label.startsWith('calico');
  const target =
    hosts >= 50
      ? bgp
        ? m.newContainer !== undefined && m.newContainer <= 2
        : (m.rejoinFromLease ?? m.rejoin) !== undefined && (m.rejoinFromLease ?? m.rejoin)! <= 0.3
      : undefined;
  const errors = [...c.runs.flatMap((r) => (r.error ? [r.error] : [])), ...c.notes.filter((n) => n.startsWith('limit:'))];
  const head = target === undefined ? '    ' : mark(target);
  return `${head} converge ${label} at ${hosts} hosts (${c.runs.length} repeat${c.runs.length === 1 ? '' : 's'}): cold start ${f(m.coldStart)}, new container ${f(m.newContainer)}, host loss ${f(m.hostLoss)}, rejoin ${f(m.rejoin)}${m.rejoinFromLease !== undefined ? ` (from the lease ${f(m.rejoinFromLease)})` : ''}, routes/host ${m.routesPerHost ?? '–'}${hosts >= 50 ? (bgp ? ' (target: new container ≤ 2 s)' : ' (target: rejoin through the etcd watch, from the lease, ≤ 0.3 s)') : ''}${errors.length ? `; errors: ${errors.join('; ')}` : ''}`;
}

export async function convergeLines(sizes: number[], only?: string): Promise<string[]> {
  const out: string[] = [];
  for (const hosts of sizes)
    for (const c of CONFIGS.filter((x) => !only || x.scheme === only)) {
      const topology = loadTopology({ lab: BENCH_LAB, hosts: String(hosts), sameHost: false, ...(c.bgp ? { bgp: c.bgp } : {}) });
      const t0 = performance.now();
      const rec = await measureConvergence(topology, getScheme(c.scheme), { repeats: hosts <= 2 ? 3 : 1 });
      const label = c.bgp ? `${c.scheme} --bgp ${c.bgp}` : c.scheme;
      out.push(`${line(label, hosts, rec)} [${((performance.now() - t0) / 1000).toFixed(0)} s wall]`);
      console.log(out.at(-1));
    }
  return out;
}

/** TCP cross-host, 3 × 2 s, with --control-plane static and real: the daemons should cost nothing on the data path. */
export async function staticVsReal(): Promise<string[]> {
  const out: string[] = [];
  for (const scheme of ['calico', 'flannel-vxlan']) {
    const gbps: Record<string, number | undefined> = {};
    for (const mode of ['static', 'real'] as const) {
      const topology = loadTopology({ lab: BENCH_LAB, sameHost: false, controlPlane: mode });
      const opts = { repeats: 3, seconds: 2, udpRate: '1G', tests: [tcpTest(1, 'cross')], warmupSeconds: 1 };
      const result = await benchResult(topology, { ...opts });
      const rec = await measureScheme(topology, getScheme(scheme), opts, { result, save: () => {} });
      gbps[mode] = rec.tests[0]?.summary?.gbps?.median;
    }
    const [s, r] = [gbps.static, gbps.real];
    const ratio = s && r ? r / s : undefined;
    out.push(
      `${mark(ratio !== undefined && ratio >= 0.9)} ${scheme} TCP cross-host: --control-plane static ${s?.toFixed(2) ?? '–'} Gbit/s, real ${r?.toFixed(2) ?? '–'} Gbit/s (real/static ${ratio?.toFixed(3) ?? '–'}; target: within noise, ≥ 0.9)`,
    );
  }
  return out;
}
