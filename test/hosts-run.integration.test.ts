import { execFile, spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ResultFile } from '../src/result/types.js';
import { CLI, isRoot, type Run } from './helpers/lab.js';
import {
  FX_LAB,
  killSshd,
  machineArgv,
  machineNetns,
  restartSshd,
  startSshFixture,
  stopSshFixture,
  type SshFixture,
} from './helpers/ssh-fixture.js';

/**
 * `cnlab run -i` on "your own hosts": cnlab runs in the fixture's operator namespace and measures
 * over SSH on machines a and b (test/helpers/ssh-fixture.ts), whose lab NIC is a veth (eth1).
 * Run under the flock.
 */

let fx: SshFixture;
let inv: string;
const state = () => join(fx.dir, 'state');
const argvOf = (args: string[]): [string, string[]] => ['ip', ['netns', 'exec', `cnl-${FX_LAB}-c`, 'node', CLI, ...args]];
const env = () => ({ ...process.env, CNLAB_STATE_ROOT: state() });

function inCtl(args: string[], timeout = 120_000): Promise<Run> {
  return new Promise((resolve) => {
    execFile(...argvOf(args), { env: env(), timeout }, (err, stdout, stderr) => {
      const code = err ? ((err as { code?: number }).code ?? null) : 0;
      resolve({ code: typeof code === 'number' ? code : null, stdout, stderr });
    });
  });
}

const inMachine = (m: number, args: string[]) =>
  new Promise<Run>((resolve) =>
    execFile(...machineArgv(fx.machines[m], args), (err, stdout, stderr) => resolve({ code: err ? 1 : 0, stdout, stderr })),
  );

/** What a lab left on either machine: namespaces, the lab's directory, markers, processes in its namespaces. */
async function leftovers(lab: string): Promise<string[]> {
  const left = fx.machines.flatMap((m) => machineNetns(m)).filter((n) => n.startsWith(`cnl-${lab}-`));
  for (const m of [0, 1]) {
    const run = await inMachine(m, ['ls', '-a', '/run/cnlab', state()]);
    left.push(...run.stdout.split('\n').filter((l) => l === lab || l.startsWith(`${lab}.`)));
    // The machines' own links are as before: eth1 and mgmt0 (plus lo).
    const links = (await inMachine(m, ['ip', '-o', 'link'])).stdout.match(/^\d+: (\S+?)[@:]/gm)?.length;
    if (links !== 3) left.push(`machine ${m}: ${links} links`);
  }
  return left;
}

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

