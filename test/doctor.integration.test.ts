import { describe, expect, it } from 'vitest';
import { unsupportedReason } from '../src/apply/up.js';
import { runDoctor } from '../src/doctor/doctor.js';
import { loadDoctorLab } from '../src/doctor/load.js';
import type { Finding } from '../src/doctor/types.js';
import type { Scheme } from '../src/plan/scheme.js';
import { calico } from '../src/schemes/calico.js';
import { dockerBridge } from '../src/schemes/docker-bridge.js';
import { flannelVxlan } from '../src/schemes/flannel-vxlan.js';
import { weaveSleeve } from '../src/schemes/weave-sleeve.js';
import { expectHealthy } from './helpers/doctor.js';
import { isRoot, sh, useLab, type TestLab } from './helpers/lab.js';

/**
 * Fault injection (issue 14): a running lab broken one way at a time. Doctor's FIRST finding must
 * name the cause; its fix, run as printed, must make the lab healthy again (doctor re-probes and
 * finds nothing). One small lab per scheme (1 container per host) serves several faults.
 */

const why = async (s: Scheme) => (isRoot ? await unsupportedReason(s) : 'not root');
const small = { containers: 1, sameHost: false } as const;

async function doctor(lab: TestLab): Promise<Finding[]> {
  return (await runDoctor(await loadDoctorLab(lab.name))).findings;
}

async function run(argv: string[]): Promise<void> {
  const r = await sh(argv[0], argv.slice(1));
  expect(r.code, `${argv.join(' ')}: ${r.stderr}`).toBe(0);
}

/** Break, check the first finding, run its fix, re-probe. */
async function faultCycle(lab: TestLab, breakIt: string[][], check: string, what: RegExp, settle?: 'settle'): Promise<void> {
  for (const argv of breakIt) await run(argv);
  // A control plane reacts to a change (a peer's agent withdraws routes) in well under a second.
  if (settle) await new Promise((r) => setTimeout(r, 500));
  const findings = await doctor(lab);
  expect(findings.length, 'doctor must find something').toBeGreaterThan(0);
  expect(findings[0].check).toBe(check);
  expect(findings[0].what).toMatch(what);
  expect(findings[0].fix.length, 'a fix command').toBeGreaterThan(0);
  for (const argv of findings[0].fix) await run(argv);
  if (settle) await new Promise((r) => setTimeout(r, 500));
  expect(await doctor(lab), 'healthy after the fix').toEqual([]);
}

async function pidOf(lab: TestLab, role: string): Promise<number> {
  const p = lab.up.state.processes.find((x) => x.role === role);
  expect(p, `a tracked ${role}`).toBeDefined();
  return p!.pid;
}

