import { describe, expect, it } from 'vitest';
import { b64, leaderOf, parseEndpoints, parseWatchMessage, prefixEnd, unb64 } from '../src/control/etcd.js';
import { parseAgentArgs } from '../src/flannel/agent.js';
import { leaseLines, leaseValue, networkConfig, parseLease, subnetEnv, subnetKey, subnetOfKey } from '../src/flannel/lease.js';
import { resolveLab } from '../src/lab/resolve.js';
import { loadTopology } from '../src/lab/topology.js';
import { planLab } from '../src/plan/build.js';
import { renderPlan } from '../src/plan/render.js';
import type { Step } from '../src/plan/types.js';
import { getScheme } from '../src/schemes/registry.js';
import { ipArgs } from './helpers/argv.js';

/** Flannel's etcd layout, the agent's kernel programming and the etcd gateway's encoding (pure). */

describe("flannel's etcd layout", () => {
  it('keys and values as flanneld writes them', () => {
    expect(subnetKey('198.19.1.0/24')).toBe('/coreos.com/network/subnets/198.19.1.0-24');
    expect(subnetOfKey('/coreos.com/network/subnets/198.19.1.0-24')).toBe('198.19.1.0/24');
    expect(subnetOfKey('/coreos.com/network/config')).toBeNull();
    expect(JSON.stringify(leaseValue('198.18.0.1', 'vxlan', { vni: 1, mac: '02:00:00:00:01:01' }))).toBe(
      '{"PublicIP":"198.18.0.1","PublicIPv6":null,"BackendType":"vxlan","BackendData":{"VNI":1,"VtepMAC":"02:00:00:00:01:01"}}',
    );
    expect(leaseValue('198.18.0.1', 'host-gw')).toEqual({ PublicIP: '198.18.0.1', PublicIPv6: null, BackendType: 'host-gw' });
    expect(networkConfig('198.19.0.0/16', 24, 'vxlan')).toEqual({
      Network: '198.19.0.0/16',
      SubnetLen: 24,
      Backend: { Type: 'vxlan', VNI: 1, Port: 8472 },
    });
    expect(parseLease('not json')).toBeNull();
    expect(subnetEnv('198.19.0.0/16', '198.19.2.0/24', 1450)).toBe(
      'FLANNEL_NETWORK=198.19.0.0/16\nFLANNEL_SUBNET=198.19.2.1/24\nFLANNEL_MTU=1450\nFLANNEL_IPMASQ=false\n',
    );
  });

  it('what a peer lease programs, and removes, per backend', () => {
    const vx = leaseValue('198.18.0.2', 'vxlan', { vni: 1, mac: '02:00:00:00:02:01' });
    expect(leaseLines('add', '198.19.2.0/24', vx, { dev: 'flannel.1' })).toEqual({
      ip: [
        'neigh replace 198.19.2.0 lladdr 02:00:00:00:02:01 dev flannel.1 nud permanent',
        'route replace 198.19.2.0/24 via 198.19.2.0 dev flannel.1 onlink',
      ],
      bridge: ['fdb replace 02:00:00:00:02:01 dev flannel.1 dst 198.18.0.2 self permanent'],
    });
    expect(leaseLines('del', '198.19.2.0/24', vx, { dev: 'flannel.1' }).ip).toEqual([
      'route del 198.19.2.0/24 via 198.19.2.0 dev flannel.1 onlink',
      'neigh del 198.19.2.0 dev flannel.1',
    ]);
    // udp: nothing in the kernel (the peer goes into the daemon's table file).
    expect(leaseLines('add', '198.19.2.0/24', leaseValue('198.18.0.2', 'udp'), { dev: 'flannel0' })).toEqual({ ip: [], bridge: [] });
    expect(leaseLines('add', '198.19.2.0/24', leaseValue('198.18.0.2', 'host-gw'), { dev: 'eth0' })).toEqual({
      ip: ['route replace 198.19.2.0/24 via 198.18.0.2 dev eth0'],
      bridge: [],
    });
  });

  it('the agent refuses incomplete arguments', () => {
    expect(() => parseAgentArgs(['--etcd', 'http://198.18.0.254:2379'])).toThrow(/is required/);
    const base = [
      '--etcd',
      'x',
      '--public-ip',
      '198.18.0.1',
      '--subnet',
      '198.19.1.0/24',
      '--network',
      '198.19.0.0/16',
      '--dev',
      'flannel.1',
      '--mtu',
      '1450',
      '--dir',
      '/tmp/x',
    ];
    expect(() => parseAgentArgs([...base, '--backend', 'ipip'])).toThrow(/vxlan, host-gw or udp/);
    expect(() => parseAgentArgs([...base, '--backend', 'udp'])).toThrow(/--table/);
    expect(parseAgentArgs([...base, '--backend', 'udp', '--table', '/tmp/x/peers'])).toMatchObject({
      backend: 'udp',
      table: '/tmp/x/peers',
    });
    expect(() => parseAgentArgs([...base, '--backend', 'vxlan'])).toThrow(/--vtep-mac/);
    expect(parseAgentArgs([...base, '--backend', 'host-gw'])).toMatchObject({ backend: 'host-gw', ttl: 30, mtu: 1450 });
  });
});

