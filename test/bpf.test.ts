import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseMountinfo } from '../src/apply/mounts.js';
import { unmet } from '../src/caps/detect.js';
import { KERNEL_FEATURES, type Capabilities, type KernelFeature } from '../src/caps/types.js';
import { labStateDir } from '../src/lab/paths.js';
import { resolveLab } from '../src/lab/resolve.js';
import { loadTopology } from '../src/lab/topology.js';
import { bpfDelta, namedVerdicts, parseConfigMode, parsePercpuDump } from '../src/measure/bpf-counters.js';
import { planLab } from '../src/plan/build.js';
import { renderPlan } from '../src/plan/render.js';
import { bpfFlags, redirects } from '../src/report/bpf.js';
import { packetPath, pathText } from '../src/report/path.js';
import type { BpfCounters, SchemeRecord } from '../src/result/types.js';
import { BPF_OBJECT } from '../src/schemes/parts/bpf.js';
import { getScheme } from '../src/schemes/registry.js';

const fixture = (name: string) => readFileSync(join(import.meta.dirname, 'fixtures', 'bpf', name), 'utf8');
/** The same dump as bpftool prints it for a map without BTF: bytes only. */
const withoutBtf = (text: string) =>
  JSON.stringify((JSON.parse(text) as Array<Record<string, unknown>>).map(({ formatted: _f, ...rest }) => rest));

describe('bpftool map dump parsing (captured from a cilium-vxlan lab)', () => {
  it('sums a per-CPU array over CPUs, by key, with or without BTF', () => {
    const text = fixture('stats-container.json');
    expect(parsePercpuDump(text)).toEqual([4, 0, 0, 3, 10, 0, 0, 0]);
    expect(parsePercpuDump(withoutBtf(text))).toEqual([4, 0, 0, 3, 10, 0, 0, 0]);
    expect(namedVerdicts(parsePercpuDump(text))).toEqual({ peer: 4, fib: 0, neigh: 0, tunnel: 3, pass: 10, drop: 0 });
  });

  it('reads the configured mode', () => {
    expect(parseConfigMode(fixture('config-tunnel.json'))).toBe('tunnel');
    expect(parseConfigMode(withoutBtf(fixture('config-tunnel.json')))).toBe('tunnel');
    expect(parseConfigMode('[]')).toBe('unknown');
  });

  it('rejects what is not a dump', () => {
    expect(() => parsePercpuDump('{"error":"x"}')).toThrow();
  });

  it('subtracts snapshots per host and program', () => {
    const v = (peer: number, pass: number) => ({ peer, fib: 0, neigh: 0, tunnel: 0, pass, drop: 0 });
    const before: BpfCounters = { mode: 'redirect', hosts: { h1: { 'from-container': v(5, 1) } } };
    const after: BpfCounters = { mode: 'redirect', hosts: { h1: { 'from-container': v(12, 1) }, h2: { 'from-netdev': v(3, 0) } } };
    expect(bpfDelta(before, after).hosts).toEqual({ h1: { 'from-container': v(7, 0) }, h2: { 'from-netdev': v(3, 0) } });
  });
});

