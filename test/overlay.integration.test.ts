import { existsSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import type { UpLab } from '../src/apply/up.js';
import { labStateDir, labStateFile } from '../src/lab/paths.js';
import { getScheme } from '../src/schemes/registry.js';
import { checkTcp, dfPing, labNamespaces, pidGone, pidsIn, sh, useLab } from './helpers/lab.js';

/**
 * docker-overlay, canal (its flannel half on etcd) and calico-vxlan built for real: TCP across hosts and on one host, the
 * path MTU both ways, the layout each project uses (read back from the kernel; docker-overlay's way out
 * through eth1 and docker_gwbridge, answered), and a teardown
 * that leaves no namespace (the overlay namespaces included), process or state behind.
 * Labs: ovl-docker, ovl-canal, ovl-calvx.
 */

const out = async (ns: string, ...argv: string[]) => (await sh('ip', ['netns', 'exec', ns, ...argv])).stdout;

/** Layout checks per scheme: what the kernel must show on host 1 of a built lab. */
const LAYOUT: Record<string, (up: UpLab) => Promise<void>> = {
  'docker-overlay': async (up) => {
    const [h1] = up.lab.hosts;
    const ov = up.build.extraNodes!.find((n) => n.node === 'h1ov')!.ns;
    const links = await out(ov, 'ip', '-d', 'link', 'show');
    const vx = /\d+: (vx-000100-[0-9a-f]{5})[@:]/.exec(links)?.[1];
    expect(vx, links).toBeDefined();
    const detail = await out(ov, 'ip', '-d', 'link', 'show', 'dev', vx!);
    expect(detail).toMatch(/mtu 1450 .*master ov-000100-[0-9a-f]{5}/);
    expect(detail).toMatch(/vxlan id 256 .*dstport 4789/);
    expect(detail).toMatch(/proxy l2miss l3miss/);
    expect(detail).toContain(`link-netns ${h1.ns}`);
    // Created in the host namespace and moved: the UDP socket stays with the host.
    expect(await out(h1.ns, 'ss', '-Hnlu', 'sport', '=', ':4789')).toMatch(/4789/);
    expect((await out(ov, 'ss', '-Hnlu')).trim()).toBe('');
    // The peer database: h2c1's address and MAC, the FDB entry pointing at host 2.
    const h2c1 = up.build.workloads.find((w) => w.node === 'h2c1')!;
    expect(await out(ov, 'ip', 'neigh', 'show', h2c1.ip)).toMatch(new RegExp(`lladdr 02:42:c6:13:ff:04 PERMANENT`));
    expect(await out(ov, 'bridge', 'fdb', 'show', 'dev', vx!)).toMatch(
      new RegExp(`02:42:c6:13:ff:04 dst ${up.lab.hosts[1].underlayIp.replace(/\./g, '\\.')} .*self permanent`),
    );
    // Containers are only on the overlay: the host namespace has no route to them.
    expect((await sh('ip', ['-n', h1.ns, 'route', 'get', h2c1.ip])).code).not.toBe(0);
    expect(h2c1.ip).toBe('198.19.255.4');
    // docker_gwbridge: eth1 carries what leaves the overlay (another host's own address), masqueraded.
    const h1c1 = up.build.workloads.find((w) => w.node === 'h1c1')!;
    const h2 = up.lab.hosts[1].underlayIp;
    expect(await out(h1.ns, 'ip', '-br', 'addr', 'show', 'dev', 'docker_gwbridge')).toContain('198.19.0.1/24');
    expect(await out(h1c1.ns, 'ip', 'route', 'get', h2)).toMatch(/via 198\.19\.0\.1 dev eth1 /);
    expect(await out(h1c1.ns, 'ip', 'route', 'get', h2c1.ip)).toMatch(/dev eth0 /);
    expect((await sh('ip', ['netns', 'exec', h1c1.ns, 'ping', '-n', '-c', '1', '-W', '2', h2])).code, `ping ${h2} from h1c1`).toBe(0);
    expect(await out(h1.ns, 'nft', 'list', 'table', 'ip', 'docker-gwbridge')).toMatch(/counter packets [1-9]\d* bytes \d+ masquerade/);
  },
  canal: async (up) => {
    const [h1] = up.lab.hosts;
    expect((await out(h1.ns, 'ip', 'link', 'show', 'type', 'bridge')).trim(), 'canal has no cni0 bridge').toBe('');
    expect(await out(h1.ns, 'ip', '-d', 'link', 'show', 'dev', 'flannel.1')).toMatch(
      /vxlan id 1 local 198\.18\.0\.1 dev eth0 .*dstport 8472 nolearning/,
    );
    expect((await out(h1.ns, 'sysctl', '-n', 'net.ipv4.conf.calih1c1.proxy_arp')).trim()).toBe('1');
    expect(await out(h1.ns, 'ip', 'link', 'show', 'dev', 'calih1c1')).toMatch(/mtu 1450 /);
    expect(await out(h1.ns, 'ip', 'route', 'show', '198.19.1.2')).toMatch(/dev calih1c1 scope link/);
    expect(await out(up.build.workloads[0].ns, 'ip', 'route')).toMatch(/default via 169\.254\.1\.1 dev eth0/);
    expect(await out(h1.ns, 'ip', 'route', 'show', 'type', 'blackhole')).toBe('');
    // Flannel's half from etcd: a lease per host, the peer's route programmed by h1's agent; Calico's half runs no BIRD.
    expect(
      up.state.processes
        .map((p) => p.role)
        .filter((r) => !r.startsWith('iperf3'))
        .sort(),
    ).toEqual(['etcd', 'flannel-h1', 'flannel-h2']);
    const keys = await out(
      h1.ns,
      'etcdctl',
      `--endpoints=${up.state.control!.etcdEndpoint}`,
      'get',
      '--prefix',
      '--keys-only',
      '/coreos.com/network/subnets/',
    );
    expect(keys.split('\n').filter(Boolean)).toEqual([
      '/coreos.com/network/subnets/198.19.1.0-24',
      '/coreos.com/network/subnets/198.19.2.0-24',
    ]);
    expect(await out(h1.ns, 'ip', 'route', 'show', '198.19.2.0/24')).toMatch(/via 198\.19\.2\.0 dev flannel\.1 onlink/);
  },
  'calico-vxlan': async (up) => {
    const [h1] = up.lab.hosts;
    expect(await out(h1.ns, 'ip', '-d', 'link', 'show', 'dev', 'vxlan.calico')).toMatch(
      /mtu 1450 .*\n.*link\/ether 66:00:00:00:00:01[\s\S]*vxlan id 4096 local 198\.18\.0\.1 dev eth0 .*dstport 4789 nolearning/,
    );
    expect(await out(h1.ns, 'ip', 'route', 'show', 'type', 'blackhole')).toContain('blackhole 198.19.1.0/24');
    expect(await out(h1.ns, 'ip', 'route', 'show', '198.19.2.0/24')).toMatch(
      /via 198\.19\.2\.0 dev vxlan\.calico (proto bird metric \d+ )?onlink/,
    );
    expect(await out(h1.ns, 'ip', 'neigh', 'show', 'dev', 'vxlan.calico')).toMatch(/198\.19\.2\.0 lladdr 66:00:00:00:00:02 PERMANENT/);
    expect(await out(h1.ns, 'ip', 'link', 'show', 'dev', 'calih1c1')).toMatch(/mtu 1450 /);
  },
};

const CASES = [
  ['docker-overlay', 'ovl-docker'],
  ['canal', 'ovl-canal'],
  ['calico-vxlan', 'ovl-calvx'],
] as const;

describe.each(CASES)('%s', (name, labName) => {
  const lab = useLab(labName, getScheme(name));

  it.each([
    ['across hosts', 'h1c1', 'h2c1'],
    ['on one host', 'h1c1', 'h1c2'],
  ])('TCP %s (iperf3, 1 s)', async (_, fromNode, toNode) => {
    await checkTcp(lab, lab.pick(fromNode), lab.pick(toNode));
  });

  it.each([
    ['across hosts', 'h1c1', 'h2c1'],
    ['on one host', 'h1c1', 'h1c2'],
  ])('path MTU 1450 %s: DF 1422 B passes, 1423 B does not', async (_, fromNode, toNode) => {
    expect(lab.up.build.mtu).toBe(1450);
    const [from, to] = [lab.pick(fromNode), lab.pick(toNode)];
    expect(await dfPing(from.ns, to.ip, 1422), `DF 1422 ${fromNode} → ${to.ip}`).toBe(true);
    expect(await dfPing(from.ns, to.ip, 1423), `DF 1423 ${fromNode} → ${to.ip}`).toBe(false);
  });

  it(`has ${name}'s layout`, async () => {
    await LAYOUT[name](lab.up);
  });

  it('teardown removes every namespace, the servers and the state', async () => {
    const namespaces = [...lab.up.plan.namespaces];
    expect(namespaces.length).toBe(name === 'docker-overlay' ? 7 : name === 'canal' ? 6 : 5);
    const report = await lab.remove();
    expect(report?.problems).toEqual([]);
    expect(labNamespaces(lab.name)).toEqual([]);
    expect(await pidsIn(namespaces)).toEqual([]);
    for (const s of lab.servers) expect(pidGone(s.pid), `iperf3 server ${s.pid}`).toBe(true);
    expect(existsSync(labStateFile(lab.name))).toBe(false);
    expect(existsSync(labStateDir(lab.name))).toBe(false);
  });
});