describe("etcd's JSON gateway encoding", () => {
  it('endpoint lists, and the leader among several members (etcdctl endpoint status -w fields, uint64 ids kept as text)', () => {
    expect(parseEndpoints('http://198.18.0.254:2379, http://198.18.0.253:2379,')).toEqual([
      'http://198.18.0.254:2379',
      'http://198.18.0.253:2379',
    ]);
    expect(() => parseEndpoints(' , ')).toThrow(/no etcd endpoint/);
    const block = (id: string, leader: string, ep: string) =>
      `"ClusterID" : 14841639068965178418\n"MemberID" : ${id}\n"Revision" : 9\n"Leader" : ${leader}\n"IsLearner" : false\n"Errors" : []\n"Endpoint" : "${ep}"\n`;
    // Differ only past 2^53: a JSON number would make them equal.
    const [a, b] = ['10276657743932975437', '10276657743932975436'];
    const out = [block(a, b, 'http://198.18.0.254:2379'), block(b, b, 'http://198.18.0.253:2379')].join('\n');
    expect(leaderOf(out)).toBe('http://198.18.0.253:2379');
    expect(leaderOf(block(a, b, 'http://198.18.0.254:2379'))).toBeNull();
  });

  it('base64 keys and prefix range ends', () => {
    expect(unb64(b64('/coreos.com/network/subnets/'))).toBe('/coreos.com/network/subnets/');
    expect(unb64(prefixEnd('/coreos.com/network/subnets/'))).toBe('/coreos.com/network/subnets0');
  });

  it('watch messages: the creation ack, PUT and DELETE events', () => {
    expect(parseWatchMessage('{"result":{"header":{},"created":true}}')).toEqual({ events: [], created: true, canceled: false });
    const put = parseWatchMessage(
      JSON.stringify({
        result: {
          events: [
            { kv: { key: b64('/k'), value: b64('v'), mod_revision: '7' } },
            { type: 'DELETE', kv: { key: b64('/j'), mod_revision: '8' } },
          ],
        },
      }),
    );
    expect(put.events).toEqual([
      { type: 'PUT', kv: { key: '/k', value: 'v', lease: '0', modRevision: 7 } },
      { type: 'DELETE', kv: { key: '/j', value: '', lease: '0', modRevision: 8 } },
    ]);
    expect(() => parseWatchMessage('{"error":{"grpc_code":14}}')).toThrow(/etcd watch/);
  });
});