describe('the loader in the plan', () => {
  const plan = (scheme: string) => renderPlan(planLab(resolveLab(loadTopology({ lab: 'bp' })), getScheme(scheme)).plan);
  const mnt = (h: string) => join(labStateDir('bp'), 'bpffs', h);

  it('mounts a bpffs per host, attaches both programs with tc and fills the maps with bpftool', () => {
    const text = plan('cilium');
    expect(text).toContain(`mount -t bpf bpf ${mnt('h1')}\n`);
    expect(text).toContain(`mount -t bpf bpf ${mnt('h2')}\n`);
    expect(text).toContain('tc -n cnl-bp-h1 qdisc add dev lxch1c1 clsact\n');
    expect(text).toContain(
      `ip netns exec cnl-bp-h1 env TC_BPF_MNT=${mnt('h1')} tc filter add dev lxch1c1 ingress bpf da obj ${BPF_OBJECT} sec from-container\n`,
    );
    expect(text).toContain(
      `ip netns exec cnl-bp-h2 env TC_BPF_MNT=${mnt('h2')} tc filter add dev eth0 ingress bpf da obj ${BPF_OBJECT} sec from-netdev\n`,
    );
    // 198.19.1.2 → ifindex 1001 (LE), container MAC, host-side MAC.
    expect(text).toContain(
      `bpftool map update pinned ${mnt('h1')}/tc/globals/endpoints key hex c6 13 01 02 value hex e9 03 00 00 02 ce 01 00 01 02 02 ce 01 00 01 01\n`,
    );
    expect(text).toContain(`bpftool map update pinned ${mnt('h1')}/tc/globals/config key hex 00 00 00 00 value hex 00 00 00 00 `);
    expect(text).toContain('ip -n cnl-bp-h1c1 neigh add 169.254.1.1 lladdr 02:ce:01:00:01:01 dev eth0 nud permanent\n');
    expect(text).toContain(`umount ${mnt('h1')} ${mnt('h2')};`);
    // The programs load before the maps they create are written.
    expect(text.indexOf('tc filter add')).toBeLessThan(text.indexOf('bpftool map update'));
  });

  it('cilium-legacy differs only in the mode', () => {
    const a = plan('cilium').split('\n');
    const b = plan('cilium-legacy').split('\n');
    const diff = b.filter((l, i) => l !== a[i]);
    expect(diff.length).toBe(4); // the header line, the maps stage's title and each host's config update
    expect(diff.filter((l) => l.includes('/config key hex 00 00 00 00 value hex 01 00 00 00'))).toHaveLength(2);
  });

  it('cilium-vxlan has one external VXLAN device and the peer VTEPs in the tunnel map', () => {
    const text = plan('cilium-vxlan');
    expect(text).toContain('ip -n cnl-bp-h1 link add cilium_vxlan index 900 type vxlan external dstport 8472\n');
    expect(text).toContain(
      `ip netns exec cnl-bp-h1 env TC_BPF_MNT=${mnt('h1')} tc filter add dev cilium_vxlan ingress bpf da obj ${BPF_OBJECT} sec from-netdev\n`,
    );
    // 198.19.2.0/24 → VTEP 198.18.0.2, its VXLAN MAC.
    expect(text).toContain(
      `bpftool map update pinned ${mnt('h1')}/tc/globals/tunnels key hex 18 00 00 00 c6 13 02 00 value hex c6 12 00 02 02 ce 02 00 00 fe 00 00\n`,
    );
    expect(text).toContain('ip -n cnl-bp-h1c1 link set eth0 address 02:ce:01:00:01:02 mtu 1450 up\n');
    expect(text).not.toContain('route add 198.19.2.0/24');
  });
});

describe('support', () => {
  it('a scheme needing the BPF objects says clang is missing when they are not built', () => {
    const kernel = Object.fromEntries(KERNEL_FEATURES.map((f) => [f, true])) as Record<KernelFeature, boolean>;
    const caps: Capabilities = {
      root: true,
      linux: true,
      binaries: { tc: '/x', bpftool: '/x', mount: '/x' },
      kernel,
      kernelSource: 'config',
      cniPath: '/x',
      cniPlugins: [],
    };
    const reqs = [{ kind: 'file' as const, path: '/nonexistent/cnl/cilium.o', phrase: 'needs clang (BPF objects not built)' }];
    expect(unmet(reqs, caps)).toEqual(['needs clang (BPF objects not built)']);
    expect(unmet([{ ...reqs[0], path: import.meta.filename }], caps)).toEqual([]);
  });
});

