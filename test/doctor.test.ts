import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { diagnoseTrigger } from '../src/measure/suite.js';
import { renderHtml } from '../src/report/html.js';
import { real } from './fixtures/results/synthetic.js';
import { rebuildFix, judgeDaemons } from '../src/doctor/daemons.js';
import { pickPath, sortFindings } from '../src/doctor/doctor.js';
import { parseSysctl } from '../src/doctor/live.js';
import { judgeDrops, parseLinkStats, parseQdiscStats } from '../src/doctor/drops.js';
import { judgeMtu } from '../src/doctor/mtu.js';
import { judgeSoftirq } from '../src/doctor/softirq.js';
import { parseProcStatPerCpu } from '../src/measure/cpu.js';
import { judgeNft, parseRuleset } from '../src/doctor/nft.js';
import { judgeFdb, judgeNeigh, judgeRoutes } from '../src/doctor/overlay.js';
import { diffPlan, type LiveNs } from '../src/doctor/plan-diff.js';
import { judgeReach } from '../src/doctor/reach.js';
import { judgeSysctls } from '../src/doctor/sysctls.js';
import { judgeVxlan } from '../src/doctor/vxlan.js';
import { fixLine, type Finding } from '../src/doctor/types.js';
import { DEFAULT_TOPOLOGY } from '../src/lab/topology.js';
import type { Step } from '../src/plan/types.js';

/** The doctor's pure judges on captured output (issue 14). */

const f = (check: string, rank: number): Finding => ({ check, rank, what: check, evidence: '', fix: [] });

