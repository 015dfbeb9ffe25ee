import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { trackProcess } from '../src/apply/state.js';
import { buildHost, unsupportedReason } from '../src/apply/up.js';
import { labStateDir, labStateFile } from '../src/lab/paths.js';
import { pairFor } from '../src/measure/pairs.js';
import { containerMac, USERSPACE_NOTE } from '../src/schemes/parts/ovs.js';
import { getScheme } from '../src/schemes/registry.js';
import type { Workload } from '../src/plan/scheme.js';
import { dfPing, labNamespaces, pidGone, ping, useLab } from './helpers/lab.js';
import { argvOf, flowPackets, ovsDaemonsUnder, ovsGet, tcpGbps } from './ovs-helpers.js';

/**
 * The Open vSwitch schemes built by cnlab for real (2 hosts, h1c1 + h1c2 on host 1, h2c1 on
 * host 2): one ovsdb-server and one ovs-vswitchd per host, tracked, each in its host's namespace
 * with its own run directory; TCP across hosts and on one host; the path MTU on both paths; the
 * flows the plan wrote (not OVS's NORMAL) carry the traffic; teardown leaves no namespace, no
 * process, no OVS daemon. On this machine (no openvswitch module) the datapath is the userspace
 * one and every result says so.
 */

interface Case {
  lab: string;
  /** Flows on h1's br-int that must have carried h1c1's cross-host traffic (ovs-ofctl --names text). */
  carriers: (h1c1Mac: string, h2c1Mac: string) => RegExp[];
}

const CASES: Record<string, Case> = {
  ovs: { lab: 'io-ovs', carriers: (a) => [/in_port="vc-h1c1" actions=output:eth0/, new RegExp(`dl_dst=${a} actions=output:"vc-h1c1"`)] },
  // S2 (Meizu): the container's interface is an internal port of br-int, moved into its namespace.
  'ovs-internal': {
    lab: 'io-ovsint',
    carriers: (a) => [/in_port="vc-h1c1" actions=output:eth0/, new RegExp(`dl_dst=${a} actions=output:"vc-h1c1"`)],
  },
  'ovs-normal': { lab: 'io-ovsnormal', carriers: () => [/actions=NORMAL/] },
  'ovs-linuxbridge': {
    lab: 'io-ovslb',
    carriers: (a) => [/in_port="ovs-lbr0" actions=output:eth0/, new RegExp(`dl_dst=${a} actions=output:"ovs-lbr0"`)],
  },
  'ovs-overlay': {
    lab: 'io-ovsoverlay',
    carriers: (a, b) => [new RegExp(`dl_dst=${b} actions=output:"vxlan-h2"`), new RegExp(`dl_dst=${a} actions=output:"vc-h1c1"`)],
  },
};

const cases = await Promise.all(
  Object.entries(CASES).map(async ([name, c]) => [name, c, await unsupportedReason(getScheme(name))] as const),
);

