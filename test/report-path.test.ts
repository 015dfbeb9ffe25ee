import { describe, expect, it } from 'vitest';
import { resolveLab } from '../src/lab/resolve.js';
import { loadTopology } from '../src/lab/topology.js';
import { planLab } from '../src/plan/build.js';
import { packetPath, pathText } from '../src/report/path.js';
import { planFacts } from '../src/report/plan-facts.js';
import { blackhole, bpfFilter, link, linkSet, nft, qdisc, veth, vxlan } from '../src/plan/steps.js';
import type { SchemeRecord } from '../src/result/types.js';
import { SCHEMES } from '../src/schemes/registry.js';
import { real } from './fixtures/results/synthetic.js';

const r = real();
const rec = (name: string) => r.schemes.find((s) => s.name === name)!;

describe('the path a packet takes, from the recorded plan', () => {
  it.each([
    ['host', 'host', 'h1 → eth0 → host 2', 0],
    ['calico', 'routed', 'h1c1 eth0 → veth calih1c1 → route 198.19.2.0/24 → eth0 → host 2', 0],
    ['flannel-vxlan', 'overlay', 'h1c1 eth0 → cni0 → host IP stack → VXLAN flannel.1 (+50 B) → eth0 → host 2', 50],
    ['docker-bridge', 'nat', 'h1c1 eth0 → docker0 → host IP stack → NAT → eth0 → host 2', 0],
  ])('%s: %s, %s', (name, fabric, text, bytes) => {
    const p = packetPath(rec(name), r.topology);
    expect(p.fabric).toBe(fabric);
    expect(pathText(p.cross)).toBe(text);
    expect(p.encapBytes).toBe(bytes);
  });

  it('carries the details an engineer checks: VNI, port, MTUs, NAT kinds', () => {
    const vx = packetPath(rec('flannel-vxlan'), r.topology);
    expect(vx.cross.find((h) => h.kind === 'tunnel')).toEqual({
      kind: 'tunnel',
      label: 'VXLAN flannel.1',
      detail: 'VNI 1, UDP 8472, +50 B',
      bytes: 50,
    });
    expect(vx.workloadMtu).toBe(1450);
    expect(vx.cross[0].detail).toBe('veth, MTU 1450');
    expect(vx.cross.find((h) => h.kind === 'underlay')?.detail).toBe('underlay, MTU 1500');
    expect(vx.same?.map((h) => h.label)).toEqual(['h1c1 eth0', 'cni0', 'second container']);
    const nat = packetPath(rec('docker-bridge'), r.topology).cross.find((h) => h.kind === 'nat');
    expect(nat?.detail).toBe('masquerade to the host address; the peer DNATs its published port');
    const calico = packetPath(rec('calico'), r.topology);
    expect(calico).toMatchObject({ attach: 'routed-veth', perWorkloadRoutedIf: true, hostStack: true, nat: false, userspace: false });
  });

  it('a scheme without a plan (unsupported, failed) gets no invented path', () => {
    const s: SchemeRecord = {
      name: 'x',
      status: 'unsupported',
      reason: 'needs IPVLAN',
      summary: '',
      attach: 'cni',
      notes: [],
      overhead: 0,
      tests: [],
    };
    expect(packetPath(s, r.topology)).toMatchObject({ fabric: 'unknown', cross: [{ kind: 'other', label: 'not built (unsupported)' }] });
  });

  it('reads link, route, CNI, nft, OVS, daemon and tc steps', () => {
    const f = planFacts({
      lab: 't',
      scheme: 't',
      namespaces: [],
      stages: [
        {
          title: 's',
          steps: [
            veth('h', 'v1', { name: 'eth0', ns: 'c' }, 1400),
            vxlan('h', 'vx', { id: 42, dev: 'eth0', dstport: 4789, learning: false }),
            linkSet('h', 'tunl0', { mtu: 1480, up: true }),
            link('h', 'mv', { type: 'macvlan', parent: 'eth0', mode: 'bridge' }),
            linkSet('h', 'mv', { netns: 'c2' }),
            blackhole('h', '198.19.1.0/24'),
            nft('h', 'table ip t { chain c { type nat hook postrouting priority srcnat; masquerade } }', { snat: true, dnat: false }),
            {
              kind: 'ovs',
              ns: 'h',
              db: 'unix:/x',
              ops: [
                { op: 'add-br', bridge: 'br-int', datapath: 'netdev', failMode: 'secure' },
                { op: 'add-port', bridge: 'br-int', port: 'vx0', type: 'vxlan', options: { remote_ip: '198.18.0.2' } },
              ],
            },
            {
              kind: 'daemon',
              ns: 'h',
              name: 'encap-h1',
              argv: ['node', 'd.js', 'run', '--mode', 'tap', '--dev', 'tap0'],
              log: '/x',
              devices: [{ name: 'tap0', type: 'tap' }],
            },
            qdisc('h', 'v1', { type: 'clsact' }),
            bpfFilter('h', 'v1', 'ingress', { obj: 'prog.o', sec: 'tc', da: true }),
          ],
        },
      ],
    });
    expect(f.devices.find((d) => d.name === 'v1')).toMatchObject({ ns: 'h', type: 'veth', mtu: 1400, peer: { ns: 'c', name: 'eth0' } });
    expect(f.devices.find((d) => d.name === 'vx')).toMatchObject({
      type: 'vxlan',
      attrs: { id: '42', dev: 'eth0', dstport: '4789', nolearning: 'on' },
      parent: 'eth0',
    });
    expect(f.devices.find((d) => d.name === 'tunl0')).toMatchObject({ type: 'ipip', mtu: 1480 });
    expect(f.devices.find((d) => d.name === 'mv')).toMatchObject({ ns: 'c2', origin: 'h', type: 'macvlan', parent: 'eth0' });
    expect(f.routes).toEqual([{ ns: 'h', dest: '198.19.1.0/24', via: undefined, dev: undefined, blackhole: true }]);
    expect(f.nat).toEqual([{ ns: 'h', snat: true, dnat: false }]);
    expect(f.devices.find((d) => d.name === 'vx0')).toMatchObject({
      type: 'ovs-vxlan',
      master: 'br-int',
      attrs: { remote_ip: '198.18.0.2' },
    });
    expect(f.devices.find((d) => d.name === 'tap0')).toMatchObject({ type: 'tap', attrs: { daemon: 'encap-h1' } });
    expect(f.ovsUserspace).toEqual(['h']);
    expect(f.qdiscs).toEqual([{ ns: 'h', dev: 'v1', type: 'clsact', text: 'clsact' }]);
    expect(f.filters).toEqual([{ ns: 'h', dev: 'v1', hook: 'ingress', text: 'bpf prog.o:tc (direct action)' }]);
  });
});

