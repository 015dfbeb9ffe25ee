import { describe, expect, it } from 'vitest';
import { ipArgs } from './helpers/argv.js';
import { buildHost } from '../src/apply/up.js';
import { detect, unmet } from '../src/caps/detect.js';
import { resolveLab } from '../src/lab/resolve.js';
import { loadTopology, type TopologyFlags } from '../src/lab/topology.js';
import { planLab } from '../src/plan/build.js';
import { renderPlan } from '../src/plan/render.js';
import type { Plan, Step } from '../src/plan/types.js';
import { TX_OFF_FANOUT, tunnelFlows, uplinkFlows, USERSPACE_NOTE } from '../src/schemes/parts/ovs.js';
import { getScheme } from '../src/schemes/registry.js';
import { programOf } from '../src/plan/argv.js';
import { APPROXIMATION_NOTE, weaveFlows, weaveVni } from '../src/schemes/weave-fastdp.js';

/** The OVS and Weave plans, pure: datapath choice, daemons, bridges, flows, and the script. */

const lab = (flags: TopologyFlags = {}) => resolveLab(loadTopology({ lab: 'rp', ...flags }));
const steps = (plan: Plan): Step[] => plan.stages.flatMap((s) => s.steps);
/** Every program a plan runs in a namespace (exec, ovs-vsctl and ovs-ofctl steps), as argv. */
const execs = (plan: Plan) =>
  steps(plan).flatMap((s) => {
    const p = programOf(s);
    return p ? [{ ns: s.ns, ...p }] : [];
  });
const daemons = (plan: Plan) => steps(plan).flatMap((s) => (s.kind === 'daemon' ? [s] : []));
const vsctlText = (plan: Plan, ns: string) =>
  execs(plan)
    .filter((s) => s.ns === ns && s.argv[0] === 'ovs-vsctl')
    .map((s) => s.argv.join(' '))
    .join('\n');
const KERNEL = { preferred: true };
const USERSPACE = { preferred: false };
const OVS_SCHEMES = ['ovs', 'ovs-normal', 'ovs-linuxbridge', 'ovs-overlay'];
/** Built with userspace TSO (parts/ovs-tuning.ts): the containers keep their offloads. */
const TSO = ['ovs', 'ovs-normal'];

