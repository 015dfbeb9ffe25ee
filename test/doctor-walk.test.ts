import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { judgeBgp, parseBirdProtocols } from '../src/doctor/bgp.js';
import { judgeConntrack } from '../src/doctor/conntrack.js';
import { judgeRpFilter, judgeWalk, plannedRouteFor } from '../src/doctor/path.js';
import { parseRouteGet } from '../src/doctor/walk-live.js';
import { walkLines, walkPath, type Kernel, type NsView, type RouteAnswer } from '../src/doctor/walk.js';
import type { Step } from '../src/plan/types.js';

/**
 * The path walk, reverse-path filtering and BGP sessions (issue 14), on output captured from real
 * labs: flannel-vxlan (bridge, VXLAN), calico with h2 made dual-homed (a second link h1–h2, h2's
 * route back to h1c1 over it) and all.rp_filter=1 on h2, and BIRD's `show protocols all`.
 */

interface Capture {
  namespaces: string[];
  views: Record<string, NsView>;
  routes: Record<string, RouteAnswer>;
}

const fixture = (name: string) => readFileSync(new URL(`fixtures/doctor/${name}`, import.meta.url), 'utf8');

/** A kernel answering from captured output (a lookup it did not capture fails the test). */
function captured(name: string): Kernel {
  const c = JSON.parse(fixture(name)) as Capture;
  return {
    namespaces: c.namespaces,
    view: async (ns) => c.views[ns],
    async routeGet(ns, dst, src, iif) {
      const r = c.routes[`${ns} ${dst} ${src} ${iif ?? ''}`];
      if (!r) throw new Error(`not captured: route get ${dst} from ${src} iif ${iif} in ${ns}`);
      return r;
    },
  };
}

const fv = (n: string) => `cnl-dcf-${n}`;
const ca = (n: string) => `cnl-dcw-${n}`;

describe('path walk', () => {
  it('flannel-vxlan: container → bridge → VXLAN to the peer VTEP → bridge port → container', async () => {
    const w = await walkPath(captured('walk-flannel-vxlan.json'), fv('h1c1'), fv('h2c1'), '198.19.1.2', '198.19.2.2');
    expect(w.end).toBe('delivered');
    expect(w.hops.map((h) => [h.ns, h.iif ?? '-', h.dev ?? '-'])).toEqual([
      [fv('h1c1'), '-', 'eth0'],
      [fv('h1'), expect.stringMatching(/^veth/), '-'],
      [fv('h1'), 'cni0', 'flannel.1'],
      [fv('h1'), '-', 'flannel.1'],
      [fv('h2'), 'flannel.1', 'cni0'],
      [fv('h2'), '-', expect.stringMatching(/^veth/)],
      [fv('h2c1'), 'eth0', '-'],
    ]);
    expect(w.hops[3].note).toMatch(/vxlan VNI 1: .* → VTEP 198\.18\.0\.2 \(cnl-dcf-h2\)/);
    expect(walkLines(w).at(-1)).toBe('    delivered');
  });

  it('docker-overlay: the receiving VXLAN device lives in the overlay sandbox, not in the VTEP namespace that names it', async () => {
    const dov = (n: string) => `cnl-d3w-${n}`;
    const w = await walkPath(captured('walk-docker-overlay.json'), dov('h1c1'), dov('h2c1'), '198.19.255.2', '198.19.255.3');
    expect(w.end).toBe('delivered');
    expect(w.hops.find((h) => h.note.startsWith('vxlan'))?.note).toMatch(/→ VTEP 198\.18\.0\.2 \(cnl-d3w-h2, device in cnl-d3w-h2ov\)/);
    expect(w.hops.at(-1)?.ns).toBe(dov('h2c1'));
  });

  it('stops where the VXLAN FDB has no entry for the next hop, naming it', async () => {
    const k = captured('walk-flannel-vxlan.json');
    const h1 = await k.view(fv('h1'));
    const view = async (ns: string) => (ns === fv('h1') ? { ...h1, fdb: h1.fdb.filter((f) => f.ifname !== 'flannel.1') } : k.view(ns));
    const w = await walkPath({ ...k, view }, fv('h1c1'), fv('h2c1'), '198.19.1.2', '198.19.2.2');
    expect(w.end).toBe('stopped');
    expect(w.reason).toMatch(/flannel\.1 has no FDB entry \(remote VTEP\)/);
  });

  it('calico, h2 dual-homed with strict rp_filter: the kernel refuses the packet at h2 (eth0)', async () => {
    const w = await walkPath(captured('walk-calico-rp.json'), ca('h1c1'), ca('h2c1'), '198.19.1.2', '198.19.2.2');
    expect(w.end).toBe('dropped');
    expect(w.hops.at(-1)).toMatchObject({ ns: ca('h2'), iif: 'eth0' });
    expect(w.reason).toMatch(/Invalid argument/);
  });

  it('parses ip route get: an answer, and the kernel error of a refused lookup', () => {
    expect(parseRouteGet(0, '[{"dst":"198.19.2.2","gateway":"198.18.0.2","dev":"eth0","flags":[]}]', '')).toEqual({
      type: undefined,
      dev: 'eth0',
      gateway: '198.18.0.2',
    });
    expect(parseRouteGet(2, '', 'RTNETLINK answers: Invalid cross-device link\n')).toEqual({ error: 'Invalid cross-device link' });
  });
});