describe.skipIf(!!(await why(flannelVxlan)))('doctor on flannel-vxlan', () => {
  const lab = useLab('drfv', flannelVxlan, { flags: small });
  const ns = (node: string) => `cnl-drfv-${node}`;

  it('is healthy when built, and the kernel matches the plan', () => expectHealthy(lab.name));

  it('workload MTU 1500 over VXLAN: a black hole named with both numbers', async () => {
    await faultCycle(lab, [['ip', '-n', ns('h1c1'), 'link', 'set', 'dev', 'eth0', 'mtu', '1500']], 'mtu', /MTU 1500 .*1450/);
  });

  it('forwarding off on h2', async () => {
    await faultCycle(lab, [['ip', 'netns', 'exec', ns('h2'), 'sysctl', '-qw', 'net.ipv4.ip_forward=0']], 'sysctl', /ip_forward is 0/);
  });

  it('FORWARD policy drop', async () => {
    const nft = ['ip', 'netns', 'exec', ns('h2'), 'nft'];
    await faultCycle(
      lab,
      [
        [...nft, 'add', 'table', 'ip', 'filter'],
        [...nft, 'add', 'chain', 'ip', 'filter', 'FORWARD', '{ type filter hook forward priority 0; policy drop; }'],
      ],
      'nft',
      /FORWARD .*drops by policy/,
    );
    await run([...nft, 'delete', 'table', 'ip', 'filter']);
  });

  it('a deleted VXLAN FDB entry', async () => {
    const fdb = (await sh('bridge', ['-n', ns('h1'), 'fdb', 'show', 'dev', 'flannel.1'])).stdout.split('\n').find((l) => / dst /.test(l));
    expect(fdb, 'an FDB entry for the peer VTEP').toBeDefined();
    const mac = fdb!.split(' ')[0];
    await faultCycle(
      lab,
      [['bridge', '-n', ns('h1'), 'fdb', 'del', mac, 'dev', 'flannel.1']],
      'fdb',
      new RegExp(`no FDB entry for ${mac}`),
    );
  });

  it("offloads differing between the two ends (GSO off on h2's flannel.1): named, the fix turns it back on", async () => {
    await faultCycle(
      lab,
      [['ip', 'netns', 'exec', ns('h2'), 'ethtool', '-K', 'flannel.1', 'gso', 'off']],
      'offloads',
      /^cnl-drfv-h2: flannel\.1 has gso off where the other ends have it on/,
    );
  });

  it('VNI changed on one end (flannel.1 on h2 recreated with VNI 2): named before the FDB entries that went with it', async () => {
    const ip = ['ip', '-n', ns('h2'), 'link'];
    await faultCycle(
      lab,
      [
        [...ip, 'del', 'flannel.1'],
        [...ip, 'add', 'flannel.1', 'type', 'vxlan', 'id', '2', 'local', '198.18.0.2', 'dev', 'eth0', 'dstport', '8472', 'nolearning'],
        [...ip, 'set', 'flannel.1', 'up'],
      ],
      'vxlan',
      /cnl-drfv-h2: flannel\.1 has VNI 2; the plan and its peers \(cnl-drfv-h1 flannel\.1\) use VNI 1/,
    );
  });

  it('an etcd lease deleted: the lease is named before the FDB entries its peers then remove', async () => {
    const etcd = lab.up.state.control?.etcdEndpoint;
    expect(etcd, 'the real control plane').toBeDefined();
    const del = ['ip', 'netns', 'exec', ns('h1'), 'etcdctl', `--endpoints=${etcd}`, 'del', '/coreos.com/network/subnets/198.19.2.0-24'];
    await faultCycle(lab, [del], 'lease', /flannel lease for 198.19.2.0\/24 .* missing from etcd/, 'settle');
  });

  it("flannel's agent killed: the daemon is named first (last: the lab is not repaired)", async () => {
    await run(['kill', String(await pidOf(lab, 'flannel-h2'))]);
    await new Promise((r) => setTimeout(r, 300));
    const f = await doctor(lab);
    expect(f[0].check).toBe('daemon');
    expect(f[0].what).toMatch(/flannel-h2 .* has exited/);
    expect(f[0].fix[1]).toEqual(expect.arrayContaining(['up', 'flannel-vxlan', '--lab', 'drfv', '--containers', '1', '--no-same-host']));
  });
});

