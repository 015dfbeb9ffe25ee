import { releaseLab } from '../src/apply/cleanup.js';
import { trackProcess } from '../src/apply/state.js';
import { teardownState } from '../src/apply/teardown.js';
import { bringUp, type UpLab } from '../src/apply/up.js';
import { labEncapCounters } from '../src/measure/encap-counters.js';
import type { EncapCounters } from '../src/encap/counters.js';
import { loadTopology } from '../src/lab/topology.js';
import { summarize } from '../src/stats/stats.js';
import { runClient, startServer, type Iperf3Server } from '../src/runners/iperf3.js';
import { flannelUdp, flannelUdpBatched, flannelUdpBatchedEncrypted, flannelUdpEncrypted } from '../src/schemes/flannel-udp.js';
import { getScheme } from '../src/schemes/registry.js';
import { SERVICE_PORT } from '../src/lab/ports.js';
import type { Scheme } from '../src/plan/scheme.js';
import {
  weaveSleeve,
  weaveSleeveBatched,
  weaveSleeveBatchedEncrypted,
  weaveSleeveEncrypted,
  weaveSleeveScheme,
} from '../src/schemes/weave-sleeve.js';

/**
 * Userspace encapsulation against kernel VXLAN (flannel-vxlan), all labs up at once and measured
 * round-robin, so that a busy machine slows every scheme alike: TCP (1 stream, cross-host) as a
 * ratio to VXLAN (the median over rounds of each round's ratio), the daemons' CPU-seconds per Gbit (both hosts' daemons, from their counters),
 * each userspace scheme by default (its product's pattern: one packet per system call) and batched
 * (cnlab's daemon), and frames batched into datagrams against one frame each in cnlab's sleeve
 * (plain and encrypted), also with small UDP datagrams.
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
  /** Small UDP frames: datagrams on the underlay per frame (h1 → h2), daemons' CPU-seconds per Gbit received. */
  udpSmallDatagramsPerFrame: number[];
  udpSmallCpuPerGbit: number[];
}

const cpuOf = (c: Record<string, EncapCounters> | undefined) =>
  Object.values(c ?? {}).reduce((s, x) => s + x.cpuSeconds.user + x.cpuSeconds.system, 0);
const h1Tx = (c: Record<string, EncapCounters> | undefined) => c?.h1?.tx ?? { packets: 0, datagrams: 0 };

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
    const c0 = await procs();
    const udp = await runClient({
      ns: l.from,
      target: l.target,
      port: SERVICE_PORT,
      seconds,
      protocol: 'udp',
      udpRate: '400M',
      length: 256,
    });
    const c1 = await procs();
    if (udp.result.ok) {
      // bitsPerSecond is what the server received (sum_received).
      const received = udp.result.bitsPerSecond * seconds;
      l.udpSmall.push(udp.result.bitsPerSecond / 1e9);
      const [t0, t1] = [h1Tx(c0), h1Tx(c1)];
      if (t1.packets > t0.packets) l.udpSmallDatagramsPerFrame.push((t1.datagrams - t0.datagrams) / (t1.packets - t0.packets));
      if (received > 0) l.udpSmallCpuPerGbit.push((cpuOf(c1) - cpuOf(c0)) / (received / 1e9));
    }
  }
}

export interface EncapBench {
  vxlan: number;
  rows: Array<{
    name: string;
    gbps: number;
    ratio: number;
    cpuPerGbit?: number;
    udpSmall?: number;
    udpSmallDatagramsPerFrame?: number;
    udpSmallCpuPerGbit?: number;
  }>;
}

