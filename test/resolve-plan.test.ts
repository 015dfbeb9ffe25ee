import { describe, expect, it } from 'vitest';
import { toolLine } from './helpers/argv.js';
import { InputError } from '../src/errors.js';
import { resolveLab } from '../src/lab/resolve.js';
import { loadTopology, type TopologyFlags } from '../src/lab/topology.js';
import { planLab } from '../src/plan/build.js';
import { renderPlan } from '../src/plan/render.js';
import type { Plan, Step } from '../src/plan/types.js';
import { getScheme, SCHEMES } from '../src/schemes/registry.js';

const LAB = 'rp';
const lab = (flags: TopologyFlags = {}) => resolveLab(loadTopology({ lab: LAB, ...flags }));
const steps = (plan: Plan): Step[] => plan.stages.flatMap((s) => s.steps);
const argsOf = (plan: Plan, ns?: string) =>
  steps(plan).flatMap((s) => {
    const l = toolLine(s);
    return l && l[0] !== 'tc' && !(ns && s.ns !== ns) ? [l] : [];
  });

/** Every interface name a plan mentions: created, configured, enslaved, or named in a conflist. */
function interfaceNames(plan: Plan): Set<string> {
  const names = new Set<string>();
  for (const s of steps(plan)) {
    const line = toolLine(s);
    if (line) {
      const args = line.slice(1);
      args.forEach((a, i) => {
        const prev = args[i - 1];
        if (['dev', 'name', 'master'].includes(prev) || (args[i - 2] === 'link' && ['add', 'set'].includes(prev))) names.add(a);
      });
    } else if (s.kind === 'sysctl') {
      const m = /^net\.ipv4\.(?:conf|neigh)\.([^.]+)\./.exec(s.key);
      if (m) names.add(m[1]);
    } else if (s.kind === 'cni') {
      names.add(s.ifName);
      for (const p of s.conflist.plugins) for (const k of ['bridge', 'master']) if (typeof p[k] === 'string') names.add(p[k] as string);
    }
  }
  return names;
}

describe('resolveLab', () => {
  it('names hosts, containers and namespaces', () => {
    const l = lab();
    expect(l.hosts.map((h) => [h.name, h.ns, h.underlayIp])).toEqual([
      ['h1', 'cnl-rp-h1', '198.18.0.1'],
      ['h2', 'cnl-rp-h2', '198.18.0.2'],
    ]);
    expect(l.hosts.map((h) => h.containers.map((c) => c.name))).toEqual([['h1c1', 'h1c2'], ['h2c1']]);
    expect(l.hosts[0].containers[0]).toMatchObject({ ns: 'cnl-rp-h1c1', hostIndex: 1, index: 1, slot: 1 });
    expect(l.hosts[0].containers[1]).toMatchObject({ ns: 'cnl-rp-h1c2', hostIndex: 1, index: 2, slot: 2 });
    expect(l.hosts.map((h) => h.podBlock)).toEqual([
      { network: '198.19.1.0', prefix: 24 },
      { network: '198.19.2.0', prefix: 24 },
    ]);
    expect(l.switch).toBeUndefined();
  });

  it('without the same-host peer every host has the same containers', () => {
    expect(lab({ sameHost: false, containers: 2 }).hosts.map((h) => h.containers.map((c) => c.name))).toEqual([
      ['h1c1', 'h1c2'],
      ['h2c1', 'h2c2'],
    ]);
  });

  it('splits the free underlay addresses between hosts without touching broadcast', () => {
    expect(lab().hosts.map((h) => h.underlayRange)).toEqual([
      { start: '198.18.0.3', end: '198.18.0.128' },
      { start: '198.18.0.129', end: '198.18.0.254' },
    ]);
    expect(lab({ underlay: '198.18.0.0/30' }).hosts.every((h) => h.underlayRange === undefined)).toBe(true);
  });

  it.each([
    [2, false],
    [3, true],
    [10, true],
  ])('with %i hosts a switch namespace is %s', (hosts, present) => {
    const l = lab({ hosts });
    expect(l.switch !== undefined).toBe(present);
    if (present) expect(l.switch).toMatchObject({ name: 'sw', ns: 'cnl-rp-sw', bridge: 'br0' });
    const plan = planLab(l, getScheme('host')).plan;
    expect(plan.namespaces.includes('cnl-rp-sw')).toBe(present);
    expect(argsOf(plan, 'cnl-rp-sw').some((a) => a.join(' ') === 'ip link add br0 type bridge')).toBe(present);
  });
});

/** Names each scheme must mention with 10 hosts × 100 containers (proves the collector sees them). */
const LONGEST: Record<string, string[]> = {
  calico: ['calih10c100'],
  'docker-bridge': ['docker0'],
  'bridge-l2': ['br0'],
  'flannel-hostgw': ['cni0'],
  'flannel-vxlan': ['cni0', 'flannel.1'],
};