const route = (ns: string, dest: string, dev?: string): Step => ({ kind: 'route', ns, dest, dev });
const link = (ns: string, name: string): Step => ({ kind: 'link', ns, name, type: 'dummy' }) as Step;

describe('walk judge', () => {
  const hop = (ns: string, dev: string) => ({ ns, dev, note: `out ${dev}` });
  it('the longest planned prefix is the route compared', () => {
    const routes = [route('h', 'default', 'eth0'), route('h', '198.19.2.0/24', 'tun0'), route('h', '198.19.2.2', 'cali1')] as never[];
    expect(plannedRouteFor(routes, 'h', '198.19.2.2')?.dev).toBe('cali1');
    expect(plannedRouteFor(routes, 'h', '198.19.2.9')?.dev).toBe('tun0');
    expect(plannedRouteFor(routes, 'h', '198.18.0.9')?.dev).toBe('eth0');
    expect(plannedRouteFor(routes, 'x', '198.18.0.9')).toBeUndefined();
  });

  it('names the first hop out of a device the plan lacks, or out of another device than its route; a delivered walk as planned is fine', () => {
    const steps = [link('h', 'eth0'), link('h', 'tun0'), route('h', '198.19.2.0/24', 'tun0')];
    const asPlanned = { hops: [hop('h', 'tun0')], end: 'delivered' as const };
    expect(judgeWalk(asPlanned, steps, '198.19.2.2', 'a → b')).toEqual([]);
    const other = judgeWalk({ hops: [hop('h', 'eth0')], end: 'delivered' }, steps, '198.19.2.2', 'a → b');
    expect(other[0].what).toBe("a → b: h sends it out of eth0, the plan's route 198.19.2.0/24 says tun0");
    const stray = judgeWalk({ hops: [hop('h', 'stray0')], end: 'delivered' }, steps, '198.19.2.2', 'a → b');
    expect(stray[0].what).toMatch(/stray0, a device the plan does not have/);
    // Where a daemon makes devices, its devices are not the plan's to judge.
    const daemon = { kind: 'daemon', ns: 'h', name: 'd', argv: [], log: '' } as never;
    expect(judgeWalk({ hops: [hop('h', 'stray0')], end: 'delivered' }, [...steps, daemon], '198.19.2.2', 'a → b')).toEqual([]);
    const dropped = judgeWalk({ hops: [hop('h', 'tun0')], end: 'dropped', reason: 'h: Network is unreachable' }, steps, '198.19.2.2', 'x');
    expect(dropped[0]).toMatchObject({ check: 'walk', what: 'x: the kernel drops it — h: Network is unreachable' });
    const refused = { hops: [hop('h', 'tun0')], end: 'dropped' as const, reason: 'h: Network is unreachable' };
    expect(judgeWalk(refused, steps, '198.19.2.2', 'x', true), 'the ping got through: the walk missed a datapath').toEqual([]);
    // A connected route (the plan's /24 address on eth0) beats the plan's default route by another device (docker-overlay).
    const addr = { kind: 'addr', ns: 'h', op: 'add', cidr: '198.19.255.2/24', dev: 'eth0' } as Step;
    const byDefault = [link('h', 'eth0'), link('h', 'eth1'), route('h', 'default', 'eth1'), addr];
    expect(judgeWalk({ hops: [hop('h', 'eth0')], end: 'delivered' }, byDefault, '198.19.255.3', 'x')).toEqual([]);
    expect(judgeWalk({ hops: [hop('h', 'eth0')], end: 'delivered' }, byDefault, '198.19.7.3', 'x')[0].what).toMatch(/default says eth1/);
    // Not following a device (a TUN, OVS) is no finding.
    expect(judgeWalk({ hops: [hop('h', 'tun0')], end: 'unfollowed', reason: 'not followed' }, steps, '198.19.2.2', 'x')).toEqual([]);
  });
});

