import { describe, expect, it } from 'vitest';
import { processStartTime } from '../src/apply/state.js';
import { loseStore, restartHost } from '../src/measure/converge-lab.js';
import { getScheme } from '../src/schemes/registry.js';
import { labNamespaces, pidGone, ping, sh, useLab } from './helpers/lab.js';

/**
 * The real control planes, built and exercised: Calico's BIRD full mesh on three hosts and
 * flannel-vxlan's 3-member etcd cluster (--etcd 3) with cnlab's flannel agents on three hosts; one
 * etcd alone is built by the convergence and doctor tests. Labs: it-bgp, cv-etcd3.
 */

const until = async (what: () => Promise<boolean>, ms: number): Promise<boolean> => {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (await what()) return true;
    await new Promise((r) => setTimeout(r, 50));
  }
  return what();
};
const routeTo = async (ns: string, block: string) => (await sh('ip', ['-n', ns, '-4', 'route', 'show', block])).stdout.trim();

describe('calico: BIRD per host, full mesh (3 hosts)', () => {
  const lab = useLab('it-bgp', getScheme('calico'), { flags: { hosts: 3 } });
  const birdPids = () => lab.up.state.processes.filter((p) => p.role.startsWith('bird-'));

  it('records every BIRD (pid, start time) and its control socket in the lab state', () => {
    expect(birdPids().map((p) => p.role)).toEqual(['bird-h1', 'bird-h2', 'bird-h3']);
    for (const p of birdPids()) expect(processStartTime(p.pid)).toBe(p.startTime);
    expect(Object.keys(lab.up.state.control?.birdSockets ?? {})).toEqual(['h1', 'h2', 'h3']);
  });

  it('every host pair has an Established BGP session (birdc show protocols)', async () => {
    for (const [host, sock] of Object.entries(lab.up.state.control!.birdSockets!)) {
      const r = await sh('ip', ['netns', 'exec', lab.up.state.nodes[host], 'birdc', '-s', sock, 'show', 'protocols']);
      expect(r.code, r.stderr).toBe(0);
      const bgp = r.stdout.split('\n').filter((l) => / BGP /.test(l));
      expect(bgp, r.stdout).toHaveLength(2);
      for (const l of bgp) expect(l).toContain('Established');
    }
  });

  it("each host's FIB holds its blackhole and every peer block as BIRD's routes; containers reach across", async () => {
    for (const h of lab.up.lab.hosts) {
      const r = await sh('ip', ['-n', h.ns, '-4', 'route', 'show', 'proto', 'bird']);
      expect(r.stdout).toContain(`blackhole ${h.podBlock.network}/24`);
      for (const o of lab.up.lab.hosts.filter((x) => x !== h))
        expect(r.stdout).toContain(`${o.podBlock.network}/24 via ${o.underlayIp} dev eth0`);
      // Workload /32s stay on their host.
      expect(r.stdout).not.toMatch(/\/32|198\.19\.\d+\.\d+ dev cali/);
    }
    expect(await ping(lab.first(1).ns, lab.first(3).ip)).toBe(true);
  });

  it("stopping one host's BIRD withdraws its block at the others; the rest keep talking", async () => {
    const h3 = birdPids().find((p) => p.role === 'bird-h3')!;
    process.kill(h3.pid, 'SIGTERM');
    const block = `${lab.up.lab.hosts[2].podBlock.network}/24`;
    for (const h of lab.up.lab.hosts.slice(0, 2))
      expect(await until(async () => (await routeTo(h.ns, block)) === '', 5000), `${h.name} still routes ${block}`).toBe(true);
    expect(await ping(lab.first(1).ns, lab.first(2).ip)).toBe(true);
  });

  it('teardown stops every BIRD and removes every namespace', async () => {
    const pids = birdPids().map((p) => p.pid);
    const report = await lab.remove();
    expect(report?.problems).toEqual([]);
    for (const pid of pids) expect(pidGone(pid)).toBe(true);
    expect(labNamespaces('it-bgp')).toEqual([]);
  });
});