describe('report flags', () => {
  const rec = (mode: BpfCounters['mode'], peer: number): SchemeRecord => ({
    name: 's',
    status: 'ok',
    summary: '',
    attach: 'direct',
    notes: [],
    overhead: 0,
    tests: [
      {
        id: 'tcp-1/cross',
        kind: 'iperf3',
        protocol: 'tcp',
        streams: 1,
        placement: 'cross',
        client: { node: 'h1c1', ns: 'a' },
        server: { node: 'h2c1', ns: 'b' },
        target: '198.19.2.2',
        runs: [{ repeat: 1, startedAt: '', ok: true, argv: [], raw: '' }],
        bpfCounters: { mode, hosts: { h1: { 'from-container': { peer, fib: 0, neigh: 0, tunnel: 0, pass: 9, drop: 0 } } } },
      } as SchemeRecord['tests'][number],
    ],
  });
  it('flags a redirecting datapath whose redirect counters stayed at zero, never legacy', () => {
    expect(bpfFlags(rec('redirect', 0))).toHaveLength(1);
    expect(bpfFlags(rec('redirect', 5))).toEqual([]);
    expect(bpfFlags(rec('legacy', 0))).toEqual([]);
    expect(redirects(rec('tunnel', 5).tests[0].bpfCounters!)).toBe(5);
  });
});

describe('packet path from the typed filter steps', () => {
  const topo = loadTopology({ lab: 'bp' });
  const lab = resolveLab(topo);
  const path = (scheme: string, mode?: BpfCounters['mode']) => {
    const sc = getScheme(scheme);
    const { plan, build } = planLab(lab, sc);
    const counters = mode ? { bpfCounters: { mode, hosts: {} } } : {};
    const test = {
      id: 'tcp-1/cross',
      kind: 'iperf3',
      placement: 'cross',
      client: { node: 'h1c1', ns: build.workloads[0].ns },
      runs: [],
      ...counters,
    };
    const s = {
      name: sc.name,
      status: 'ok',
      summary: '',
      attach: sc.attach,
      notes: [],
      overhead: sc.overhead,
      mtu: build.mtu,
      plan,
      workloads: build.workloads,
      tests: [test],
    };
    return packetPath(s as unknown as SchemeRecord, topo);
  };

  it('cilium: a tc BPF hop on the lxc device instead of the host IP stack', () => {
    const p = path('cilium', 'redirect');
    expect(pathText(p.cross)).toBe('h1c1 eth0 → tc BPF on lxch1c1 → route 198.19.2.0/24 → eth0 → host 2');
    expect(p.cross[1]).toMatchObject({
      kind: 'bpf',
      detail: expect.stringContaining(`ingress bpf ${BPF_OBJECT}:from-container (direct action): redirects`),
    });
    expect(p.hostStack).toBe(false);
    expect(p.cross.at(-2)?.detail).toContain('tc ingress bpf');
  });

  it('cilium-legacy: the same hop hands packets to the host stack (mode from the measured counters)', () => {
    const p = path('cilium-legacy', 'legacy');
    expect(p.cross[1].detail).toContain('legacy host routing');
    expect(p.hostStack).toBe(true);
  });

  it('cilium-vxlan: the BPF hop, then the collect-metadata VXLAN device', () => {
    const p = path('cilium-vxlan', 'tunnel');
    expect(pathText(p.cross)).toBe('h1c1 eth0 → tc BPF on lxch1c1 → VXLAN cilium_vxlan (+50 B) → eth0 → host 2');
    expect(p.fabric).toBe('overlay');
  });
});

describe('mountinfo', () => {
  it('finds mount points and types, unescaping spaces', () => {
    const text = '112 26 0:43 / /run/cnlab/x/bpffs/h1 rw,relatime - bpf bpf rw\n29 1 0:25 / /a\\040b rw shared:1 - tmpfs tmpfs rw\n';
    expect(parseMountinfo(text)).toEqual([
      { point: '/run/cnlab/x/bpffs/h1', fstype: 'bpf' },
      { point: '/a b', fstype: 'tmpfs' },
    ]);
  });
});