describe('doctor judges', () => {
  it('sysctls: a value differing from the plan is named with the fix writing it back; the last planned write wins', () => {
    const planned = [
      { kind: 'sysctl', ns: 'h2', key: 'net.ipv4.ip_forward', value: '0' },
      { kind: 'sysctl', ns: 'h2', key: 'net.ipv4.ip_forward', value: '1' },
      { kind: 'sysctl', ns: 'h1', key: 'net.ipv4.ip_forward', value: '1' },
    ] as const;
    const live = new Map([
      ['h1', parseSysctl('net.ipv4.ip_forward = 1\n')],
      ['h2', parseSysctl('net.ipv4.ip_forward = 0\n')],
    ]);
    const out = judgeSysctls([...planned], live);
    expect(out).toHaveLength(1);
    expect(out[0].what).toMatch(/^h2: net.ipv4.ip_forward is 0, the plan sets 1/);
    expect(out[0].fix).toEqual([['ip', 'netns', 'exec', 'h2', 'sysctl', '-w', 'net.ipv4.ip_forward=1']]);
  });

  it('nft: parses the plan form and the listed form alike; a foreign forward drop policy and a missing DNAT rule are named', () => {
    const plan = parseRuleset(`table ip t {
 chain pre { type nat hook prerouting priority dstnat; policy accept;
  tcp dport 5201-5203 counter dnat to 198.19.1.2 comment "DNAT"
  udp dport 5201-5203 counter dnat to 198.19.1.2 comment "DNAT"
 }
}
`);
    expect(plan).toEqual([
      {
        family: 'ip',
        table: 't',
        name: 'pre',
        hook: 'prerouting',
        policy: 'accept',
        rules: [
          'tcp dport 5201-5203 counter dnat to 198.19.1.2 comment "DNAT"',
          'udp dport 5201-5203 counter dnat to 198.19.1.2 comment "DNAT"',
        ],
      },
    ]);
    const live = parseRuleset(`table ip t {
\tchain pre {
\t\ttype nat hook prerouting priority dstnat; policy accept;
\t\tudp dport 5201-5203 counter packets 3 bytes 120 dnat to 198.19.1.2 comment "DNAT"
\t}
}
table ip filter {
\tchain FORWARD {
\t\ttype filter hook forward priority filter; policy drop;
\t}
}
`);
    const out = judgeNft('h2', plan, live);
    expect(out.map((x) => x.check)).toEqual(['nft', 'nft']);
    expect(out[0].what).toMatch(/chain ip filter FORWARD on the forward hook drops by policy/);
    expect(out[0].fix[0].slice(-6)).toEqual(['FORWARD', '{', 'policy', 'accept', ';', '}']);
    expect(out[1].what).toMatch(/DNAT rule missing from chain ip t pre: tcp dport/);
    expect(out[1].fix[0]).toEqual(['ip', 'netns', 'exec', 'h2', 'nft', 'add', 'rule', 'ip', 't', 'pre', ...plan[0].rules[0].split(' ')]);
    // The plan's own drop policy (docker-bridge's filter-FORWARD) is no finding.
    expect(judgeNft('h2', live, live)).toEqual([]);
  });

  it('overlay: a missing or re-pointed FDB entry and a missing neighbour, each fixed by the plan command', () => {
    const fdb = [{ kind: 'fdb', ns: 'h1', op: 'append', mac: '02:00:00:00:02:01', dev: 'flannel.1', dst: '198.18.0.2' }] as const;
    expect(judgeFdb([...fdb], new Map([['h1', [{ mac: '02:00:00:00:02:01', ifname: 'flannel.1', dst: '198.18.0.2' }]]]))).toEqual([]);
    const gone = judgeFdb([...fdb], new Map([['h1', []]]));
    expect(gone[0].what).toMatch(/no FDB entry for 02:00:00:00:02:01 \(peer VTEP 198.18.0.2\)/);
    expect(gone[0].fix).toEqual([
      ['bridge', '-n', 'h1', 'fdb', 'append', '02:00:00:00:02:01', 'dev', 'flannel.1', 'dst', '198.18.0.2', 'self', 'permanent'],
    ]);
    const stale = judgeFdb([...fdb], new Map([['h1', [{ mac: '02:00:00:00:02:01', ifname: 'flannel.1', dst: '198.18.0.9' }]]]));
    expect(stale[0].what).toMatch(/sends 02:00:00:00:02:01 to 198.18.0.9, the plan says VTEP 198.18.0.2/);
    const neigh = [{ kind: 'neigh', ns: 'h1', addr: '198.19.2.0', lladdr: '02:00:00:00:02:01', dev: 'flannel.1' }] as const;
    const n = judgeNeigh([...neigh], new Map([['h1', [{ dst: '198.19.2.0', dev: 'flannel.1', lladdr: '02:00:00:00:02:09' }]]]));
    expect(n[0].fix[0].slice(3, 5)).toEqual(['neigh', 'replace']);
  });

  it('routes: a peer block missing from the table is named, fixed with route replace; a host route matches its /32', () => {
    const planned = [
      { kind: 'route', ns: 'h1', dest: '198.19.2.0/24', via: '198.18.0.2' },
      { kind: 'route', ns: 'h1', dest: '198.19.1.2/32', dev: 'cali1' },
    ] as const;
    expect(judgeRoutes([...planned], new Map([['h1', [{ dst: '198.19.2.0/24' }, { dst: '198.19.1.2' }]]]))).toEqual([]);
    const [r] = judgeRoutes([...planned], new Map([['h1', [{ dst: '198.19.1.2' }]]]));
    expect(r.what).toMatch(/no route to 198.19.2.0\/24 \(the plan's via 198.18.0.2\)/);
    expect(r.fix).toEqual([['ip', '-n', 'h1', 'route', 'replace', '198.19.2.0/24', 'via', '198.18.0.2']]);
  });

  it('MTU: a black hole needs a small ping answered and a full one dropped; both numbers are named', () => {
    const from = { node: 'h1c1', ns: 'c', ifName: 'eth0' };
    const base = { from, target: '198.19.2.2', planned: 1450, live: 1500 };
    expect(judgeMtu({ ...base, smallOk: true, fullOk: true })).toEqual([]);
    expect(judgeMtu({ ...base, smallOk: false, fullOk: false }), 'no path at all is not an MTU question').toEqual([]);
    const [x] = judgeMtu({ ...base, smallOk: true, fullOk: false, pathMtu: 1450 });
    expect(x.what).toMatch(/h1c1 eth0 has MTU 1500 \(the scheme's is 1450\), the path MTU to 198.19.2.2 is 1450/);
    expect(x.fix).toEqual([['ip', '-n', 'c', 'link', 'set', 'dev', 'eth0', 'mtu', '1450']]);
  });

  it('daemons: an exited one is named with its log line; the rebuild keeps the topology flags', () => {
    const p = { pid: 7, startTime: 1, ns: 'h1', role: 'bird-h1', argv: ['bird'] };
    const fix = rebuildFix('x', 'calico', { ...DEFAULT_TOPOLOGY, lab: 'x', containersPerHost: 1, sameHost: false });
    const [d] = judgeDaemons(
      fix,
      [p],
      () => false,
      () => 'Shutdown completed',
    );
    expect(d.what).toBe('h1: daemon bird-h1 (pid 7) has exited');
    expect(d.evidence).toMatch(/log ends: Shutdown completed/);
    expect(fix[1]).toEqual(expect.arrayContaining(['up', 'calico', '--containers', '1', '--no-same-host']));
    expect(
      judgeDaemons(
        fix,
        [p],
        () => true,
        () => undefined,
      ),
    ).toEqual([]);
  });

  it('ordering, path choice and fix lines', () => {
    expect(sortFindings([f('path', 90), f('sysctl', 10), f('nft', 15), f('sysctl2', 10)]).map((x) => x.check)).toEqual([
      'sysctl',
      'sysctl2',
      'nft',
      'path',
    ]);
    const w = (node: string, hostIndex: number) => ({ node, ns: node, hostIndex, ip: '198.19.0.1', ifName: 'eth0' });
    expect(pickPath([w('h1c1', 1), w('h2c1', 2)])?.map((x) => x.node)).toEqual(['h1c1', 'h2c1']);
    expect(() => pickPath([w('h1c1', 1)], 'h1c1', 'nope')).toThrow(/no workload named "nope"/);
    expect(fixLine(['nft', 'chain', '{', 'policy', 'accept', ';', '}'])).toBe("nft chain '{' policy accept ';' '}'");
    expect(judgeReach({ node: 'a' }, { node: 'b' }, '198.19.2.2', false, '198.19.2.2 via 198.19.1.1 dev eth0\n')[0].evidence).toMatch(
      /via 198.19.1.1/,
    );
  });

  it('plan-diff: missing, changed and extra objects, following veth peers into their namespace', () => {
    const steps: Step[] = [
      { kind: 'link', ns: 'h1', name: 'eth0', type: 'veth', peer: { name: 'eth0', ns: 'h2' } },
      { kind: 'link-set', ns: 'h1', name: 'eth0', mtu: 1500, up: true },
      { kind: 'addr', ns: 'h1', op: 'add', cidr: '198.18.0.1/24', dev: 'eth0' },
      { kind: 'route', ns: 'h1', dest: '198.19.2.0/24', via: '198.18.0.2' },
      { kind: 'sysctl', ns: 'h1', key: 'net.ipv4.ip_forward', value: '1' },
    ];
    const empty: LiveNs = { links: [], addrs: [], routes: [], sysctls: new Map(), fdb: [], neigh: [] };
    const live = new Map<string, LiveNs>([
      [
        'h1',
        {
          ...empty,
          links: [{ ifname: 'lo' }, { ifname: 'eth0', mtu: 9000, flags: ['UP'] }, { ifname: 'stray0', mtu: 1500 }],
          addrs: [{ ifname: 'eth0', addr_info: [{ local: '198.18.0.1', prefixlen: 24 }] }],
          routes: [{ dst: '198.19.2.0/24', gateway: '198.18.0.3' }],
          sysctls: new Map([['net.ipv4.ip_forward', '0']]),
        },
      ],
      ['h2', empty],
    ]);
    expect(diffPlan(steps, live).map((d) => `${d.change} ${d.ns} ${d.object}${d.detail ? `: ${d.detail}` : ''}`)).toEqual([
      'changed h1 link eth0: mtu 9000 (plan 1500)',
      'missing h2 link eth0',
      'extra h1 link stray0',
      'changed h1 route 198.19.2.0/24: via 198.18.0.3 (plan 198.18.0.2)',
      'changed h1 sysctl net.ipv4.ip_forward: 0 (plan 1)',
    ]);
  });

  it('plan diff: an address the plan moves (del from eth0, add on br0, as bridge-l2 and OVS do) is expected on br0 only', () => {
    const steps = [
      { kind: 'addr', ns: 'h1', op: 'add', cidr: '198.18.0.1/24', dev: 'eth0' },
      { kind: 'addr', ns: 'h1', op: 'del', cidr: '198.18.0.1/24', dev: 'eth0' },
      { kind: 'addr', ns: 'h1', op: 'add', cidr: '198.18.0.1/24', dev: 'br0' },
    ] as Step[];
    const on = (dev: string) => ({
      links: [],
      routes: [],
      sysctls: new Map(),
      fdb: [],
      neigh: [],
      addrs: [{ ifname: dev, addr_info: [{ local: '198.18.0.1', prefixlen: 24 }] }],
    });
    expect(diffPlan(steps, new Map([['h1', on('br0')]]))).toEqual([]);
    expect(diffPlan(steps, new Map([['h1', on('eth0')]])).map((d) => `${d.change} ${d.object}`)).toEqual([
      'missing address 198.18.0.1/24 on br0',
    ]);
  });
});

describe('overlay: VXLAN VNI and port against the plan and the peers', () => {
  const vx = (ns: string, id: number) =>
    ({ kind: 'link', ns, name: 'flannel.1', type: 'vxlan', vxlan: { id, local: '198.18.0.9', dev: 'eth0', dstport: 8472 } }) as Step;
  const steps = [
    vx('h1', 1),
    vx('h2', 1),
    { kind: 'link-set', ns: 'h2', name: 'flannel.1', mtu: 1450, up: true },
    { kind: 'fdb', ns: 'h2', op: 'append', mac: '02:00:00:00:01:01', dev: 'flannel.1', dst: '198.18.0.1' },
    { kind: 'route', ns: 'h2', dest: '198.19.1.0/24', dev: 'eth0' },
  ] as Step[];
  // As `ip -d -j link show` prints it (trimmed).
  const live = (id: number, port = 8472) => [{ ifname: 'flannel.1', linkinfo: { info_kind: 'vxlan', info_data: { id, port } } }];

  it('names the end whose VNI or port differs, its peers, and a fix recreating it with the plan’s own commands', () => {
    expect(
      judgeVxlan(
        steps,
        new Map([
          ['h1', live(1)],
          ['h2', live(1)],
        ]),
      ),
    ).toEqual([]);
    const out = judgeVxlan(
      steps,
      new Map([
        ['h1', live(1)],
        ['h2', live(2)],
      ]),
    );
    expect(out).toHaveLength(1);
    expect(out[0].what).toBe(
      'h2: flannel.1 has VNI 2; the plan and its peers (h1 flannel.1) use VNI 1 port 8472: what they encapsulate to it is dropped',
    );
    expect(out[0].fix.map((a) => a.slice(0, 6).join(' '))).toEqual([
      'ip -n h2 link del flannel.1',
      'ip -n h2 link add flannel.1',
      'ip -n h2 link set flannel.1',
      'bridge -n h2 fdb append 02:00:00:00:01:01',
    ]);
    expect(
      judgeVxlan(
        steps,
        new Map([
          ['h1', live(1, 4789)],
          ['h2', live(1)],
        ]),
      )[0].what,
    ).toMatch(/^h1: flannel.1 has port 4789;/);
  });
});

describe('resources: drops around the probe', () => {
  // Captured in a docker-bridge lab's h1 after a burst through `tc qdisc add dev eth0 root tbf rate 64kbit burst 1600 limit 3000`.
  const captured = (name: string) => JSON.parse(readFileSync(new URL(`fixtures/doctor/${name}`, import.meta.url), 'utf8')) as never[];
  const after = {
    devs: parseLinkStats('h1', captured('ip-link-stats-h1.json')),
    qdiscs: parseQdiscStats('h1', captured('tc-qdisc-tbf-h1.json')),
  };
  const before = { devs: after.devs, qdiscs: after.qdiscs.map((q) => ({ ...q, drops: q.kind === 'tbf' ? 5 : q.drops })) };

  it('a qdisc the plan lacks that dropped during the probe is named first, with the fix deleting it', () => {
    expect(after.qdiscs.find((q) => q.kind === 'tbf')).toMatchObject({ dev: 'eth0', handle: '8028:', parent: undefined, drops: 255 });
    const out = judgeDrops(before, after, [], 'a burst', 12);
    expect(out).toHaveLength(1);
    expect(out[0]).toMatchObject({ check: 'drops', rank: 10 });
    expect(out[0].what).toBe('h1: a tbf qdisc the plan does not have drops packets on eth0 (250 during the probe)');
    expect(out[0].fix).toEqual([['ip', 'netns', 'exec', 'h1', 'tc', 'qdisc', 'del', 'dev', 'eth0', 'root']]);
    expect(judgeDrops(after, after, [], 'a burst', 12), 'no drop during the probe: nothing').toEqual([]);
  });

  it("the plan's own shaper dropping is named as such, late and without a fix; a device's drop counter is evidence when pings were lost; one stray drop is noise", () => {
    const shaped = [
      { kind: 'qdisc', ns: 'h1', dev: 'eth0', qdisc: { type: 'tbf', rate: '1mbit', burst: '1600', latency: '50ms' } },
    ] as Step[];
    expect(judgeDrops(before, after, shaped, 'a burst', 12)[0]).toMatchObject({ rank: 60, fix: [] });
    const devDrops = (rx: number) => ({ ...after, devs: after.devs.map((d) => (d.dev === 'docker0' ? { ...d, rx } : d)) });
    expect(judgeDrops(after, devDrops(1), [], 'x', 3)).toEqual([]);
    expect(judgeDrops(after, devDrops(7), [], 'x', 0), 'every ping answered: the drops were other traffic').toEqual([]);
    expect(judgeDrops(after, devDrops(7), [], 'x', 3)[0]).toMatchObject({
      rank: 30,
      what: 'h1: docker0 dropped packets during the probe (rx +7, tx +0)',
    });
  });
});

describe('resources: a CPU saturated by softirq during the load probe', () => {
  const stat = (name: string) => parseProcStatPerCpu(readFileSync(new URL(`fixtures/doctor/${name}`, import.meta.url), 'utf8'));
  // Two snapshots of this 2-CPU box's /proc/stat a second apart.
  const before = stat('proc-stat-before.txt');
  const after = stat('proc-stat-after.txt');

  it('parses every CPU line, not the aggregate one', () => {
    expect([...before.keys()]).toEqual([0, 1]);
    expect(after.get(1)!.softirq).toBeGreaterThanOrEqual(before.get(1)!.softirq);
  });

  it('names a CPU at ≥ 90% softirq as the bottleneck; an ordinary second is nothing; too short a sample is not judged', () => {
    expect(judgeSoftirq(before, after, 'a probe')).toEqual([]);
    const busy = new Map(before);
    const b1 = before.get(1)!;
    busy.set(1, { ...b1, softirq: b1.softirq + 190, idle: b1.idle + 6, system: b1.system + 4 });
    const out = judgeSoftirq(before, busy, '2 s of iperf3');
    expect(out).toHaveLength(1);
    expect(out[0]).toMatchObject({ check: 'cpu', fix: [] });
    expect(out[0].what).toMatch(/^CPU 1 at 95% softirq during 2 s of iperf3: the bottleneck/);
    expect(out[0].evidence).toMatch(/softirq 1\.90 s of 2\.00 s/);
    busy.set(1, { ...b1, softirq: b1.softirq + 9 });
    expect(judgeSoftirq(before, busy, 'x'), '0.09 s sampled').toEqual([]);
  });
});

describe('cnlab run: doctor before teardown', () => {
  it('runs when a test run failed, and its findings reach the report card (escaped)', () => {
    const run = (ok: boolean) => ({ repeat: 0, startedAt: '', ok, argv: [], raw: '' });
    expect(diagnoseTrigger({ tests: [{ runs: [run(true), run(true)] }] as never })).toBeNull();
    expect(diagnoseTrigger({ tests: [{ runs: [run(true), run(false)] }] as never })).toBe('1 of 2 test runs failed');
    // A TCP figure far below the peers measured before it in the run (a tenth of their median).
    const tcp = (gbps: number, id = 'tcp-1/cross') => ({ id, protocol: 'tcp', runs: [run(true)], summary: { gbps: { median: gbps } } });
    const peer = (gbps: number, status = 'ok') => ({ status, tests: [tcp(gbps), { ...tcp(0.01), protocol: 'udp', id: 'udp/cross' }] });
    const peers = [peer(2.0), peer(3.4), peer(2.6), peer(0.001, 'failed')] as never[];
    expect(diagnoseTrigger({ tests: [tcp(0.05)] } as never, peers)).toBe(
      "tcp-1/cross: 0.0500 Gbit/s, below a tenth of its 3 peers' median 2.60 Gbit/s",
    );
    expect(diagnoseTrigger({ tests: [tcp(0.3)] } as never, peers), 'a slow userspace stand-in is within the spread').toBeNull();
    expect(diagnoseTrigger({ tests: [tcp(0.05, 'tcp-8/cross')] } as never, peers), 'no peer ran that test').toBeNull();
    expect(diagnoseTrigger({ tests: [tcp(0.05)] } as never, peers.slice(0, 1)), 'one peer is too few').toBeNull();
    expect(diagnoseTrigger({ tests: [{ ...tcp(0.001), protocol: 'udp' }] } as never, peers), 'UDP runs at a set rate').toBeNull();
    const r = real();
    r.schemes[1].doctor = {
      trigger: '1 of 2 test runs failed',
      findings: [
        {
          check: 'sysctl',
          what: 'h2: net.ipv4.ip_forward is 0 <b>',
          evidence: 'sysctl',
          fix: [['ip', 'netns', 'exec', 'h2', 'sysctl', '-w', 'net.ipv4.ip_forward=1']],
        },
      ],
    };
    const html = renderHtml(r);
    expect(html).toContain('doctor (1 of 2 test runs failed): 1 findings');
    expect(html).toContain('h2: net.ipv4.ip_forward is 0 &lt;b&gt;');
    expect(html).toContain('fix: ip netns exec h2 sysctl -w net.ipv4.ip_forward=1');
  });
});
