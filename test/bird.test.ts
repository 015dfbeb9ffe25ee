import { describe, expect, it } from 'vitest';
import { parseVersion } from '../src/measure/environment.js';
import { birdConfig, birdPaths, peersOf, sessionCount, sessionName } from '../src/control/bird.js';
import { resolveLab } from '../src/lab/resolve.js';
import { loadTopology } from '../src/lab/topology.js';
import { planLab } from '../src/plan/build.js';
import { renderPlan } from '../src/plan/render.js';
import type { Step } from '../src/plan/types.js';
import { getScheme } from '../src/schemes/registry.js';
import { ipArgs, toolLine } from './helpers/argv.js';

/** Calico's BIRD configuration (pure) and how the Calico schemes put BIRD in their plans. */

const labOf = (hosts: number, extra: Record<string, string> = {}) => resolveLab(loadTopology({ lab: 'bgp', hosts, ...extra }));
/** Routes to whole pod blocks (peer routes and blackholes), as ip arguments. */
const blockRoutes = (all: Step[]) =>
  all.flatMap((s) => {
    const a = ipArgs(s);
    return a && a[0] === 'route' && /\/24$/.test(a[a[2] === 'blackhole' ? 3 : 2]) ? [a.join(' ')] : [];
  });
const sessions = (conf: string) =>
  [...conf.matchAll(/^protocol bgp (\S+) from bgp_template \{\n([^}]*)\}/gm)].map((m) => ({ name: m[1], body: m[2] }));

