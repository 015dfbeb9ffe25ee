import { execFile } from 'node:child_process';
import { existsSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLI, isRoot, type Run } from './helpers/lab.js';
import { FX_LAB, machineArgv, machineNetns, startSshFixture, stopSshFixture, type SshFixture } from './helpers/ssh-fixture.js';

/**
 * A lab on "your own hosts": cnlab runs in the fixture's operator namespace and builds over SSH on
 * machines a and b (test/helpers/ssh-fixture.ts), the underlay a macvlan child of each machine's
 * eth1. Run under the flock.
 */

let fx: SshFixture;
let inv: string;

function inCtl(args: string[]): Promise<Run> {
  return new Promise((resolve) => {
    execFile(
      'ip',
      ['netns', 'exec', `cnl-${FX_LAB}-c`, 'node', CLI, ...args],
      { env: { ...process.env, CNLAB_STATE_ROOT: join(fx.dir, 'state') }, timeout: 90_000 },
      (err, stdout, stderr) => {
        const code = err ? ((err as { code?: number }).code ?? null) : 0;
        resolve({ code: typeof code === 'number' ? code : null, stdout, stderr });
      },
    );
  });
}

/** Run argv inside machine m (its network and mount namespaces: what its SSH sessions see). */
const inMachine = (m: number, args: string[]) =>
  new Promise<Run>((resolve) =>
    execFile(...machineArgv(fx.machines[m], args), (err, stdout, stderr) => resolve({ code: err ? 1 : 0, stdout, stderr })),
  );

/** The lab's namespaces on either machine (they exist only inside the machines, like on real hosts). */
const labNs = (lab: string) => fx.machines.flatMap((m) => machineNetns(m)).filter((n) => n.startsWith(`cnl-${lab}-`));
/** The empty /run/netns files `ip netns add` inside a machine leaves visible on this box. */
const labFiles = (lab: string, nodes: string[]) => nodes.filter((n) => existsSync(`/run/netns/cnl-${lab}-${n}`));

beforeAll(async () => {
  fx = await startSshFixture([{ name: 'a' }, { name: 'b' }]);
  inv = join(fx.dir, 'hosts.yaml');
  writeFileSync(
    inv,
    JSON.stringify({
      ssh_config: fx.sshConfig,
      hosts: fx.machines.map((m) => ({ name: m.name, ssh: `root@${m.address}`, nic: 'eth1' })),
    }),
  );
});

afterAll(async () => {
  if (!fx) return;
  const { leftPids, leftNetns } = await stopSshFixture(fx);
  expect(leftNetns).toEqual([]);
  expect(leftPids).toEqual([]);
});