describe.each(OVS_SCHEMES)('%s plan', (name) => {
  const scheme = getScheme(name);

  it('prefers the kernel datapath and can always fall back to the userspace one', () => {
    expect(scheme.prefers).toContainEqual({ kind: 'kernel', feature: 'OPENVSWITCH' });
    expect(scheme.requires).not.toContainEqual({ kind: 'kernel', feature: 'OPENVSWITCH' });
    expect(scheme.requires).toContainEqual({ kind: 'binary', name: 'ovs-vswitchd', pkg: 'openvswitch-switch' });
  });

  it('runs one ovsdb-server and one ovs-vswitchd per host, in the foreground, in its own run directory', () => {
    const l = lab({ hosts: 3, underlay: '198.18.0.0/22' });
    const { plan } = planLab(l, scheme, USERSPACE);
    const ds = daemons(plan);
    expect(ds.map((d) => [d.ns, d.name])).toEqual(
      l.hosts.flatMap((h) => [
        [h.ns, 'ovsdb-server'],
        [h.ns, 'ovs-vswitchd'],
      ]),
    );
    for (const d of ds) {
      const dir = `${l.stateDir}/ovs-${l.hosts.find((h) => h.ns === d.ns)!.name}`;
      expect(d.argv.filter((a) => /--detach|--pidfile|--monitor/.test(a))).toEqual([]);
      expect(d.env).toEqual({ OVS_RUNDIR: dir, OVS_LOGDIR: dir, OVS_DBDIR: dir, OVS_SYSCONFDIR: dir });
      expect(d.log.startsWith(`${dir}/`)).toBe(true);
      expect(d.readyFile).toBe(d.name === 'ovsdb-server' ? `${dir}/db.sock` : `${dir}/ovs-vswitchd.ctl`);
      expect(d.argv.join(' ')).toContain(d.name === 'ovsdb-server' ? `--remote=punix:${dir}/db.sock` : `unix:${dir}/db.sock`);
    }
  });

  it('userspace datapath: netdev bridges, tx checksum offload off in every container unless TSO, the stand-in note with its options', () => {
    const l = lab();
    const { plan, build } = planLab(l, scheme, USERSPACE);
    const tso = TSO.includes(name);
    expect(build.notes?.[0]).toBe(USERSPACE_NOTE);
    expect(build.notes?.[1]).toMatch(
      tso ? /options: other_config:userspace-tso-enable=true;.*offload on/ : /options: none \(OVS defaults\);.*offload off/,
    );
    const text = l.hosts.map((h) => vsctlText(plan, h.ns)).join('\n');
    expect(text).toContain('datapath_type=netdev');
    expect(text).not.toContain('datapath_type=system');
    // Read once by ovs-vswitchd: set in the database before it starts.
    const vswitchd = steps(plan).findIndex((s) => s.kind === 'daemon' && s.name === 'ovs-vswitchd');
    const setTso = steps(plan).findIndex((s) => s.kind === 'exec' && s.argv.includes('other_config:userspace-tso-enable=true'));
    if (tso) expect(setTso).toBeGreaterThan(-1);
    if (tso) expect(setTso).toBeLessThan(vswitchd);
    else expect(setTso).toBe(-1);
    const off = execs(plan)
      .filter((s) => s.argv.join(' ') === 'ethtool -K eth0 tx off')
      .map((s) => s.ns);
    expect(off.sort()).toEqual(tso ? [] : build.workloads.map((w) => w.ns).sort());
  });

  it.skipIf(TSO.includes(name))(
    `userspace datapath with more than ${TX_OFF_FANOUT} containers on a host: one xargs nsenter ethtool per host`,
    () => {
      const l = lab({ containers: TX_OFF_FANOUT + 1, underlay: '198.18.0.0/22' });
      const { plan } = planLab(l, scheme, USERSPACE);
      const fan = execs(plan).filter((s) => s.argv.join(' ') === 'xargs -L 1 nsenter');
      expect(fan.map((s) => s.ns)).toEqual(l.hosts.map((h) => h.ns));
      const lines = fan.flatMap((s) => s.input!.trimEnd().split('\n'));
      expect(lines).toHaveLength(l.hosts.flatMap((h) => h.containers).length);
      expect(lines[0]).toBe('--net=/run/netns/cnl-rp-h1c1 ethtool -K eth0 tx off');
      expect(execs(plan).filter((s) => s.argv[0] === 'ethtool')).toEqual([]);
    },
  );

  it('kernel datapath: system bridges, no ethtool, no stand-in note', () => {
    const { plan, build } = planLab(lab(), scheme, KERNEL);
    expect(build.notes ?? []).toEqual([]);
    const text = execs(plan)
      .map((s) => s.argv.join(' '))
      .join('\n');
    expect(text).toContain('datapath_type=system');
    expect(text).not.toContain('datapath_type=netdev');
    expect(text).not.toContain('ethtool');
  });

  it('renders flows as ovs-ofctl add-flows with a here-document, and says how to stop the daemons', () => {
    const { plan } = planLab(lab(), scheme, USERSPACE);
    const script = renderPlan(plan);
    expect(script).toContain('#   for ns in cnl-rp-h1 cnl-rp-h2; do ip netns pids $ns | xargs -r kill; done');
    if (name === 'ovs-normal') expect(script).not.toContain('add-flows');
    else expect(script).toMatch(/ip netns exec cnl-rp-h1 ovs-ofctl add-flows unix:\S+\/ovs-h1\/br-int\.mgmt - <<'INPUT'\npriority=/);
  });
});

describe('ovs and ovs-normal', () => {
  it('ovs: a secure bridge with explicit flows; ovs-normal: standalone, no flows of its own', () => {
    const explicit = planLab(lab(), getScheme('ovs'), USERSPACE).plan;
    const normal = planLab(lab(), getScheme('ovs-normal'), USERSPACE).plan;
    expect(vsctlText(explicit, 'cnl-rp-h1')).toContain('fail_mode=secure');
    expect(vsctlText(normal, 'cnl-rp-h1')).toContain('fail_mode=standalone');
    expect(execs(explicit).filter((s) => s.argv[0] === 'ovs-ofctl')).toHaveLength(2);
    expect(execs(normal).filter((s) => s.argv[0] === 'ovs-ofctl')).toEqual([]);
  });

  it('the host address moves from the underlay port to the bridge', () => {
    const h1 = steps(planLab(lab(), getScheme('ovs'), USERSPACE).plan).flatMap((s) =>
      ipArgs(s) && s.ns === 'cnl-rp-h1' ? [ipArgs(s)!.join(' ')] : [],
    );
    expect(h1).toEqual(
      expect.arrayContaining(['addr del 198.18.0.1/24 dev eth0', 'addr add 198.18.0.1/24 dev br-int', 'link set br-int up']),
    );
  });
});