describe('birdConfig', () => {
  it('a full mesh: router id, kernel/device/direct, own blackhole, one session per peer, lower side passive', () => {
    const lab = labOf(3);
    const conf = birdConfig(lab, lab.hosts[1], { bgp: 'mesh' });
    expect(conf).toContain('router id 198.18.0.2;');
    expect(conf).toMatch(/protocol kernel \{\n  ipv4 \{ import all; export filter calico_kernel_programming; \};\n  learn;/);
    expect(conf).toContain('protocol device { scan time 2; }');
    expect(conf).toContain('protocol direct { ipv4; interface -"cali*", "*"; }');
    expect(conf).toContain('protocol static { ipv4; route 198.19.2.0/24 blackhole; }');
    // Only the own block is announced; nothing else (no workload /32, no learned route).
    expect(conf).toMatch(/filter calico_export_to_bgp_peers \{\n  if net = 198\.19\.2\.0\/24 then accept;\n  reject;\n\}/);
    expect(conf).toContain('local as 64512;');
    const s = sessions(conf);
    expect(s.map((x) => x.name)).toEqual(['Mesh_198_18_0_1', 'Mesh_198_18_0_3']);
    expect(s[0].body).toContain('neighbor 198.18.0.1 as 64512;');
    expect(s[0].body).toContain('source address 198.18.0.2;');
    // Calico's rule: a session is passive on the side with the lower address.
    expect(s[0].body).not.toContain('passive on');
    expect(s[1].body).toContain('passive on');
  });

  it('every mesh session has exactly one active side', () => {
    const lab = labOf(12);
    for (const h of lab.hosts) {
      for (const p of peersOf(lab, h, 'mesh')) {
        const mine = sessions(birdConfig(lab, h, { bgp: 'mesh' })).find((x) => x.name === sessionName(p, false))!;
        const theirs = sessions(birdConfig(lab, p, { bgp: 'mesh' })).find((x) => x.name === sessionName(h, false))!;
        expect([mine.body.includes('passive on'), theirs.body.includes('passive on')].sort()).toEqual([false, true]);
      }
    }
    expect(sessionCount(lab, 'mesh')).toBe(66);
  });

  it('rr: host 1 reflects for every other host, which peers with host 1 only', () => {
    const lab = labOf(4);
    const rr = birdConfig(lab, lab.hosts[0], { bgp: 'rr' });
    const s = sessions(rr);
    expect(s.map((x) => x.name)).toEqual(['Node_198_18_0_2', 'Node_198_18_0_3', 'Node_198_18_0_4']);
    for (const x of s) expect(x.body).toMatch(/rr client;\n  rr cluster id 198\.18\.0\.1;\n  passive on;/);
    // The reflector passes on what it learned from its clients.
    expect(rr).toContain('if source = RTS_BGP && net ~ 198.19.0.0/16 then accept;');
    const client = birdConfig(lab, lab.hosts[2], { bgp: 'rr' });
    expect(sessions(client).map((x) => x.name)).toEqual(['Node_198_18_0_1']);
    expect(client).not.toContain('rr client');
    expect(client).not.toContain('RTS_BGP && net');
    expect(sessionCount(lab, 'rr')).toBe(3);
  });

  it("tunnels: peer blocks programmed onlink through the device (VXLAN via the block's tunnel address)", () => {
    const lab = labOf(2);
    expect(birdConfig(lab, lab.hosts[0], { bgp: 'mesh' })).not.toContain('onlink');
    expect(birdConfig(lab, lab.hosts[0], { bgp: 'mesh', tunnel: { kind: 'vxlan', dev: 'vxlan.calico' } })).toContain(
      'if source = RTS_BGP then { ifname = "vxlan.calico"; onlink = true; gw = net.ip; }',
    );
    expect(birdConfig(lab, lab.hosts[0], { bgp: 'mesh', tunnel: { kind: 'ipip', dev: 'tunl0' } })).toContain(
      'ifname = "tunl0"; onlink = true; gw = nh;',
    );
  });

  it("keeps its files in the lab's state directory", () => {
    const lab = labOf(2);
    const p = birdPaths(lab, lab.hosts[0]);
    for (const f of [p.config, p.socket, p.log]) expect(f.startsWith(`${lab.stateDir}/bird-h1/`)).toBe(true);
  });
});

describe('Calico plans with BIRD', () => {
  const steps = (scheme: string, extra: Record<string, string> = {}): Step[] =>
    planLab(labOf(2, extra), getScheme(scheme)).plan.stages.flatMap((s) => s.steps);

  it('calico: a config, a BIRD daemon and a wait per host; no static peer route or blackhole', () => {
    const all = steps('calico');
    const h1 = all.filter((s) => s.ns === 'cnl-bgp-h1');
    const p = birdPaths(labOf(2), { name: 'h1' });
    expect(h1).toContainEqual({
      kind: 'daemon',
      ns: 'cnl-bgp-h1',
      name: 'bird-h1',
      argv: ['bird', '-f', '-c', p.config, '-s', p.socket],
      log: p.log,
      readyFile: p.socket,
    });
    expect(h1.find((s) => s.kind === 'file')).toMatchObject({ path: p.config, content: expect.stringContaining('router id 198.18.0.1;') });
    expect(h1.find((s) => s.kind === 'exec' && s.argv[0] === 'sh')).toMatchObject({
      argv: ['sh', '-c', expect.stringContaining('proto bird'), 'sh', '2', '60'],
    });
    expect(blockRoutes(all)).toEqual([]);
  });

  it('--control-plane static: the routes BIRD would program, and no daemon', () => {
    const all = steps('calico', { controlPlane: 'static' });
    expect(all.some((s) => s.kind === 'daemon')).toBe(false);
    expect(blockRoutes(all)).toEqual([
      'route add blackhole 198.19.1.0/24',
      'route add blackhole 198.19.2.0/24',
      'route add 198.19.2.0/24 via 198.18.0.2 dev eth0',
      'route add 198.19.1.0/24 via 198.18.0.1 dev eth0',
    ]);
  });

  it("calico-vxlan with BIRD keeps Felix's neighbours and FDB, drops its routes and blackhole", () => {
    const all = steps('calico-vxlan');
    const ipLines = all.flatMap((s) => {
      const l = toolLine(s);
      return l && (l[0] === 'ip' || l[0] === 'bridge') ? [l.join(' ')] : [];
    });
    expect(ipLines).toContain('ip neigh add 198.19.2.0 lladdr 66:00:00:00:00:02 dev vxlan.calico nud permanent');
    expect(ipLines).toContain('bridge fdb append 66:00:00:00:00:02 dev vxlan.calico dst 198.18.0.2 self permanent');
    expect(blockRoutes(all)).toEqual([]);
    expect(all.filter((s) => s.kind === 'daemon')).toHaveLength(2);
  });

  it('calico-ipip with BIRD: tunl0 prepared, routes left to BIRD', () => {
    const all = steps('calico-ipip');
    expect(blockRoutes(all)).toEqual([]);
    expect(all.filter((s) => s.kind === 'daemon').map((s) => s.ns)).toEqual(['cnl-bgp-h1', 'cnl-bgp-h2']);
  });

  it('--bgp rr and --control-plane are validated', () => {
    expect(() => labOf(2, { bgp: 'star' })).toThrow(/bgp must be mesh or rr/);
    expect(() => labOf(2, { controlPlane: 'magic' })).toThrow(/controlPlane must be static or real/);
  });

  it('cnlab plan prints each config as a heredoc and starts BIRD in the foreground', () => {
    const script = renderPlan(planLab(labOf(2), getScheme('calico')).plan);
    expect(script).toMatch(/\(umask 077 && cat > \S+\/bird-h2\/bird\.conf\) <<'FILE'\n# cnlab: Calico's BGP/);
    expect(script).toMatch(/ip netns exec cnl-bgp-h1 bird -f -c \S+bird\.conf -s \S+bird\.ctl > \S+bird\.log 2>&1 &/);
  });
});

describe('daemon versions', () => {
  it("reads BIRD's and etcd's --version output", () => {
    expect(parseVersion('bird', 'BIRD version 2.0.12\n')).toBe('bird 2.0.12');
    expect(parseVersion('etcd', 'etcd Version: 3.4.23\nGit SHA: Not provided\nGo Version: go1.19.8\n')).toBe('etcd 3.4.23');
    expect(parseVersion('bird', 'bird: unknown option\n')).toBeNull();
  });
});