describe.skipIf(!!(await why(calico)))('doctor on calico', () => {
  const lab = useLab('drca', calico, { flags: small });

  it('is healthy when built, and the kernel matches the plan', () => expectHealthy(lab.name));

  it('proxy_arp off on a Calico veth', async () => {
    await faultCycle(
      lab,
      [
        ['ip', 'netns', 'exec', 'cnl-drca-h1', 'sysctl', '-qw', 'net.ipv4.conf.calih1c1.proxy_arp=0'],
        ['ip', '-n', 'cnl-drca-h1c1', 'neigh', 'flush', 'dev', 'eth0'],
      ],
      'sysctl',
      /calih1c1\.proxy_arp is 0/,
    );
  });

  it('rp_filter strict on an asymmetric path: h2 dual-homed, the route back to h1c1 over the second link', async () => {
    // Calico's own path is symmetric (it sets rp_filter=1 on its veths and that is right). The
    // classic asymmetry is induced: a second link h1–h2 (a storage or management network) that
    // h2's more specific route back to h1c1 prefers, while h1 still sends over eth0. Packets from
    // h1c1 arrive at h2 on eth0, the route back leaves by the other link: strict filtering drops them.
    const [h1, h2] = ['cnl-drca-h1', 'cnl-drca-h2'];
    await run(['ip', '-n', h2, 'link', 'add', 'dcasym', 'type', 'veth', 'peer', 'name', 'dcasym', 'netns', h1]);
    try {
      for (const [ns, a] of [
        [h1, '198.18.254.1/30'],
        [h2, '198.18.254.2/30'],
      ]) {
        await run(['ip', '-n', ns, 'addr', 'add', a, 'dev', 'dcasym']);
        await run(['ip', '-n', ns, 'link', 'set', 'dcasym', 'up']);
      }
      await run(['ip', '-n', h2, 'route', 'add', '198.19.1.2/32', 'via', '198.18.254.1', 'dev', 'dcasym']);
      await faultCycle(
        lab,
        [['ip', 'netns', 'exec', h2, 'sysctl', '-qw', 'net.ipv4.conf.all.rp_filter=1']],
        'rp_filter',
        /cnl-drca-h2: strict rp_filter drops packets from 198\.19\.1\.2: they arrive on eth0, the route back leaves by dcasym/,
      );
    } finally {
      await sh('ip', ['-n', h2, 'link', 'del', 'dcasym']);
    }
  });

  it('BIRD killed: the dead BIRD named first, with the rebuild; the peer session not Established', async () => {
    await run(['kill', String(await pidOf(lab, 'bird-h1'))]);
    await new Promise((r) => setTimeout(r, 1500));
    const f = await doctor(lab);
    expect(f[0].check).toBe('daemon');
    expect(f[0].what).toMatch(/bird-h1 .* has exited/);
    expect(f[0].fix[1]).toEqual(expect.arrayContaining(['up', 'calico', '--lab', 'drca']));
    const bgp = f.find((x) => x.check === 'bgp');
    expect(bgp?.what).toMatch(/cnl-drca-h2: bird-h2's BGP session Mesh_198_18_0_1 .* not Established/);
  });
});

describe.skipIf(!!(await why(dockerBridge)))('doctor on docker-bridge', () => {
  const lab = useLab('drdb', dockerBridge, { flags: small });

  it('is healthy when built, and the kernel matches the plan', () => expectHealthy(lab.name));

  it('the DNAT rule for a published port deleted', async () => {
    const list = await sh('ip', [
      'netns',
      'exec',
      'cnl-drdb-h2',
      'nft',
      '-a',
      'list',
      'chain',
      'ip',
      'docker-bridges',
      'nat-prerouting-and-output',
    ]);
    const handle = /tcp dport .* dnat to .* # handle (\d+)/.exec(list.stdout)?.[1];
    expect(handle, list.stdout).toBeDefined();
    await faultCycle(
      lab,
      [
        [
          'ip',
          'netns',
          'exec',
          'cnl-drdb-h2',
          'nft',
          'delete',
          'rule',
          'ip',
          'docker-bridges',
          'nat-prerouting-and-output',
          'handle',
          handle!,
        ],
      ],
      'nft',
      /DNAT rule missing .*tcp dport/,
    );
  });

  it('a shaper on the path that drops (tbf, a tiny rate): named first from the qdisc counters, deleted by its fix', async () => {
    const tc = ['ip', 'netns', 'exec', 'cnl-drdb-h1', 'tc', 'qdisc'];
    await faultCycle(
      lab,
      [[...tc, 'add', 'dev', 'eth0', 'root', 'tbf', 'rate', '64kbit', 'burst', '1600', 'limit', '3000']],
      'drops',
      /a tbf qdisc the plan does not have drops packets on eth0/,
    );
  });
});

describe.skipIf(!!(await why(weaveSleeve)))('doctor on weave-sleeve', () => {
  const lab = useLab('drws', weaveSleeve, { flags: small });

  it('is healthy when built, and the kernel matches the plan', () => expectHealthy(lab.name));

  it('the encapsulation daemon killed: named first, with the rebuild', async () => {
    await run(['kill', String(await pidOf(lab, 'encap-h2'))]);
    await new Promise((r) => setTimeout(r, 300));
    const f = await doctor(lab);
    expect(f[0].check).toBe('daemon');
    expect(f[0].what).toMatch(/encap-h2 .* has exited/);
    expect(
      f.map((x) => x.check),
      'the broken path is reported too',
    ).toContain('path');
  });
});