describe.each(cases)('%s built by cnlab', (name, c, unsupported) => {
  if (unsupported) {
    it.skip(`${name} is ${unsupported}`, () => {});
    return;
  }
  const scheme = getScheme(name);
  const dir = labStateDir(c.lab);
  let cross: [Workload, Workload];
  let same: [Workload, Workload];
  const lab = useLab(c.lab, scheme, {
    beforeUp: () => expect(ovsDaemonsUnder(dir), 'leftover OVS daemons').toEqual([]),
    afterUp: (up) => {
      cross = pairFor(up.build.workloads, 'cross')!;
      same = pairFor(up.build.workloads, 'same')!;
    },
  });

  it('runs one ovsdb-server and one ovs-vswitchd per host, tracked, in its namespace and run directory', () => {
    const state = lab.up.state;
    for (const h of lab.up.lab.hosts) {
      const procs = state.processes.filter((p) => p.ns === h.ns);
      expect(procs.map((p) => p.role).sort()).toEqual(['ovs-vswitchd', 'ovsdb-server']);
      const run = join(dir, `ovs-${h.name}`);
      for (const p of procs) {
        // The tracked pid is the daemon itself (started in the foreground), not a wrapper.
        const argv = argvOf(p.pid);
        expect(argv?.[0], `pid ${p.pid}`).toBe(p.role);
        expect(argv!.join(' ')).toContain(run);
      }
      expect(existsSync(join(run, 'db.sock'))).toBe(true);
      expect(existsSync(join(run, 'ovs-vswitchd.ctl'))).toBe(true);
    }
    expect(ovsDaemonsUnder(dir).sort()).toEqual(state.processes.map((p) => p.pid).sort());
  });

  it('labels the datapath it chose, and OVS runs that datapath', async () => {
    const { preferred } = await buildHost(scheme);
    const h1 = lab.up.lab.hosts[0];
    const dp = await ovsGet(h1.ns, join(dir, 'ovs-h1'), 'bridge', 'br-int', 'datapath_type');
    expect(dp).toBe(preferred ? 'system' : 'netdev');
    if (preferred) expect(lab.up.build.notes ?? []).not.toContain(USERSPACE_NOTE);
    else {
      expect(lab.up.build.notes).toContain(USERSPACE_NOTE);
      // The options that ran are recorded, and are what OVS runs.
      const tso = (await ovsGet(h1.ns, join(dir, 'ovs-h1'), 'open_vswitch', '.', 'other_config')).includes('userspace-tso-enable="true"');
      expect(lab.up.build.notes!.join(' ')).toMatch(tso ? /userspace-tso-enable=true/ : /options: none/);
    }
  });

  it("the very first packet across hosts gets through (nothing left to resolve but the container's ARP)", async () => {
    const [from, to] = cross;
    expect(await ping(from.ns, lab.up.build.targetIp(from, to))).toBe(true);
  });

  it('TCP crosses hosts (iperf3, 1 s)', async () => {
    const [from, to] = cross;
    const state = lab.up.state;
    await tcpGbps(from.ns, to.ns, lab.up.build.targetIp(from, to), (pid) =>
      trackProcess(state, pid, to.ns, 'iperf3-server', ['iperf3', '-s']),
    );
  });

  it('TCP stays on one host (iperf3, 1 s)', async () => {
    const [from, to] = same;
    expect(from.ns).not.toBe(to.ns);
    const state = lab.up.state;
    await tcpGbps(from.ns, to.ns, lab.up.build.targetIp(from, to), (pid) =>
      trackProcess(state, pid, to.ns, 'iperf3-server', ['iperf3', '-s']),
    );
  });

  it('path MTU: a DF ping of mtu-28 bytes passes, one byte more does not, across hosts and on one host', async () => {
    const payload = lab.up.build.mtu - 28;
    for (const [from, to] of [cross, same]) {
      const target = lab.up.build.targetIp(from, to);
      expect(await dfPing(from.ns, target, payload), `DF ${payload} B ${from.node} → ${target}`).toBe(true);
      expect(await dfPing(from.ns, target, payload + 1), `DF ${payload + 1} B ${from.node} → ${target}`).toBe(false);
    }
  });

  it("the plan's flows carried the traffic", async () => {
    const [h1c1, h2c1] = [cross[0], cross[1]].map((w) => lab.up.lab.hosts[w.hostIndex - 1].containers.find((k) => k.name === w.node)!);
    const h1 = lab.up.lab.hosts[0];
    for (const re of c.carriers(containerMac(h1c1), containerMac(h2c1))) {
      expect(await flowPackets(h1.ns, join(dir, 'ovs-h1'), 'br-int', re), String(re)).toBeGreaterThan(0);
    }
    if (name !== 'ovs-normal') expect(await flowPackets(h1.ns, join(dir, 'ovs-h1'), 'br-int', /NORMAL/), 'no NORMAL flow').toBe(0);
  });

  it('teardown leaves no namespace, no process, no OVS daemon, no state', async () => {
    const pids = lab.up.state.processes.map((p) => p.pid);
    expect(pids.length).toBeGreaterThanOrEqual(4);
    const report = await lab.remove();
    expect(report?.problems).toEqual([]);
    expect(labNamespaces(c.lab)).toEqual([]);
    expect(pids.filter((p) => !pidGone(p))).toEqual([]);
    expect(ovsDaemonsUnder(dir)).toEqual([]);
    expect(existsSync(labStateFile(c.lab))).toBe(false);
    expect(existsSync(dir)).toBe(false);
  });
});