describe('every scheme in the registry', () => {
  const topo = loadTopology({ lab: 'rptpath' });
  const lab = resolveLab(topo);
  const cases = SCHEMES.filter((s) => s.containers).map((s) => [s.name, s] as const);
  it.each(cases)("%s: a path from the container to the underlay, with the scheme's own encapsulation bytes", (_, scheme) => {
    const { plan, build } = planLab(lab, scheme);
    const s: SchemeRecord = {
      name: scheme.name,
      status: 'ok',
      summary: scheme.summary,
      attach: scheme.attach,
      notes: scheme.notes,
      overhead: scheme.overhead,
      mtu: build.mtu,
      plan,
      workloads: build.workloads,
      tests: [],
    };
    const p = packetPath(s, topo);
    expect(p.fabric).not.toBe('unknown');
    expect(p.cross[0]).toMatchObject({ kind: 'container', label: `${build.workloads[0].node} ${build.workloads[0].ifName}` });
    expect(p.cross.at(-2)).toMatchObject({ kind: 'underlay', label: lab.hosts[0].underlayIf });
    expect(p.encapBytes).toBe(scheme.overhead);
    // Encapsulation appears on the path exactly when the scheme declares overhead.
    const carried = p.cross.reduce((n, h) => n + (h.bytes ?? 0), 0);
    expect(carried).toBe(scheme.overhead);
    expect(p.fabric === 'overlay').toBe(scheme.overhead > 0);
  });
});