describe('rp_filter judge', () => {
  const walk = { hops: [{ ns: 'h2', iif: 'eth0', note: 'ip route get: Invalid argument' }], end: 'dropped' as const };
  const sysctl = (ns: string, key: string, value: string): Step => ({ kind: 'sysctl', ns, key, value });

  it('strict, arriving on eth0 while the route back leaves by another device: named, fix writes the plan value back', () => {
    const out = judgeRpFilter(walk, '198.19.1.2', new Map([['h2 eth0', { all: '1', dev: '0', reverseDev: 'dcasym' }]]), []);
    expect(out).toHaveLength(1);
    expect(out[0].what).toBe(
      'h2: strict rp_filter drops packets from 198.19.1.2: they arrive on eth0, the route back leaves by dcasym (an asymmetric path)',
    );
    expect(out[0].fix).toEqual([['ip', 'netns', 'exec', 'h2', 'sysctl', '-w', 'net.ipv4.conf.all.rp_filter=0']]);
  });

  it('the plan strict on the device itself: loose (2) is the fix; dotted names are sysctl paths with slashes', () => {
    const w = { hops: [{ ns: 'h2', iif: 'flannel.1', note: '' }], end: 'dropped' as const };
    const steps = [sysctl('h2', 'net.ipv4.conf.flannel/1.rp_filter', '1')];
    const out = judgeRpFilter(w, '198.19.1.2', new Map([['h2 flannel.1', { all: '0', dev: '1', reverseDev: 'eth0' }]]), steps);
    expect(out[0].fix).toEqual([['ip', 'netns', 'exec', 'h2', 'sysctl', '-w', 'net.ipv4.conf.flannel/1.rp_filter=2']]);
  });

  it('no finding on a symmetric path, with loose or no filtering', () => {
    const r = (x: object) => judgeRpFilter(walk, '198.19.1.2', new Map([['h2 eth0', x]]), []);
    expect(r({ all: '1', dev: '1', reverseDev: 'eth0' })).toEqual([]);
    expect(r({ all: '2', dev: '0', reverseDev: 'dcasym' })).toEqual([]);
    expect(r({ all: '0', dev: '0', reverseDev: 'dcasym' })).toEqual([]);
  });
});

describe('BGP sessions', () => {
  const bird = { ns: 'cnl-dcw-h2', role: 'bird-h2' };
  it('an Established session (captured from a healthy calico lab) is no finding', () => {
    const s = parseBirdProtocols(fixture('birdc-h2-established.txt'));
    expect(s).toEqual([{ name: 'Mesh_198_18_0_1', state: 'Established', neighbor: '198.18.0.1' }]);
    expect(judgeBgp(bird, '/s', s)).toEqual([]);
  });

  it("the peer's BIRD killed: Active, with BIRD's last error, and the restart as fix", () => {
    const s = parseBirdProtocols(fixture('birdc-h2-peer-down.txt'));
    expect(s).toEqual([{ name: 'Mesh_198_18_0_1', state: 'Active', neighbor: '198.18.0.1', lastError: 'Socket: Connection refused' }]);
    const out = judgeBgp(bird, '/run/cnlab/dcw/bird-h2/bird.ctl', s);
    expect(out[0].what).toMatch(/BGP session Mesh_198_18_0_1 with 198\.18\.0\.1 is Active, not Established/);
    expect(out[0].evidence).toMatch(/last error: Socket: Connection refused/);
    expect(out[0].fix).toEqual([
      ['ip', 'netns', 'exec', 'cnl-dcw-h2', 'birdc', '-s', '/run/cnlab/dcw/bird-h2/bird.ctl', 'restart', 'Mesh_198_18_0_1'],
    ]);
    expect(judgeBgp(bird, '/s', null)).toEqual([]);
  });
});

describe('conntrack table', () => {
  it('named at 90 % of its limit, with both numbers; not below, nor when unreadable', () => {
    expect(judgeConntrack('h2', 262144, 262144)[0].what).toBe(
      'h2: the conntrack table holds 262144 of at most 262144 entries: new flows are dropped when it is full',
    );
    expect(judgeConntrack('h2', 235930, 262144)).toHaveLength(1);
    expect(judgeConntrack('h2', 1000, 262144)).toEqual([]);
    expect(judgeConntrack('h2', undefined, 262144)).toEqual([]);
    expect(judgeConntrack('h2', 5, 0)).toEqual([]);
  });
});
