import { loadTopology } from '../src/lab/topology.js';
import { measureScheme } from '../src/measure/suite.js';
import { tcpTest } from '../src/measure/tests.js';
import type { SchemeRecord } from '../src/result/types.js';
import { benchResult } from './result.js';
import { redirects } from '../src/report/bpf.js';
import { getScheme } from '../src/schemes/registry.js';

/**
 * The BPF datapath against the host and Calico, from one run of the suite (host, calico, cilium,
 * cilium-legacy measured one after another in the same process, as `cnlab run` does): TCP with one
 * stream across hosts and on one host, the medians' ratios and each one's CPU-seconds per Gbit.
 * Target: cilium ≥ 0.95 × host across hosts (published work found eBPF host routing at node speed).
 */

export interface BpfBenchRow {
  placement: 'cross' | 'same';
  gbps: Record<string, number>;
  cpu: Record<string, number | undefined>;
  redirects: number;
}

export async function bpfBench(repeats = 5, seconds = 3): Promise<BpfBenchRow[] | string> {
  const names = ['host', 'calico', 'cilium', 'cilium-legacy'];
  const topology = loadTopology({ lab: 'bench-bpf' });
  const tests = [tcpTest(1, 'cross'), tcpTest(1, 'same')];
  const result = await benchResult(topology, { repeats, seconds, udpRate: '1G', tests });
  const recs: Record<string, SchemeRecord> = {};
  for (const n of names) {
    recs[n] = await measureScheme(
      topology,
      getScheme(n),
      { repeats, seconds, udpRate: '1G', tests, warmupSeconds: 1 },
      { result, save: () => {} },
    );
    if (recs[n].status !== 'ok') return `${n} ${recs[n].status}: ${recs[n].reason ?? ''}`;
  }
  return (['cross', 'same'] as const).map((placement) => {
    const id = `tcp-1/${placement}`;
    const t = (n: string) => recs[n].tests.find((x) => x.id === id);
    const c = t('cilium')?.bpfCounters;
    return {
      placement,
      gbps: Object.fromEntries(names.map((n) => [n, t(n)?.summary?.gbps.median ?? NaN])),
      cpu: Object.fromEntries(names.map((n) => [n, t(n)?.summary?.cpuSecondsPerGbit?.median])),
      redirects: c ? redirects(c) : 0,
    };
  });
}

export function bpfLines(rows: BpfBenchRow[] | string): string[] {
  if (typeof rows === 'string') return [`MISS BPF datapath bench did not run: ${rows}`];
  const f = (x: number | undefined, d = 2) => (x === undefined || Number.isNaN(x) ? '–' : x.toFixed(d));
  const out: string[] = [];
  for (const r of rows) {
    const vsHost = r.gbps.cilium / r.gbps.host;
    const vsCalico = r.gbps.cilium / r.gbps.calico;
    const target = r.placement === 'cross' ? 0.95 : undefined;
    const mark = target === undefined ? 'info' : vsHost >= target ? 'ok  ' : 'MISS';
    const where = r.placement === 'cross' ? 'cross-host' : 'same-host';
    out.push(
      `${mark} BPF ${where} TCP: cilium ÷ host ${f(vsHost, 3)}${target ? ` (target ≥ ${target})` : ' (no target)'}, cilium ÷ calico ${f(vsCalico, 3)}, cilium-legacy ÷ host ${f(r.gbps['cilium-legacy'] / r.gbps.host, 3)}; ` +
        `Gbit/s host ${f(r.gbps.host)}, calico ${f(r.gbps.calico)}, cilium ${f(r.gbps.cilium)}, cilium-legacy ${f(r.gbps['cilium-legacy'])}; ` +
        `CPU-s/Gbit host ${f(r.cpu.host, 3)}, calico ${f(r.cpu.calico, 3)}, cilium ${f(r.cpu.cilium, 3)}, cilium-legacy ${f(r.cpu['cilium-legacy'], 3)}; cilium redirect verdicts ${r.redirects}`,
    );
    if (target !== undefined && vsHost < target) {
      const cpuRatio = r.cpu.cilium !== undefined && r.cpu.host ? r.cpu.cilium / r.cpu.host : undefined;
      out.push(
        `     limited by: ${r.redirects === 0 ? 'no redirects counted — the traffic took the host stack' : `per-packet CPU on a 2-core machine: cilium spends ${f(cpuRatio, 2)}× the host's CPU-s per Gbit (two extra veth crossings and two tc programs per packet, each direction), and client, server and softirq share the same two cores`}`,
      );
    }
  }
  return out;
}