describe.each(SCHEMES.map((s) => [s.name, s] as const))('planLab %s', (_, scheme) => {
  it.each([2, 3])('with %i hosts every step runs in a namespace of the plan', (hosts) => {
    const l = lab({ hosts, underlay: '198.18.0.0/22' });
    const { plan, build } = planLab(l, scheme);
    expect(new Set(plan.namespaces).size).toBe(plan.namespaces.length);
    const used = steps(plan).flatMap((s) => (s.kind === 'cni' ? [s.ns, s.containerNs] : [s.ns]));
    expect(used.filter((ns) => !plan.namespaces.includes(ns))).toEqual([]);
    for (const w of build.workloads) expect(plan.namespaces).toContain(w.ns);
    const containerNs = l.hosts.flatMap((h) => h.containers.map((c) => c.ns));
    expect(containerNs.filter((ns) => plan.namespaces.includes(ns))).toEqual(scheme.containers ? containerNs : []);
  });

  it('renders a shell script that adds every namespace', () => {
    const { plan } = planLab(lab(), scheme);
    const script = renderPlan(plan);
    expect(script.startsWith('#!/bin/sh\n')).toBe(true);
    const lines = script.split('\n');
    for (const ns of plan.namespaces) expect(lines).toContain(`ip netns add ${ns}`);
  });

  it('keeps interface names within 15 characters with 10 hosts × 100 containers', () => {
    const { plan } = planLab(lab({ hosts: 10, containers: 100, underlay: '198.18.0.0/20' }), scheme);
    const names = [...interfaceNames(plan)];
    expect(names.filter((n) => n.length > 15)).toEqual([]);
    expect(names).toEqual(expect.arrayContaining(['eth0', 'p10', ...(LONGEST[scheme.name] ?? [])]));
  });
});

describe('host scheme', () => {
  it('has only the host namespaces and no stages of its own', () => {
    const { plan, build } = planLab(lab({ containers: 3 }), getScheme('host'));
    expect(plan.namespaces).toEqual(['cnl-rp-h1', 'cnl-rp-h2']);
    expect(build.workloads.map((w) => [w.node, w.ip])).toEqual([
      ['h1', '198.18.0.1'],
      ['h2', '198.18.0.2'],
    ]);
  });
});

describe('flannel-vxlan plan (--control-plane static: the FDB entries the agent would add)', () => {
  const l = lab({ hosts: 3, controlPlane: 'static' });
  const { plan, build } = planLab(l, getScheme('flannel-vxlan'));

  it.each(l.hosts.map((h) => [h.name, h] as const))('%s has flannel.1: VNI 1, port 8472, no learning, MTU 1450', (_, h) => {
    const args = argsOf(plan, h.ns).map((a) => a.join(' '));
    expect(args).toContain(`ip link add flannel.1 type vxlan id 1 local ${h.underlayIp} dev eth0 dstport 8472 nolearning`);
    expect(args.some((a) => /^ip link set flannel\.1 .*mtu 1450 up$/.test(a))).toBe(true);
    const fdb = args.filter((a) => a.startsWith('bridge fdb append'));
    const peers = l.hosts.filter((o) => o !== h);
    expect(fdb).toHaveLength(peers.length);
    for (const o of peers) expect(fdb.filter((a) => a.includes(`dev flannel.1 dst ${o.underlayIp} self permanent`))).toHaveLength(1);
  });

  it('containers get MTU 1450', () => expect(build.mtu).toBe(1450));
});

describe.each(['bridge-l2', 'macvlan'])('%s without underlay room', (name) => {
  it.each([[{ underlay: '198.18.0.0/30' }], [{ hosts: 10, containers: 100 }]])('throws an InputError for %o', (flags) => {
    const l = lab(flags);
    expect(() => planLab(l, getScheme(name))).toThrow(InputError);
    expect(() => planLab(l, getScheme(name))).toThrow(/has no room for them/);
  });
});

describe('link rate (issue 16: nothing a host runs can bypass it)', () => {
  it('puts the hosts behind a switch and the tbf on its port toward each host, none on the hosts', () => {
    const l = lab({ linkRate: '1gbit' });
    expect(l.switch?.ns).toBe(`cnl-${LAB}-sw`);
    const { plan } = planLab(l, getScheme('ovs-overlay'), { preferred: false });
    const tbf = plan.stages.flatMap((s) => s.steps).filter((s) => s.kind === 'qdisc' && s.qdisc.type === 'tbf' && s.qdisc.rate === '1gbit');
    expect(tbf.map((s) => `${s.ns} ${s.kind === 'qdisc' ? s.dev : ''}`).sort()).toEqual([`cnl-${LAB}-sw p1`, `cnl-${LAB}-sw p2`]);
    // Without a rate two hosts stay on one veth pair.
    expect(lab().switch).toBeUndefined();
  });
});