describe('ovs-overlay', () => {
  const scheme = getScheme('ovs-overlay');

  it('userspace: br-phy takes eth0 and the VTEP address; kernel: the VTEP stays on eth0', () => {
    const user = planLab(lab(), scheme, USERSPACE).plan;
    expect(vsctlText(user, 'cnl-rp-h1')).toContain('add-br br-phy -- set bridge br-phy datapath_type=netdev fail_mode=standalone');
    expect(vsctlText(user, 'cnl-rp-h1')).toContain('add-port br-phy eth0');
    // userspace tunnels keep their own ARP cache: each peer's endpoint (fixed br-phy MAC) up front
    expect(vsctlText(user, 'cnl-rp-h1')).toContain('other-config:hwaddr=02:00:0c:01:00:00');
    const appctl = execs(user)
      .filter((s) => s.ns === 'cnl-rp-h1' && s.argv[0] === 'ovs-appctl')
      .map((s) => s.argv.slice(3).join(' '));
    expect(appctl).toEqual(['tnl/neigh/aging 3600', 'tnl/neigh/set br-phy 198.18.0.2 02:00:0c:02:00:00']);
    const kernel = planLab(lab(), scheme, KERNEL).plan;
    expect(vsctlText(kernel, 'cnl-rp-h1')).not.toContain('br-phy');
    expect(execs(kernel).filter((s) => s.argv[0] === 'ovs-appctl')).toEqual([]);
    expect(steps(kernel).some((s) => ipArgs(s)?.join(' ').startsWith('addr del'))).toBe(false);
  });

  it('one VXLAN port per peer (key 42, port 4789) and MTU underlay - 50', () => {
    const l = lab({ hosts: 3, underlay: '198.18.0.0/22', mtu: 9000 });
    const { plan, build } = planLab(l, scheme, USERSPACE);
    expect(build.mtu).toBe(8950);
    const h2 = vsctlText(plan, 'cnl-rp-h2');
    expect(h2).toContain(
      'add-port br-int vxlan-h1 -- set interface vxlan-h1 type=vxlan options:remote_ip=198.18.0.1 options:key=42 options:dst_port=4789',
    );
    expect(h2).toContain('options:remote_ip=198.18.0.3');
    expect(h2).not.toContain('vxlan-h2');
  });
});

describe('flows (fixtures)', () => {
  it('uplinkFlows: local MACs in, broadcast flooded, each local port out the uplink', () => {
    expect(
      uplinkFlows(
        [
          { mac: '02:00:0c:01:00:00', port: 'LOCAL' },
          { mac: '02:00:0c:01:00:01', port: 'vc-h1c1' },
          { mac: '02:00:0c:01:00:02', port: 'lb' },
          { mac: '02:00:0c:01:00:03', port: 'lb' },
        ],
        'eth0',
      ),
    ).toEqual([
      'priority=100,dl_dst=02:00:0c:01:00:00,actions=LOCAL',
      'priority=100,dl_dst=02:00:0c:01:00:01,actions=output:vc-h1c1',
      'priority=100,dl_dst=02:00:0c:01:00:02,actions=output:lb',
      'priority=100,dl_dst=02:00:0c:01:00:03,actions=output:lb',
      'priority=50,dl_dst=01:00:00:00:00:00/01:00:00:00:00:00,actions=FLOOD',
      'priority=10,in_port=LOCAL,actions=output:eth0',
      'priority=10,in_port=vc-h1c1,actions=output:eth0',
      'priority=10,in_port=lb,actions=output:eth0',
    ]);
  });

  it('tunnelFlows: MACs to ports or tunnels; broadcast from a tunnel never goes back into a tunnel', () => {
    const flows = tunnelFlows(
      [
        { mac: 'a', port: 'vc-h1c1' },
        { mac: 'b', port: 'vxlan-h2' },
      ],
      ['vc-h1c1', 'vc-h1c2'],
      ['vxlan-h2', 'vxlan-h3'],
      42,
    );
    expect(flows).toEqual([
      'priority=100,dl_dst=a,actions=output:vc-h1c1',
      'priority=100,dl_dst=b,actions=output:vxlan-h2',
      'priority=60,in_port=vxlan-h2,tun_id=42,dl_dst=01:00:00:00:00:00/01:00:00:00:00:00,actions=output:vc-h1c1,output:vc-h1c2',
      'priority=60,in_port=vxlan-h3,tun_id=42,dl_dst=01:00:00:00:00:00/01:00:00:00:00:00,actions=output:vc-h1c1,output:vc-h1c2',
      'priority=50,dl_dst=01:00:00:00:00:00/01:00:00:00:00:00,actions=output:vc-h1c1,output:vc-h1c2,output:vxlan-h2,output:vxlan-h3',
    ]);
  });

  it('every container MAC of the lab has exactly one flow on every host', () => {
    const l = lab({ hosts: 3, underlay: '198.18.0.0/22', containers: 2 });
    const { plan } = planLab(l, getScheme('ovs-overlay'), USERSPACE);
    for (const s of execs(plan).filter((e) => e.argv[0] === 'ovs-ofctl')) {
      const macs = s.input!.split('\n').flatMap((f) => /^priority=100,dl_dst=(\S+?),/.exec(f)?.[1] ?? []);
      expect(macs).toHaveLength(l.hosts.flatMap((h) => h.containers).length);
      expect(new Set(macs).size).toBe(macs.length);
    }
  });
});

