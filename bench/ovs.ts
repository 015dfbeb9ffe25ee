import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { releaseLab } from '../src/apply/cleanup.js';
import { trackProcess } from '../src/apply/state.js';
import { teardownState } from '../src/apply/teardown.js';
import { bringUp, type UpLab } from '../src/apply/up.js';
import { loadTopology } from '../src/lab/topology.js';
import { summarize } from '../src/stats/stats.js';
import { runClient, startServer, type Iperf3Server } from '../src/runners/iperf3.js';
import { ovsScheme } from '../src/schemes/ovs.js';
import { otherConfig, UNTUNED, USERSPACE_TUNING, type OvsTuning } from '../src/schemes/parts/ovs-tuning.js';
import { host } from '../src/schemes/host.js';
import { SERVICE_PORT } from '../src/schemes/parts/workloads.js';
import type { Scheme } from '../src/plan/scheme.js';

/**
 * The OVS stand-in (Open vSwitch's userspace datapath, no openvswitch module here): cross-host TCP
 * (1 stream) through `ovs` as a share of the host baseline, as OVS ships (before) and with each
 * option tried, all labs up at once and measured round-robin so that a busy moment slows each
 * alike. The option kept (USERSPACE_TUNING) is what every `ovs` build uses. Then AF_XDP: the
 * untuned lab's ports (underlay and containers) become `type=afxdp` (native XDP on the veths;
 * AF_XDP carries no TSO), measured against host in rounds of their own, since its PMD threads
 * busy-poll the CPUs every other lab also needs.
 */

interface Variant {
  key: string;
  label: string;
  scheme: Scheme;
  tuning?: OvsTuning;
}

interface Lab extends Variant {
  up: UpLab;
  server: Iperf3Server;
  from: string;
  target: string;
  gbps: number[];
}

const tuned = (t: OvsTuning) => otherConfig(t).join(', ') || 'OVS defaults';

export interface OvsBench {
  host: number;
  rows: Array<{ label: string; gbps: number; ratio: number; kept: boolean }>;
}

export async function ovsBench(rounds = 3, seconds = 3): Promise<OvsBench> {
  const variants: Variant[] = [
    { key: 'h', label: 'host', scheme: host },
    {
      key: 'u',
      label: `before: ${tuned(UNTUNED)}, container tx checksum offload off`,
      scheme: ovsScheme({ flows: 'explicit', port: 'veth' }, UNTUNED),
      tuning: UNTUNED,
    },
    {
      key: 't',
      label: `${tuned({ tso: true })}, container offloads on`,
      scheme: ovsScheme({ flows: 'explicit', port: 'veth' }, { tso: true }),
      tuning: { tso: true },
    },
  ];
  const labs: Lab[] = [];
  let afxdp: { gbps: number[]; host: number[]; label: string } | undefined;
  try {
    for (const v of variants) {
      const up = await bringUp(loadTopology({ lab: `bench-ovs${v.key}`, sameHost: false }), v.scheme);
      const from = up.build.workloads.find((w) => w.hostIndex === 1)!;
      const to = up.build.workloads.find((w) => w.hostIndex === 2)!;
      const server = await startServer({
        ns: to.ns,
        port: SERVICE_PORT,
        onSpawn: (pid) => trackProcess(up.state, pid, to.ns, 'iperf3-server', ['iperf3', '-s']),
      });
      labs.push({ ...v, up, server, from: from.ns, target: to.ip, gbps: [] });
    }
    for (let r = 0; r < rounds; r++) {
      for (const l of labs) {
        const t = await runClient({ ns: l.from, target: l.target, port: SERVICE_PORT, seconds, protocol: 'tcp' });
        l.gbps.push(t.result.ok ? t.result.bitsPerSecond / 1e9 : 0);
      }
    }
    // AF_XDP on the untuned lab (its own phase: PMD threads spin while it is up).
    const u = labs.find((l) => l.key === 'u')!;
    const x: Lab = {
      ...u,
      key: 'x',
      label: 'AF_XDP ports (type=afxdp, xdp-mode=native), PMD threads, no TSO; not kept: PMD threads busy-poll the CPUs',
      tuning: undefined,
      gbps: [],
    };
    const hx: number[] = [];
    for (const h of u.up.lab.hosts) {
      const db = `--db=unix:${join(u.up.state.stateDir, `ovs-${h.name}`, 'db.sock')}`;
      for (const port of [h.underlayIf, ...h.containers.map((c) => `vc-${c.name}`)]) {
        execFileSync('ip', [
          'netns',
          'exec',
          h.ns,
          'ovs-vsctl',
          db,
          '--timeout=30',
          'set',
          'interface',
          port,
          'type=afxdp',
          'options:xdp-mode=native',
        ]);
      }
    }
    for (let r = 0; r < rounds; r++) {
      for (const [l, into] of [
        [labs[0], hx],
        [x, x.gbps],
      ] as const) {
        const t = await runClient({ ns: l.from, target: l.target, port: SERVICE_PORT, seconds, protocol: 'tcp' });
        into.push(t.result.ok ? t.result.bitsPerSecond / 1e9 : 0);
      }
    }
    afxdp = { gbps: x.gbps, host: hx, label: x.label };
  } finally {
    for (const l of labs) {
      await l.server.stop();
      await teardownState(l.up.state);
      releaseLab(l.up.state);
    }
  }
  const med = (xs: number[]) => (xs.length ? summarize(xs).median : NaN);
  const h = labs[0];
  return {
    host: med(h.gbps),
    rows: labs
      .slice(1)
      .map((l) => ({
        label: l.label,
        gbps: med(l.gbps),
        ratio: med(l.gbps.map((g, r) => g / h.gbps[r])),
        kept: JSON.stringify(l.tuning) === JSON.stringify(USERSPACE_TUNING),
      }))
      .concat(
        afxdp ? [{ label: afxdp.label, gbps: med(afxdp.gbps), ratio: med(afxdp.gbps.map((g, r) => g / afxdp!.host[r])), kept: false }] : [],
      ),
  };
}

/** The lines `npm run bench` prints: before, each option tried, and which one `ovs` builds. */
export function ovsLines(b: OvsBench): string[] {
  const before = b.rows[0];
  const kept = b.rows.find((r) => r.kept) ?? before;
  const mark = (ok: boolean) => (ok ? 'ok  ' : 'MISS');
  return [
    ...b.rows.map(
      (r) =>
        `     ovs stand-in (userspace datapath), cross-host TCP: ${r.label}: ${r.gbps.toFixed(2)} Gbit/s = ${r.ratio.toFixed(3)}× host ${b.host.toFixed(2)} Gbit/s${r.kept ? '  ← what ovs builds' : ''}`,
    ),
    `${mark(kept.ratio > before.ratio)} ovs stand-in before ${before.ratio.toFixed(3)}× host, after ${kept.ratio.toFixed(3)}× (target: after > before)`,
  ];
}