describe.skipIf(!isRoot)('a lab on hosts over SSH', () => {
  it.each([
    // macvlan: CNI plugins run over SSH; flannel-vxlan: etcd (its ctl namespace on machine a, reached
    // from b through a), cnlab's agent as remote daemons, their config files, the bridge plugin.
    ['ssmv', 'macvlan', [] as string[], 'h1c1', '198.18.0.129'],
    ['ssfl', 'flannel-vxlan', [] as string[], 'h1c1', '198.19.2.2'],
  ])(
    'up -i %s (%s): macvlan underlay on each machine, traffic crosses eth1, down removes everything',
    async (lab, scheme, flags, node, target) => {
      const up = await inCtl(['up', scheme, '-i', inv, '--lab', lab, ...flags]);
      expect(up.code, up.stderr).toBe(0);
      expect(labNs(lab).length).toBeGreaterThanOrEqual(2);
      // The underlay is a macvlan child of the machine's eth1, inside the host namespace.
      const link = await inMachine(0, ['ip', '-n', `cnl-${lab}-h1`, '-d', 'link', 'show', 'eth0']);
      expect(link.stdout).toMatch(/macvlan mode bridge/);
      // The marker on each machine.
      const marker = await inMachine(1, ['cat', `/run/cnlab/${lab}.b.json`]);
      expect(JSON.parse(marker.stdout)).toMatchObject({ lab, host: 'b', namespaces: expect.arrayContaining([`cnl-${lab}-h2`]) });
      // Cross-host traffic really crosses the machines' eth1 (its counters move).
      const rx = async () => Number((await inMachine(1, ['cat', '/sys/class/net/eth1/statistics/rx_packets'])).stdout);
      const before = await rx();
      const ping = await inMachine(0, ['ip', 'netns', 'exec', `cnl-${lab}-${node}`, 'ping', '-c', '3', '-i', '0.2', '-W', '1', target]);
      expect(ping.code, ping.stderr).toBe(0);
      expect((await rx()) - before).toBeGreaterThanOrEqual(3);

      const down = await inCtl(['down', lab]);
      expect(down.code, down.stderr).toBe(0);
      expect(labNs(lab)).toEqual([]);
      expect(labFiles(lab, ['h1', 'h2', 'h1c1', 'h1c2', 'h2c1', 'ctl'])).toEqual([]);
      // The lab's directory on the machines (configs, daemon logs, IPAM leases) is gone too.
      expect((await inMachine(1, ['ls', join(fx.dir, 'state')])).stdout).not.toMatch(new RegExp(`^${lab}$`, 'm'));
      expect((await inMachine(0, ['ls', '/run/cnlab'])).stdout).not.toMatch(new RegExp(`${lab}\\.`));
      // The machines' own links are as before: eth1 and mgmt0 only (plus lo).
      expect((await inMachine(0, ['ip', '-o', 'link'])).stdout.match(/^\d+: (\S+?)[@:]/gm)?.length).toBe(3);
    },
  );

  it("clean -i removes a lab from the machines' markers once this machine lost its state file; a marker naming another lab's namespace is left", async () => {
    const lab = 'ssmk';
    const up = await inCtl(['up', 'macvlan', '-i', inv, '--lab', lab]);
    expect(up.code, up.stderr).toBe(0);
    // This machine forgets the lab (a reboot empties /run): only the machines' markers know it now.
    rmSync(join(fx.dir, 'state', `${lab}.json`));
    const plain = await inCtl(['clean', lab]);
    expect(plain.stdout, plain.stderr).toMatch(/nothing to clean/);
    expect(labNs(lab).length).toBeGreaterThanOrEqual(2);
    // A marker that names a namespace of another lab: refused, and left with what it names.
    const evil = {
      lab: 'ssevil',
      scheme: 'macvlan',
      host: 'b',
      createdAt: new Date().toISOString(),
      namespaces: ['cnl-ssevil-h2', `cnl-${lab}-h2`],
    };
    await inMachine(1, ['sh', '-c', 'printf %s "$1" > /run/cnlab/ssevil.b.json', 'sh', JSON.stringify(evil)]);

    // Named: other suites' fixtures may hold labs on machines named a and b at the same time.
    const clean = await inCtl(['clean', '-i', inv, lab, 'ssevil']);
    expect(clean.code).toBe(1);
    expect(clean.stdout).toMatch(new RegExp(`lab ${lab} removed from its markers: \\d+ namespaces`));
    expect(clean.stderr).toMatch(
      /host b: \/run\/cnlab\/ssevil\.b\.json: names namespaces that are not lab ssevil's \(cnl-ssmk-h2\): left alone/,
    );
    expect(labNs(lab)).toEqual([]);
    expect(labFiles(lab, ['h1', 'h2', 'h1c1', 'h1c2', 'h2c1'])).toEqual([]);
    for (const m of [0, 1]) expect((await inMachine(m, ['ls', '/run/cnlab'])).stdout).not.toMatch(new RegExp(`${lab}\\.`));
    expect(existsSync(join(fx.dir, 'state', `${lab}.json`))).toBe(false);
    expect((await inMachine(1, ['cat', '/run/cnlab/ssevil.b.json'])).stdout).toContain('ssevil');
    await inMachine(1, ['rm', '-f', '/run/cnlab/ssevil.b.json']);
    expect((await inCtl(['clean', '-i', inv, lab, 'ssevil'])).stdout).toMatch(/nothing to clean/);
  });

  it('refuses a nic carrying the SSH connection, changing nothing', async () => {
    const bad = join(fx.dir, 'sshnic.yaml');
    writeFileSync(
      bad,
      JSON.stringify({
        ssh_config: fx.sshConfig,
        hosts: fx.machines.map((m) => ({ name: m.name, ssh: `root@${m.address}`, nic: 'mgmt0' })),
      }),
    );
    const r = await inCtl(['up', 'host', '-i', bad, '--lab', 'ssnic']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/nic mgmt0 carries the SSH connection/);
    expect(labNs('ssnic')).toEqual([]);
  });

  it('refuses a bridging scheme on bridge-mode macvlan', async () => {
    const r = await inCtl(['up', 'bridge-l2', '-i', inv, '--lab', 'ssbr']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/needs a dedicated NIC \(nic_mode: passthru\)/);
  });
});