describe.skipIf(!isRoot)('cnlab run on hosts over SSH', () => {
  // The suite builds host and flannel-vxlan (remote daemons, the ctl namespace on machine a);
  // CNLAB_HOSTS_RUN_ALL=1 adds macvlan and calico (about 65 s instead of 30).
  const schemes = process.env.CNLAB_HOSTS_RUN_ALL === '1' ? ['macvlan', 'flannel-vxlan', 'calico'] : ['flannel-vxlan'];
  it(`run -i: host, ${schemes.join(', ')} built, measured and removed over SSH; the result records each host`, async () => {
    const out = join(fx.dir, 'out');
    const r = await inCtl([
      'run',
      '-i',
      inv,
      ...schemes,
      '--lab',
      's3run',
      '--tests',
      'tcp-1,udp-lat',
      '--repeats',
      '1',
      '--duration',
      '1',
      '--warmup',
      '0',
      '--out',
      out,
    ]);
    expect(r.code, r.stderr + r.stdout).toBe(0);
    const result = JSON.parse(readFileSync(join(out, 'result.json'), 'utf8')) as ResultFile;
    expect(result.schemes.map((s) => [s.name, s.status])).toEqual(['host', ...schemes].map((n) => [n, 'ok']));
    for (const s of result.schemes) {
      const tcp = s.tests.find((t) => t.id === 'tcp-1/cross');
      expect(tcp?.runs[0]?.ok, `${s.name}: ${tcp?.runs[0]?.error}`).toBe(true);
      expect(tcp!.runs[0].gbps).toBeGreaterThan(0);
      // CPU read on the hosts: they share this box's kernel (one boot ID), so it is read once.
      expect(tcp!.runs[0].cpu!.total).toBeGreaterThan(0);
      // The client ran on machine a: its argv is the namespace's, sent over SSH.
      expect(tcp!.client.ns).toMatch(/^cnl-s3run-h1/);
      const lat = s.tests.find((t) => t.id === 'udp-lat/cross');
      expect(lat?.runs[0]?.ok, `${s.name} udp-lat: ${lat?.runs[0]?.error}`).toBe(true);
    }
    // The workloads' interfaces were read on the machines (MTU known).
    expect(result.schemes.find((s) => s.name === 'flannel-vxlan')!.interfaces!.every((i) => i.mtu > 0)).toBe(true);
    expect(result.hosts?.hosts.map((h) => [h.name, h.node, h.nic.name, h.nic.driver])).toEqual([
      ['a', 'h1', 'eth1', 'veth'],
      ['b', 'h2', 'eth1', 'veth'],
    ]);
    for (const h of result.hosts!.hosts) {
      expect(h.kernel).toMatch(/^\d+\.\d+/);
      expect(h.cpu.count).toBeGreaterThan(0);
      expect(Object.keys(h.nic.offloads)).toContain('tcp-segmentation-offload');
    }
    // The report shows the hosts; the run removed everything it made on both machines.
    expect(r.stdout).toMatch(/host a \(h1, root@198\.18\.250\.2\): kernel .*nic eth1 \(veth/);
    expect(readFileSync(join(out, 'report.html'), 'utf8')).toMatch(/<h3>Hosts/);
    expect(await leftovers('s3run')).toEqual([]);
    expect(existsSync(join(state(), 's3run.json'))).toBe(false);
  }, 150_000);

  it('refuses bad input with one line and exit 2, making nothing', async () => {
    const sshNic = join(fx.dir, 'sshnic.yaml');
    writeFileSync(
      sshNic,
      JSON.stringify({
        ssh_config: fx.sshConfig,
        hosts: fx.machines.map((m) => ({ name: m.name, ssh: `root@${m.address}`, nic: 'mgmt0' })),
      }),
    );
    const cases: [string[], RegExp][] = [
      [['run', '-i', inv, 'bridge-l2'], /scheme bridge-l2 needs a dedicated NIC \(nic_mode: passthru\)/],
      [['run', '-i', inv, 'host', '--cpus', '0'], /--cpus confines this machine's processes/],
      [['run', '-i', sshNic, 'host'], /nic mgmt0 carries the SSH connection/],
    ];
    for (const [args, says] of cases) {
      const r = await inCtl([...args, '--lab', 's3bad']);
      expect(r.code, `${args.join(' ')}: ${r.stderr}`).toBe(2);
      expect(r.stderr).toMatch(says);
      expect(r.stderr.trim().split('\n')[0]).toMatch(/^cnlab: /);
      expect(await leftovers('s3bad')).toEqual([]);
    }
    expect(existsSync(join(state(), 's3bad.json'))).toBe(false);
  }, 60_000);

  it("a machine's sshd killed mid-run: the scheme fails naming the host; clean, with it back, removes what was left", async () => {
    const out = join(fx.dir, 'out-lost');
    const child = spawn(
      ...argvOf([
        'run',
        '-i',
        inv,
        'host',
        '--lab',
        's3lost',
        '--tests',
        'tcp-1',
        '--repeats',
        '10',
        '--duration',
        '1',
        '--warmup',
        '0',
        '--out',
        out,
      ]),
      { env: env(), stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let output = '';
    child.stdout.on('data', (b: Buffer) => (output += b.toString()));
    child.stderr.on('data', (b: Buffer) => (output += b.toString()));
    const exited = new Promise<number | null>((res) => child.on('exit', (c) => res(c)));
    // Once a run has been recorded, machine a's SSH service dies (a holds the client: the next run needs it).
    const file = join(out, 'result.json');
    const ran = () => {
      try {
        const r = JSON.parse(readFileSync(file, 'utf8')) as ResultFile;
        return r.schemes[0]?.tests[0]?.runs.length ?? 0;
      } catch {
        return 0;
      }
    };
    const end = Date.now() + 60_000;
    while (ran() < 1 && Date.now() < end) await new Promise((r) => setTimeout(r, 100));
    expect(ran()).toBeGreaterThanOrEqual(1);
    await killSshd(fx.machines[0]);
    const code = await exited;
    expect(code, output).toBe(1);
    // One line names the host; the scheme failed with it.
    const result = JSON.parse(readFileSync(file, 'utf8')) as ResultFile;
    expect(result.schemes[0].status).toBe('failed');
    expect(result.schemes[0].reason, output).toMatch(/^host a \(root@198\.18\.250\.2\): .*Connection refused.*gave up after 3 retries/);
    expect(result.schemes[0].reason).not.toMatch(/\n/);
    expect(output).toContain(result.schemes[0].reason);
    // Machine b was torn down (reachable), its marker removed; a still holds its namespace; the state file stays.
    expect(machineNetns(fx.machines[1]).filter((n) => n.startsWith('cnl-s3lost-'))).toEqual([]);
    expect((await inMachine(1, ['test', '-e', '/run/cnlab/s3lost.b.json'])).code).toBe(1);
    expect((await inMachine(0, ['test', '-e', '/run/cnlab/s3lost.a.json'])).code).toBe(0);
    expect(machineNetns(fx.machines[0]).filter((n) => n.startsWith('cnl-s3lost-'))).toEqual(['cnl-s3lost-h1']);
    expect(readdirSync(state())).toContain('s3lost.json');

    await restartSshd(fx.machines[0]);
    const clean = await inCtl(['clean']);
    expect(clean.code, clean.stderr).toBe(0);
    expect(clean.stdout).toMatch(/lab s3lost removed/);
    expect(await leftovers('s3lost')).toEqual([]);
    expect(readdirSync(state())).not.toContain('s3lost.json');
  }, 120_000);
});