describe('flannel plans with etcd', () => {
  const labOf = (extra: Record<string, string> = {}) => resolveLab(loadTopology({ lab: 'fe', ...extra }));
  const steps = (scheme: string, extra: Record<string, string> = {}): Step[] =>
    planLab(labOf(extra), getScheme(scheme)).plan.stages.flatMap((s) => s.steps);

  it('etcd in ctl listens on one lab address only; one agent per host; peer routes left to the agents', () => {
    for (const scheme of ['flannel-vxlan', 'flannel-hostgw']) {
      const all = steps(scheme);
      const etcd = all.find((s) => s.kind === 'daemon' && s.name === 'etcd');
      expect(etcd?.ns).toBe('cnl-fe-ctl');
      const urls = etcd?.kind === 'daemon' ? etcd.argv.filter((a) => a.startsWith('http')) : [];
      for (const u of urls) expect(u).toMatch(/^(ctl=)?http:\/\/198\.18\.0\.254:23(79|80)$/);
      expect(all.filter((s) => s.kind === 'daemon' && s.name.startsWith('flannel-')).map((s) => s.ns)).toEqual(['cnl-fe-h1', 'cnl-fe-h2']);
      expect(
        all.filter((s) => {
          const a = ipArgs(s);
          return a?.[0] === 'route' && a[2] === '198.19.2.0/24';
        }),
      ).toEqual([]);
    }
  });

  it("flannel-udp: the agents write each daemon's table file, the daemons read it; static keeps the routes in argv", () => {
    const all = steps('flannel-udp');
    const daemon = all.find((s) => s.kind === 'daemon' && s.name === 'encap-h1');
    const agent = all.find((s) => s.kind === 'daemon' && s.name === 'flannel-h1');
    const table = daemon?.kind === 'daemon' ? daemon.argv[daemon.argv.indexOf('--table') + 1] : '';
    expect(table).toMatch(/\/encap\/h1\/peers$/);
    expect(daemon?.kind === 'daemon' && daemon.argv.includes('--route')).toBe(false);
    expect(agent?.kind === 'daemon' ? agent.argv.slice(agent.argv.indexOf('--backend'), agent.argv.indexOf('--backend') + 2) : []).toEqual([
      '--backend',
      'udp',
    ]);
    expect(agent?.kind === 'daemon' ? agent.argv[agent.argv.indexOf('--table') + 1] : '').toBe(table);
    const fixed = steps('flannel-udp', { controlPlane: 'static' }).find((s) => s.kind === 'daemon' && s.name === 'encap-h1');
    expect(fixed?.kind === 'daemon' ? fixed.argv.join(' ') : '').toContain('--route 198.19.2.0/24=198.18.0.2');
    expect(fixed?.kind === 'daemon' && fixed.argv.includes('--table')).toBe(false);
  });

  it('at a switch the underlay neighbours are pinned: a fixed MAC per host, a permanent entry per peer', () => {
    const all = steps('flannel-vxlan', { hosts: '3' });
    const pinned = all.flatMap((s) => (s.kind === 'neigh' && s.ns === 'cnl-fe-h1' && s.dev === 'eth0' ? [`${s.addr} ${s.lladdr}`] : []));
    expect(pinned).toEqual(['198.18.0.2 02:00:0d:00:00:02', '198.18.0.3 02:00:0d:00:00:03']);
    expect(all.some((s) => s.kind === 'link-set' && s.ns === 'cnl-fe-h2' && s.name === 'eth0' && s.address === '02:00:0d:00:00:02')).toBe(
      true,
    );
    // Two hosts on one veth pair: nothing pinned.
    expect(steps('flannel-vxlan').some((s) => s.kind === 'neigh' && s.dev === 'eth0')).toBe(false);
  });

  it('--control-plane static: no ctl, no daemon, the peer routes in the plan', () => {
    const all = steps('flannel-hostgw', { controlPlane: 'static' });
    expect(all.some((s) => s.kind === 'daemon' || s.ns.endsWith('-ctl'))).toBe(false);
    expect(
      all.flatMap((s) => {
        const a = ipArgs(s);
        return a?.[0] === 'route' ? [a.join(' ')] : [];
      }),
    ).toContain('route add 198.19.2.0/24 via 198.18.0.2 dev eth0');
  });

  it('cnlab plan writes the network config once and starts etcd in the foreground', () => {
    const script = renderPlan(planLab(labOf(), getScheme('flannel-vxlan')).plan);
    expect(script).toContain(
      `/coreos.com/network/config '{"Network":"198.19.0.0/16","SubnetLen":24,"Backend":{"Type":"vxlan","VNI":1,"Port":8472}}'`,
    );
    expect(script).toMatch(/ip netns exec cnl-fe-ctl etcd --name ctl .* > \S+etcd\.log 2>&1 &/);
  });

  it('--etcd 3: three members, each in its own namespace on its own lab address, joined to each other; the agents get every endpoint', () => {
    const plan = planLab(labOf({ etcd: '3', hosts: '3' }), getScheme('flannel-vxlan')).plan;
    const all = plan.stages.flatMap((s) => s.steps);
    const members = all.filter((s) => s.kind === 'daemon' && s.name.startsWith('etcd'));
    expect(members.map((s) => [s.kind === 'daemon' && s.name, s.ns])).toEqual([
      ['etcd-ctl1', 'cnl-fe-ctl1'],
      ['etcd-ctl2', 'cnl-fe-ctl2'],
      ['etcd-ctl3', 'cnl-fe-ctl3'],
    ]);
    const cluster = 'ctl1=http://198.18.0.254:2380,ctl2=http://198.18.0.253:2380,ctl3=http://198.18.0.252:2380';
    members.forEach((m, i) => {
      const argv = m.kind === 'daemon' ? m.argv : [];
      const ip = `198.18.0.${254 - i}`;
      const opt = (k: string) => argv[argv.indexOf(k) + 1];
      expect(opt('--listen-client-urls')).toBe(`http://${ip}:2379`);
      expect(opt('--listen-peer-urls')).toBe(`http://${ip}:2380`);
      expect(opt('--initial-cluster')).toBe(cluster);
      expect(opt('--data-dir')).toMatch(new RegExp(`/fe/etcd-ctl${i + 1}/data$`));
      expect([opt('--heartbeat-interval'), opt('--election-timeout')]).toEqual(['100', '1000']);
    });
    const endpoints = 'http://198.18.0.254:2379,http://198.18.0.253:2379,http://198.18.0.252:2379';
    const agents = all.filter((s) => s.kind === 'daemon' && s.name.startsWith('flannel-'));
    expect(agents).toHaveLength(3);
    for (const a of agents) expect(a.kind === 'daemon' && a.argv[a.argv.indexOf('--etcd') + 1]).toBe(endpoints);
    // Each host reaches each member on a link of its own; members reach each other directly.
    const routes = all.flatMap((s) => {
      const a = ipArgs(s);
      return a?.[0] === 'route' ? [`${s.ns} ${a.join(' ')}`] : [];
    });
    expect(routes).toContain('cnl-fe-h2 route add 198.18.0.253/32 dev ctl2');
    expect(routes).toContain('cnl-fe-ctl1 route add 198.18.0.252/32 dev ctl3');
    expect(routes).toContain('cnl-fe-ctl3 route add 198.18.0.254/32 dev ctl1');
    const script = renderPlan(plan);
    expect(script).toContain('a 3-member etcd cluster for the lab');
    expect(script).toMatch(/ip netns exec cnl-fe-ctl2 etcd --name ctl2 .* > \S+etcd-ctl2\/etcd\.log 2>&1 &/);
    expect(planLab(labOf({ etcd: '3' }), getScheme('flannel-vxlan')).build.notes?.join(' ')).toContain(
      'a 3-member etcd cluster in ctl1, ctl2, ctl3',
    );
  });

  it('--etcd takes 1 or 3 only', () => {
    expect(() => loadTopology({ lab: 'fe', etcd: '2' })).toThrow(/etcd must be 1 or 3/);
    expect(loadTopology({ lab: 'fe', etcd: '3' }).etcd).toBe(3);
  });

  it('an underlay with no address left for etcd is refused', () => {
    expect(() => planLab(resolveLab(loadTopology({ lab: 'fe', hosts: 6, underlay: '198.18.0.0/29' })), getScheme('flannel-vxlan'))).toThrow(
      /no address|none left/,
    );
  });
});
