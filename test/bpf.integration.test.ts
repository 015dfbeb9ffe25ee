import { existsSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parseMountinfo } from '../src/apply/mounts.js';
import { unsupportedReason } from '../src/apply/up.js';
import { labStateDir, labStateFile } from '../src/lab/paths.js';
import { readBpfCounters } from '../src/measure/bpf-counters.js';
import { redirects, byProgram } from '../src/report/bpf.js';
import type { BpfCounters } from '../src/result/types.js';
import { getScheme } from '../src/schemes/registry.js';
import type { Workload } from '../src/plan/scheme.js';
import { checkTcp, labNamespaces, sh, useLab } from './helpers/lab.js';

/**
 * The three cilium schemes, built for real, one lab each shared by its assertions: TCP across hosts
 * and on one host; the BPF verdict counters and the hosts' IpForwDatagrams show which path it took
 * (BPF host routing bypasses the host stack: nothing forwarded; legacy routing forwards every
 * packet); teardown leaves no namespace, program, pinned map or bpffs mount.
 */

const FLAVOURS = [
  { name: 'cilium', lab: 'it-bpf-cilium', bypass: true },
  { name: 'cilium-legacy', lab: 'it-bpf-legacy', bypass: false },
  { name: 'cilium-vxlan', lab: 'it-bpf-vxlan', bypass: true },
] as const;
const cases = await Promise.all(FLAVOURS.map(async (f) => [f.name, f, await unsupportedReason(getScheme(f.name))] as const));

/** IpForwDatagrams of a namespace (/proc/net/snmp read inside it). */
async function forwarded(ns: string): Promise<number> {
  const r = await sh('ip', ['netns', 'exec', ns, 'cat', '/proc/net/snmp']);
  const [head, values] = r.stdout.split('\n').filter((l) => l.startsWith('Ip:'));
  const i = head.split(/\s+/).indexOf('ForwDatagrams');
  return Number(values.split(/\s+/)[i]);
}

const delta = (before: BpfCounters, after: BpfCounters) => {
  const b = byProgram(before);
  const a = byProgram(after);
  const d = (prog: string, k: 'peer' | 'fib' | 'neigh' | 'tunnel' | 'pass') => (a[prog]?.[k] ?? 0) - (b[prog]?.[k] ?? 0);
  return { d, redirects: redirects(after) - redirects(before) };
};

describe.each(cases)('BPF datapath %s', (name, flavour, unsupported) => {
  if (unsupported) {
    it.skip(`${name} is ${unsupported}`, () => {});
    return;
  }
  const lab = useLab(flavour.lab, getScheme(name));
  const hostNs = () => lab.up.lab.hosts.map((h) => h.ns);
  const progIds: number[] = [];

  /** TCP from → to, with the counters and both hosts' forwarding counts around it. */
  async function tcpThrough(from: Workload, to: Workload) {
    const fwd0 = await Promise.all(hostNs().map(forwarded));
    const c0 = (await readBpfCounters(lab.up.state))!;
    await checkTcp(lab, from, to);
    const c1 = (await readBpfCounters(lab.up.state))!;
    const fwd1 = await Promise.all(hostNs().map(forwarded));
    return { fwd: fwd1.reduce((n, v, i) => n + v - fwd0[i], 0), ...delta(c0, c1), mode: c1.mode };
  }

  it('programs are attached to every lxc and the underlay', async () => {
    for (const h of lab.up.lab.hosts) {
      const devs = [...h.containers.map((c) => `lxc${c.name}`), h.underlayIf];
      for (const dev of devs) {
        const r = await sh('tc', ['-n', h.ns, 'filter', 'show', 'dev', dev, 'ingress']);
        const m = / id (\d+)/.exec(r.stdout);
        expect(m, `tc filter on ${h.ns} ${dev}: ${r.stdout}${r.stderr}`).not.toBeNull();
        progIds.push(Number(m![1]));
      }
    }
  });

  it('cross-host TCP takes the BPF path (or, legacy, the stack)', async () => {
    const r = await tcpThrough(lab.first(1), lab.first(2));
    if (flavour.bypass) {
      expect(r.redirects, 'redirect verdicts').toBeGreaterThan(100);
      expect(r.d('from-netdev', 'peer'), 'from-netdev peer redirects on the receiving host').toBeGreaterThan(100);
      expect(r.d('from-container', name === 'cilium-vxlan' ? 'tunnel' : 'fib') + r.d('from-container', 'neigh')).toBeGreaterThan(100);
      expect(r.fwd, "hosts' IpForwDatagrams").toBe(0);
    } else {
      expect(r.mode).toBe('legacy');
      expect(r.redirects).toBe(0);
      expect(r.d('from-container', 'pass')).toBeGreaterThan(100);
      expect(r.fwd, "hosts' IpForwDatagrams").toBeGreaterThan(100);
    }
  });

  it('same-host TCP takes the BPF path (or, legacy, the stack)', async () => {
    const r = await tcpThrough(lab.pick('h1c1'), lab.pick('h1c2'));
    if (flavour.bypass) {
      expect(r.d('from-container', 'peer'), 'from-container peer redirects').toBeGreaterThan(100);
      expect(r.fwd).toBe(0);
    } else {
      expect(r.redirects).toBe(0);
      expect(r.fwd).toBeGreaterThan(100);
    }
  });

  it('teardown leaves no namespace, program, pinned map or bpffs mount', async () => {
    const bpffs = lab.up.state.mounts.map((m) => m.path);
    expect(bpffs).toHaveLength(lab.up.lab.hosts.length);
    await lab.stopServers();
    const report = await lab.remove();
    expect(report?.problems).toEqual([]);
    expect(labNamespaces(lab.name)).toEqual([]);
    const mounts = parseMountinfo(readFileSync('/proc/self/mountinfo', 'utf8'));
    expect(mounts.filter((m) => m.point.startsWith(labStateDir(lab.name)))).toEqual([]);
    for (const p of bpffs) expect(existsSync(p), p).toBe(false);
    expect(existsSync(labStateFile(lab.name))).toBe(false);
    // Programs are freed after an RCU grace period: allow a moment.
    let left = progIds;
    for (let i = 0; i < 50 && left.length; i++) {
      await new Promise((r) => setTimeout(r, 100));
      const still = await Promise.all(
        left.map(async (id) => ((await sh('bpftool', ['prog', 'show', 'id', String(id)])).code === 0 ? [id] : [])),
      );
      left = still.flat();
    }
    expect(left, 'BPF programs still loaded').toEqual([]);
  });
});