describe('weave-fastdp', () => {
  const scheme = getScheme('weave-fastdp');

  it('VNI = dst << 12 | src, as Weave decodes it (router/fastdp.go extractPeers)', () => {
    const vni = weaveVni(3, 7);
    expect([vni & 0xfff, (vni >> 12) & 0xfff]).toEqual([3, 7]);
  });

  it('without the OVS kernel datapath: labelled approximation, no daemons, kernel vxlan on UDP 6784, MTU 1376', () => {
    const { plan, build } = planLab(lab(), scheme, USERSPACE);
    expect(build.notes).toEqual([APPROXIMATION_NOTE]);
    expect(build.mtu).toBe(1376);
    expect(daemons(plan)).toEqual([]);
    const h1 = steps(plan).flatMap((s) => (ipArgs(s) && s.ns === 'cnl-rp-h1' ? [ipArgs(s)!.join(' ')] : []));
    expect(h1).toContain('link add vxlan-6784 type vxlan id 1 local 198.18.0.1 dev eth0 dstport 6784');
    expect(h1).toContain('link set vxlan-6784 mtu 1376 master datapath up');
  });

  it('with it: OVS bridge "datapath" on the kernel datapath, flow-based vxlan-6784, learning flows', () => {
    const l = lab({ hosts: 3, underlay: '198.18.0.0/22' });
    const { plan, build } = planLab(l, scheme, KERNEL);
    expect(build.notes ?? []).toEqual([]);
    expect(daemons(plan)).toHaveLength(6);
    const v = vsctlText(plan, 'cnl-rp-h1');
    expect(v).toContain('datapath_type=system');
    expect(v).toContain(
      'add-port datapath vxlan-6784 -- set interface vxlan-6784 type=vxlan options:remote_ip=flow options:key=flow options:dst_port=6784',
    );
    const flood = weaveFlows(l, l.hosts[0]).find((f) => f.startsWith('table=1,priority=0'))!;
    expect(flood).toBe(
      'table=1,priority=0,actions=set_field:198.18.0.2->tun_dst,set_field:8193->tun_id,output:vxlan-6784,set_field:198.18.0.3->tun_dst,set_field:12289->tun_id,output:vxlan-6784',
    );
  });

  it('keeps MTU within the underlay: min(1376, underlay - 50)', () => {
    expect(planLab(lab({ mtu: 1400 }), scheme, USERSPACE).build.mtu).toBe(1350);
  });
});

describe('buildHost on this machine', () => {
  it('prefers the kernel datapath exactly when the openvswitch module is there', async () => {
    const caps = await detect();
    const scheme = getScheme('ovs');
    expect((await buildHost(scheme)).preferred).toBe(unmet(scheme.prefers!, caps).length === 0);
    expect((await buildHost(scheme)).preferred).toBe(caps.kernel.OPENVSWITCH);
    expect(await buildHost(getScheme('calico'))).toEqual({ preferred: false });
  });
});