export async function encapBench(rounds = 5, seconds = 3): Promise<EncapBench> {
  const schemes: Array<[string, Scheme]> = [
    ['vx', getScheme('flannel-vxlan')],
    ['fu', flannelUdp],
    ['fub', flannelUdpBatched],
    ['ws', weaveSleeve],
    ['wsb', weaveSleeveBatched],
    ['wsbu', weaveSleeveScheme({ encrypt: false, batch: false, offload: true })],
    ['fue', flannelUdpEncrypted],
    ['fube', flannelUdpBatchedEncrypted],
    ['wse', weaveSleeveEncrypted],
    ['wsbe', weaveSleeveBatchedEncrypted],
    ['wsbeu', weaveSleeveScheme({ encrypt: true, batch: false, offload: true })],
  ];
  const labs: Lab[] = [];
  try {
    for (const [key, scheme] of schemes) {
      const up = await bringUp(loadTopology({ lab: `bench-enc${key}`, sameHost: false }), scheme);
      const from = up.build.workloads.find((w) => w.hostIndex === 1)!;
      const to = up.build.workloads.find((w) => w.hostIndex === 2)!;
      const server = await startServer({
        ns: to.ns,
        port: SERVICE_PORT,
        onSpawn: (pid) => trackProcess(up.state, pid, to.ns, 'iperf3-server', ['iperf3', '-s']),
      });
      labs.push({
        key,
        scheme,
        up,
        server,
        from: from.ns,
        target: to.ip,
        tcp: [],
        udpSmall: [],
        cpuPerGbit: [],
        udpSmallDatagramsPerFrame: [],
        udpSmallCpuPerGbit: [],
      });
    }
    for (let r = 0; r < rounds; r++) for (const l of labs) await measure(l, seconds, l.key.startsWith('wsb'));
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
      // Per round, against VXLAN measured moments before: a busy moment slows both alike.
      ratio: med(l.tcp.map((g, r) => g / labs[0].tcp[r])),
      cpuPerGbit: l.cpuPerGbit.length ? med(l.cpuPerGbit) : undefined,
      udpSmall: l.udpSmall.length ? med(l.udpSmall) : undefined,
      udpSmallDatagramsPerFrame: l.udpSmallDatagramsPerFrame.length ? med(l.udpSmallDatagramsPerFrame) : undefined,
      udpSmallCpuPerGbit: l.udpSmallCpuPerGbit.length ? med(l.udpSmallCpuPerGbit) : undefined,
    })),
  };
}

/** The lines `npm run bench` prints, each figure beside its target. */
export function encapLines(b: EncapBench): string[] {
  const mark = (ok: boolean) => (ok ? 'ok  ' : 'MISS');
  const row = (name: string) => b.rows.find((r) => r.name === name)!;
  const cpu = (r: { cpuPerGbit?: number }) => (r.cpuPerGbit === undefined ? '' : `; daemons ${r.cpuPerGbit.toFixed(2)} CPU-s/Gbit`);
  const out: string[] = [];
  // Each userspace scheme as its product moves packets (the default) and batched (cnlab's daemon).
  for (const [name, target] of [
    ['flannel-udp', 0.3],
    ['weave-sleeve', undefined],
    ['flannel-udp-encrypted', 0.2],
    ['weave-sleeve-encrypted', 0.2],
  ] as const) {
    const [d, fast] = [row(name), row(name.replace(/^(flannel-udp|weave-sleeve)/, '$1-batched'))];
    const goal = target === undefined ? '(no target)' : `(target batched ≥ ${target}×)`;
    out.push(
      `${target === undefined ? '    ' : mark(fast.ratio >= target)} ${name} TCP vs flannel-vxlan ${b.vxlan.toFixed(2)} Gbit/s: default (the product's syscall pattern) ${d.gbps.toFixed(2)} Gbit/s = ${d.ratio.toFixed(3)}×${cpu(d)}; batched (better than the product) ${fast.gbps.toFixed(2)} Gbit/s = ${fast.ratio.toFixed(3)}× ${goal}${cpu(fast)}`,
    );
  }
  // Batching frames into datagrams: with TCP, frames fill a datagram each (MTU-sized) and system
  // calls are batched either way, so only small frames leave batching anything to save.
  const [on, off] = [row('weave-sleeve-batched'), row('weave-sleeve-batched-unbatched')];
  const dpf = (r: typeof on) => r.udpSmallDatagramsPerFrame ?? NaN;
  const ucpu = (r: typeof on) => r.udpSmallCpuPerGbit ?? NaN;
  const fewer = dpf(off) / dpf(on);
  out.push(
    `${mark(fewer > 1.5)} weave-sleeve-batched, frames batched into datagrams, UDP 256 B frames: ${fewer.toFixed(2)}× fewer datagrams, daemons ${ucpu(on).toFixed(2)} vs ${ucpu(off).toFixed(2)} CPU-s/Gbit unbatched, received ${(on.udpSmall ?? NaN).toFixed(3)} vs ${(off.udpSmall ?? NaN).toFixed(3)} Gbit/s (target: batched beats unbatched — in datagrams on the wire; what is received is bound by the receiving iperf3)`,
  );
  out.push(
    `     weave-sleeve batched TCP ${on.gbps.toFixed(2)} vs unbatched ${off.gbps.toFixed(2)} Gbit/s (no target: MTU-sized frames fill a datagram each; nothing to batch)`,
  );
  const [eon, eoff] = [row('weave-sleeve-batched-encrypted'), row('weave-sleeve-batched-encrypted-unbatched')];
  out.push(
    `${mark(eon.gbps > eoff.gbps)} weave-sleeve-encrypted batched TCP ${eon.gbps.toFixed(2)} vs unbatched ${eoff.gbps.toFixed(2)} Gbit/s (target: batched faster: a record's crypto is shared by its frames)${cpu(eoff)} unbatched`,
  );
  return out;
}
