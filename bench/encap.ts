import { releaseLab } from '../src/apply/cleanup.js';
import { trackProcess } from '../src/apply/state.js';
import { teardownState } from '../src/apply/teardown.js';
import { bringUp, type UpLab } from '../src/apply/up.js';
import { labEncapCounters } from '../src/encap/collect.js';
import type { EncapCounters } from '../src/encap/counters.js';
import { loadTopology } from '../src/lab/topology.js';
import { summarize } from '../src/measure/stats.js';
import { runClient, startServer, type Iperf3Server } from '../src/runners/iperf3.js';
import { flannelUdp, flannelUdpEncrypted, flannelUdpScheme } from '../src/schemes/flannel-udp.js';
import { getScheme } from '../src/schemes/registry.js';
import { SERVICE_PORT } from '../src/schemes/parts/workloads.js';
import type { Scheme } from '../src/schemes/types.js';
import { weaveSleeve, weaveSleeveEncrypted, weaveSleeveScheme } from '../src/schemes/weave-sleeve.js';

/**
 * Userspace encapsulation against kernel VXLAN (flannel-vxlan), all labs up at once and measured
 * round-robin, so that a busy machine slows every scheme alike: TCP (1 stream, cross-host) as a
 * ratio to VXLAN, the daemons' CPU-seconds per Gbit (both hosts' daemons, from their counters),
 * flanneld's one-packet-per-system-call pattern for comparison, and batched against unbatched
 * sleeve (plain and encrypted), also with small UDP datagrams.
 */

interface Lab {
  key: string;
  scheme: Scheme;
  up: UpLab;
  server: Iperf3Server;
  from: string;
  target: string;
  tcp: number[];
  udpSmall: number[];
  cpuPerGbit: number[];
}

const cpuOf = (c: Record<string, EncapCounters> | undefined) => Object.values(c ?? {}).reduce((s, x) => s + x.cpuSeconds.user + x.cpuSeconds.system, 0);

async function measure(l: Lab, seconds: number, small: boolean): Promise<void> {
  const procs = () => labEncapCounters(l.up.state.stateDir, l.up.state.processes);
  const before = cpuOf(await procs());
  const tcp = await runClient({ ns: l.from, target: l.target, port: SERVICE_PORT, seconds, protocol: 'tcp' });
  const after = cpuOf(await procs());
  if (!tcp.result.ok) throw new Error(`${l.key}: ${tcp.result.error}`);
  const gbit = (tcp.result.bytes * 8) / 1e9;
  l.tcp.push(tcp.result.bitsPerSecond / 1e9);
  if (after > 0) l.cpuPerGbit.push((after - before) / gbit);
  if (small) {
    const udp = await runClient({ ns: l.from, target: l.target, port: SERVICE_PORT, seconds, protocol: 'udp', udpRate: '400M', length: 256 });
    if (udp.result.ok) l.udpSmall.push(udp.result.bitsPerSecond / 1e9);
  }
}

export interface EncapBench {
  vxlan: number;
  rows: Array<{ name: string; gbps: number; ratio: number; cpuPerGbit?: number; udpSmall?: number }>;
}

export async function encapBench(rounds = 3, seconds = 3): Promise<EncapBench> {
  const schemes: Array<[string, Scheme]> = [
    ['vx', getScheme('flannel-vxlan')],
    ['fu', flannelUdp],
    ['fup', flannelUdpScheme({ encrypt: false, offload: false })],
    ['ws', weaveSleeve],
    ['wsu', weaveSleeveScheme({ encrypt: false, batch: false })],
    ['fue', flannelUdpEncrypted],
    ['wse', weaveSleeveEncrypted],
    ['wseu', weaveSleeveScheme({ encrypt: true, batch: false })],
  ];
  const labs: Lab[] = [];
  try {
    for (const [key, scheme] of schemes) {
      const up = await bringUp(loadTopology({ lab: `bench-enc${key}`, sameHost: false }), scheme);
      const from = up.build.workloads.find((w) => w.hostIndex === 1)!;
      const to = up.build.workloads.find((w) => w.hostIndex === 2)!;
      const server = await startServer({ ns: to.ns, port: SERVICE_PORT, onSpawn: (pid) => trackProcess(up.state, pid, to.ns, 'iperf3-server', ['iperf3', '-s']) });
      labs.push({ key, scheme, up, server, from: from.ns, target: to.ip, tcp: [], udpSmall: [], cpuPerGbit: [] });
    }
    for (let r = 0; r < rounds; r++) for (const l of labs) await measure(l, seconds, l.key.startsWith('ws'));
  } finally {
    for (const l of labs) {
      await l.server.stop();
      await teardownState(l.up.state);
      releaseLab(l.up.state);
    }
  }
  const med = (xs: number[]) => (xs.length ? summarize(xs).median : NaN);
  const vxlan = med(labs[0].tcp);
  return {
    vxlan,
    rows: labs.slice(1).map((l) => ({
      name: l.scheme.name,
      gbps: med(l.tcp),
      ratio: med(l.tcp) / vxlan,
      cpuPerGbit: l.cpuPerGbit.length ? med(l.cpuPerGbit) : undefined,
      udpSmall: l.udpSmall.length ? med(l.udpSmall) : undefined,
    })),
  };
}

/** The lines `npm run bench` prints, each figure beside its target. */
export function encapLines(b: EncapBench): string[] {
  const mark = (ok: boolean) => (ok ? 'ok  ' : 'MISS');
  const row = (name: string) => b.rows.find((r) => r.name === name)!;
  const cpu = (r: { cpuPerGbit?: number }) => (r.cpuPerGbit === undefined ? '' : `; daemons ${r.cpuPerGbit.toFixed(2)} CPU-s/Gbit`);
  const out: string[] = [];
  for (const [name, target] of [
    ['flannel-udp', 0.3],
    ['weave-sleeve', undefined],
    ['flannel-udp-encrypted', 0.2],
    ['weave-sleeve-encrypted', 0.2],
  ] as const) {
    const r = row(name);
    const goal = target === undefined ? '(no target)' : `(target ≥ ${target}×)`;
    out.push(`${target === undefined ? '    ' : mark(r.ratio >= target)} ${name} TCP ${r.gbps.toFixed(2)} Gbit/s = ${r.ratio.toFixed(3)}× flannel-vxlan ${b.vxlan.toFixed(2)} Gbit/s ${goal}${cpu(r)}`);
  }
  const pp = row('flannel-udp-per-packet');
  out.push(`     flannel-udp one packet per system call (as flanneld; offloads off) TCP ${pp.gbps.toFixed(2)} Gbit/s = ${pp.ratio.toFixed(3)}× (no target: what the daemon's batching buys)${cpu(pp)}`);
  for (const name of ['weave-sleeve', 'weave-sleeve-encrypted']) {
    const [on, off] = [row(name), row(`${name}-unbatched`)];
    out.push(`${mark(on.gbps > off.gbps)} ${name} batched TCP ${on.gbps.toFixed(2)} vs unbatched ${off.gbps.toFixed(2)} Gbit/s (target: batched faster)${cpu(off)} unbatched`);
    if (on.udpSmall !== undefined && off.udpSmall !== undefined) {
      out.push(`     ${name} batched UDP 256 B ${on.udpSmall.toFixed(3)} vs unbatched ${off.udpSmall.toFixed(3)} Gbit/s received (no target: each frame is still one device write on the receiver)`);
    }
  }
  return out;
}