describe('flannel-vxlan: a 3-member etcd cluster and the flannel agents (3 hosts)', () => {
  const lab = useLab('cv-etcd3', getScheme('flannel-vxlan'), { flags: { hosts: 3, etcd: 3 } });
  const etcdctl = (...args: string[]) =>
    sh('ip', ['netns', 'exec', lab.up.state.nodes.h1, 'etcdctl', `--endpoints=${lab.up.state.control!.etcdEndpoint}`, ...args]);
  const daemons = () => lab.up.state.processes.filter((p) => p.role.startsWith('etcd') || p.role.startsWith('flannel-'));

  it('each member runs in its own namespace, listening on its lab address only; the cluster has three healthy members', async () => {
    expect(lab.up.state.control?.etcdEndpoint).toBe('http://198.18.0.254:2379,http://198.18.0.253:2379,http://198.18.0.252:2379');
    for (const [node, ip] of [
      ['ctl1', '198.18.0.254'],
      ['ctl2', '198.18.0.253'],
      ['ctl3', '198.18.0.252'],
    ]) {
      const r = await sh('ip', ['netns', 'exec', lab.up.state.nodes[node], 'ss', '-Hltn']);
      const listening = r.stdout
        .split('\n')
        .filter(Boolean)
        .map((l) => l.split(/\s+/)[3]);
      expect(listening.sort()).toEqual([`${ip}:2379`, `${ip}:2380`]);
    }
    const health = await etcdctl('endpoint', 'health');
    expect(health.code, health.stderr).toBe(0);
    // etcdctl 3.4 prints the health lines on stderr.
    expect((health.stdout + health.stderr).match(/is healthy/g), health.stdout + health.stderr).toHaveLength(3);
  });

  it("every host holds a lease on its subnet, in flannel's layout, with a TTL", async () => {
    const r = await etcdctl('get', '--prefix', '/coreos.com/network/subnets/', '-w', 'json');
    const kvs = (JSON.parse(r.stdout) as { kvs: Array<{ key: string; value: string }> }).kvs;
    const keys = kvs.map((k) => Buffer.from(k.key, 'base64').toString());
    expect(keys).toEqual([
      '/coreos.com/network/subnets/198.19.1.0-24',
      '/coreos.com/network/subnets/198.19.2.0-24',
      '/coreos.com/network/subnets/198.19.3.0-24',
    ]);
    expect(JSON.parse(Buffer.from(kvs[1].value, 'base64').toString())).toEqual({
      PublicIP: '198.18.0.2',
      PublicIPv6: null,
      BackendType: 'vxlan',
      BackendData: { VNI: 1, VtepMAC: '02:00:00:00:02:01' },
    });
    // Lease ids are int64: read them from the text, not through JSON numbers.
    const leases = [...r.stdout.matchAll(/"lease":(\d+)/g)].map((m) => BigInt(m[1]));
    expect(leases).toHaveLength(3);
    for (const id of leases) {
      expect(id).toBeGreaterThan(0n);
      const ttl = await etcdctl('lease', 'timetolive', id.toString(16));
      const m = /remaining\((\d+)s\)/.exec(ttl.stdout);
      expect(Number(m?.[1] ?? 0), ttl.stdout).toBeGreaterThan(0);
    }
    expect(await ping(lab.first(1).ns, lab.first(3).ip)).toBe(true);
  });

  it("stopping host 3's agent and deleting its lease removes its subnet at the peers; the rest keep talking", async () => {
    const agent = daemons().find((p) => p.role === 'flannel-h3')!;
    process.kill(agent.pid, 'SIGTERM');
    expect(await until(async () => pidGone(agent.pid), 3000)).toBe(true);
    expect((await etcdctl('del', '/coreos.com/network/subnets/198.19.3.0-24')).stdout.trim()).toBe('1');
    for (const h of lab.up.lab.hosts.slice(0, 2)) {
      expect(await until(async () => (await routeTo(h.ns, '198.19.3.0/24')) === '', 2000), `${h.name} still routes 198.19.3.0/24`).toBe(
        true,
      );
      expect((await sh('ip', ['-n', h.ns, 'neigh', 'show', '198.19.3.0', 'dev', 'flannel.1'])).stdout.trim()).toBe('');
    }
    expect(await ping(lab.first(1).ns, lab.first(2).ip)).toBe(true);
  });

  it("losing the cluster's leader: the others keep serving, and host 3's agent, started again, is learnt by its peers", async () => {
    const before = daemons().map((p) => p.pid);
    const loss = await loseStore(lab.up);
    expect(loss.stopped).toMatch(/^etcd member ctl\d \(the leader\) of 3$/);
    expect(loss.newLease).toMatch(/^granted /);
    expect(loss.servedAgainSeconds).toBeLessThan(10);
    expect(daemons()).toHaveLength(before.length - 1);
    await restartHost(lab.up, lab.up.lab.hosts[2], 'etcd');
    for (const h of lab.up.lab.hosts.slice(0, 2))
      expect(await until(async () => (await routeTo(h.ns, '198.19.3.0/24')) !== '', 5000), `${h.name} does not route 198.19.3.0/24`).toBe(
        true,
      );
    expect(await ping(lab.first(1).ns, lab.first(3).ip)).toBe(true);
  });

  it('teardown stops every etcd member and agent and removes every namespace', async () => {
    const pids = daemons().map((p) => p.pid);
    // Two members, three agents, and host 3's first agent (killed above, still tracked: teardown checks it is gone).
    expect(pids.length).toBe(6);
    const report = await lab.remove();
    expect(report?.problems).toEqual([]);
    for (const pid of pids) expect(pidGone(pid)).toBe(true);
    expect(labNamespaces('cv-etcd3')).toEqual([]);
  });
});
