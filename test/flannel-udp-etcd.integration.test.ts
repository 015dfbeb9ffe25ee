import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { encapHostDir } from '../src/encap/counters.js';
import { restartHost } from '../src/measure/converge-lab.js';
import { getScheme } from '../src/schemes/registry.js';
import { labNamespaces, pidGone, ping, sh, useLab } from './helpers/lab.js';

/**
 * flannel-udp on etcd (3 hosts, lab c3udp): cnlab's flannel agent leases each host's subnet with
 * the udp backend and writes every peer's lease into its host's encapsulation daemon's table file;
 * the daemon reloads it (peers.active is what it applied). A deleted lease leaves the other
 * daemons' tables, and traffic to that host stops, while the daemons keep running.
 */

const until = async (what: () => Promise<boolean> | boolean, ms: number): Promise<boolean> => {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (await what()) return true;
    await new Promise((r) => setTimeout(r, 50));
  }
  return what();
};

describe('flannel-udp: the daemons follow the leases in etcd (3 hosts)', () => {
  const lab = useLab('c3udp', getScheme('flannel-udp'), { flags: { hosts: 3 } });
  const active = (host: string) => {
    try {
      return readFileSync(join(encapHostDir(lab.up.lab.stateDir, host), 'peers.active'), 'utf8');
    } catch {
      return '';
    }
  };
  const etcdctl = (...args: string[]) =>
    sh('ip', ['netns', 'exec', lab.up.state.nodes.h1, 'etcdctl', `--endpoints=${lab.up.state.control!.etcdEndpoint}`, ...args]);
  const tracked = (role: string) => lab.up.state.processes.filter((p) => p.role === role);

  it('every host leases its subnet with the udp backend; each daemon applied both peers; traffic crosses', async () => {
    const r = await etcdctl('get', '--prefix', '/coreos.com/network/subnets/');
    expect(r.stdout).toContain('/coreos.com/network/subnets/198.19.3.0-24');
    expect(r.stdout).toContain('{"PublicIP":"198.18.0.3","PublicIPv6":null,"BackendType":"udp"}');
    const config = await etcdctl('get', '--print-value-only', '/coreos.com/network/config');
    expect(JSON.parse(config.stdout).Backend).toEqual({ Type: 'udp', Port: 8285 });
    expect(active('h1')).toBe('198.19.2.0/24=198.18.0.2\n198.19.3.0/24=198.18.0.3\n');
    expect(active('h3')).toBe('198.19.1.0/24=198.18.0.1\n198.19.2.0/24=198.18.0.2\n');
    expect(await ping(lab.first(1).ns, lab.first(3).ip)).toBe(true);
  });

  it("deleting host 3's lease removes it from the other daemons' tables and traffic to it stops; the daemons reload, not restart", async () => {
    const daemons = ['encap-h1', 'encap-h2'].map((r) => tracked(r)[0].pid);
    const agent = tracked('flannel-h3')[0];
    process.kill(agent.pid, 'SIGTERM');
    expect(await until(() => pidGone(agent.pid), 3000)).toBe(true);
    expect((await etcdctl('del', '/coreos.com/network/subnets/198.19.3.0-24')).stdout.trim()).toBe('1');
    expect(await until(() => active('h1') === '198.19.2.0/24=198.18.0.2\n', 2000), active('h1')).toBe(true);
    expect(await until(() => active('h2') === '198.19.1.0/24=198.18.0.1\n', 2000), active('h2')).toBe(true);
    expect(await ping(lab.first(1).ns, lab.first(3).ip)).toBe(false);
    expect(await ping(lab.first(1).ns, lab.first(2).ip)).toBe(true);
    for (const pid of daemons) expect(pidGone(pid)).toBe(false);
  });

  it("host 3's agent, started again, leases its subnet and the daemons take it back", async () => {
    await restartHost(lab.up, lab.up.lab.hosts[2], 'etcd');
    expect(await until(() => active('h1').includes('198.19.3.0/24=198.18.0.3'), 5000), active('h1')).toBe(true);
    expect(await until(() => ping(lab.first(1).ns, lab.first(3).ip), 3000)).toBe(true);
  });

  it('teardown stops etcd, the agents and the daemons and removes every namespace', async () => {
    const pids = lab.up.state.processes.map((p) => p.pid);
    const report = await lab.remove();
    expect(report?.problems).toEqual([]);
    for (const pid of pids) expect(pidGone(pid)).toBe(true);
    expect(labNamespaces('c3udp')).toEqual([]);
  });
});
