import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sshArgv, sshControlArgv, type SshConfig, type SshHost } from '../src/remote/ssh.js';
import { CLI, isRoot, type Run } from './helpers/lab.js';
import { FX_LAB, startSshFixture, stopSshFixture, type SshFixture } from './helpers/ssh-fixture.js';

/**
 * The SSH transport and `cnlab hosts check` against real sshd "machines" (test/helpers/ssh-fixture.ts):
 * machine a has everything; machine b's sessions get a PATH without iperf3. Run under the flock.
 */

let fx: SshFixture;
const sshDirBefore = existsSync(join(homedir(), '.ssh')) ? readdirSync(join(homedir(), '.ssh')).sort() : null;

function inCtl(file: string, args: string[], opts: { env?: NodeJS.ProcessEnv; input?: string } = {}): Promise<Run> {
  return new Promise((resolve) => {
    const child = execFile(
      'ip',
      ['netns', 'exec', `cnl-${FX_LAB}-c`, file, ...args],
      { env: { ...process.env, ...opts.env }, timeout: 90_000, maxBuffer: 16 << 20 },
      (err, stdout, stderr) => {
        const code = err ? ((err as { code?: number }).code ?? null) : 0;
        resolve({ code: typeof code === 'number' ? code : null, stdout, stderr });
      },
    );
    child.stdin?.end(opts.input ?? '');
  });
}

function inventory(name: string, hosts: Array<Record<string, unknown>>): string {
  const file = join(fx.dir, `${name}.yaml`);
  writeFileSync(file, JSON.stringify({ ssh_config: fx.sshConfig, hosts }));
  return file;
}

const hostsCheck = (inv: string, ...flags: string[]) =>
  inCtl('node', [CLI, 'hosts', 'check', '-i', inv, ...flags], { env: { CNLAB_STATE_ROOT: join(fx.dir, 'state') } });

beforeAll(async () => {
  fx = await startSshFixture([{ name: 'a' }, { name: 'b', hide: ['iperf3'] }]);
});

afterAll(async () => {
  if (!fx) return;
  const { leftPids } = await stopSshFixture(fx);
  expect(leftPids, 'processes left in the fixture namespaces (a control master?)').toEqual([]);
  expect(readdirSync('/run/netns').filter((n) => n.startsWith(`cnl-${FX_LAB}-`))).toEqual([]);
  expect(existsSync(fx.dir)).toBe(false);
  const sshDirAfter = existsSync(join(homedir(), '.ssh')) ? readdirSync(join(homedir(), '.ssh')).sort() : null;
  expect(sshDirAfter, '~/.ssh changed').toEqual(sshDirBefore);
});

describe.skipIf(!isRoot)('SSH transport against a real sshd', () => {
  it('carries a hostile argv intact through ssh and the remote login shell', async () => {
    const host: SshHost = { name: 'a', ssh: `root@${fx.machines[0].address}`, port: 22, sudo: false, key: fx.clientKey };
    const cfg: SshConfig = { controlDir: join(fx.dir, 'ctl'), configFile: fx.sshConfig };
    mkdirSync(cfg.controlDir, { mode: 0o700 });
    const hostile = ["it's", '$(touch /tmp/cnlab-pwned)', '`id`', 'a\nb', '*', '', '-n', '日本語', '"; exit 3; "', '~'];
    const r = await inCtl('ssh', sshArgv(host, cfg, ['printf', '%s\\0', ...hostile]));
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout.split('\0').slice(0, -1)).toEqual(hostile);
    expect(existsSync('/tmp/cnlab-pwned')).toBe(false);

    // Input travels on stdin, as an `ip -batch -` does.
    const batch = await inCtl('ssh', sshArgv(host, cfg, ['ip', '-batch', '-']), { input: 'link show dev eth1\nlink show dev mgmt0\n' });
    expect(batch.code, batch.stderr).toBe(0);
    expect(batch.stdout).toMatch(/eth1@.*\n[\s\S]*mgmt0@/);

    // One control master carried both; asking it to exit leaves none.
    expect((await inCtl('ssh', sshControlArgv(host, cfg, 'check'))).code).toBe(0);
    expect((await inCtl('ssh', sshControlArgv(host, cfg, 'exit'))).code).toBe(0);
    expect((await inCtl('ssh', sshControlArgv(host, cfg, 'check'))).code).not.toBe(0);
  });

  it('hosts check reports each machine, names iperf3 missing on b and the apt line', async () => {
    const inv = inventory('hosts', [
      { name: 'a', ssh: `root@${fx.machines[0].address}`, nic: 'eth1', key: fx.clientKey },
      { name: 'b', ssh: `root@${fx.machines[1].address}`, nic: 'eth1' },
    ]);
    const r = await hostsCheck(inv);
    expect(r.code, r.stderr).toBe(0);
    const [a, b] = r.stdout.split(/\n\n/);
    expect(a).toMatch(/^host a \(root@198\.18\.250\.2\)/);
    expect(a).toMatch(/kernel +\S+ x86_64|kernel +\S+ aarch64/);
    expect(a).toMatch(/cpu +\d+ × /);
    expect(a).toMatch(/nic +eth1: driver veth/);
    expect(a).toMatch(/offloads +.*generic-segmentation-offload on/);
    expect(a).toMatch(/features +/);
    expect(a).not.toMatch(/missing +iperf3/);
    expect(b).toMatch(/^host b \(root@198\.18\.250\.6\)/);
    expect(b).toMatch(/missing +iperf3 \(iperf3\) — needed by every run/);
    expect(b).toMatch(/fix +apt-get install -y --no-install-recommends .*\biperf3\b/);
  });

  it('run -i refuses before making anything when a host lacks a tool the run needs, naming it and the fix', async () => {
    const inv = inventory('runmissing', [
      { name: 'a', ssh: `root@${fx.machines[0].address}`, nic: 'eth1', key: fx.clientKey },
      { name: 'b', ssh: `root@${fx.machines[1].address}`, nic: 'eth1' },
    ]);
    const stateRoot = join(fx.dir, 'state');
    const r = await inCtl(
      'node',
      [CLI, 'run', '-i', inv, 'host', '--lab', 'hmiss', '--tests', 'tcp-1', '--out', join(fx.dir, 'out-miss')],
      {
        env: { CNLAB_STATE_ROOT: stateRoot },
      },
    );
    expect(r.code, r.stdout).toBe(1);
    const lines = r.stderr
      .trim()
      .split('\n')
      .filter((l) => !/^cnlab: .*(schemes ×|quick default)/.test(l));
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(
      /host b lacks iperf3 \(needed by the tests\): apt-get install -y --no-install-recommends iperf3 — or cnlab hosts prepare/,
    );
    expect(lines[0]).not.toMatch(/host a lacks/);
    expect(readdirSync('/run/netns').filter((n) => n.startsWith('cnl-hmiss-'))).toEqual([]);
    expect(existsSync(join(stateRoot, 'hmiss.json'))).toBe(false);
  });

  it('hosts prepare --dry-run says what it would install, on b only, and runs nothing', async () => {
    const inv = inventory('prepare', [
      { name: 'a', ssh: `root@${fx.machines[0].address}`, nic: 'eth1', key: fx.clientKey },
      { name: 'b', ssh: `root@${fx.machines[1].address}`, nic: 'eth1' },
    ]);
    const r = await inCtl('node', [CLI, 'hosts', 'prepare', '-i', inv, '--dry-run'], { env: { CNLAB_STATE_ROOT: join(fx.dir, 'state') } });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(
      /^host b: would run env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends .*\biperf3\b/m,
    );
    expect(r.stdout).not.toMatch(/^host a: would run .*apt-get install .*\biperf3\b/m);
  });

  it('refuses a nic that carries the SSH connection, unless told', async () => {
    const inv = inventory('sshnic', [{ name: 'a', ssh: `root@${fx.machines[0].address}`, nic: 'mgmt0' }]);
    const r = await hostsCheck(inv);
    expect(r.code).toBe(2);
    expect(r.stderr.trim()).toMatch(/^cnlab: .*host a: nic mgmt0 carries the SSH connection — .*--i-know-it-is-the-ssh-nic$/);
    expect(r.stdout).toBe('');
    const ok = await hostsCheck(inv, '--i-know-it-is-the-ssh-nic', '--json');
    expect(ok.code, ok.stderr).toBe(0);
    const [a] = JSON.parse(ok.stdout) as Array<{ name: string; sshDevice: string; uid: number; tools: Record<string, string | null> }>;
    expect(a).toMatchObject({ name: 'a', sshDevice: 'mgmt0', uid: 0 });
    expect(a.tools.iperf3).toMatch(/\/iperf3$/);
  });

  it('names an unreachable host and a missing nic in one line, exit 1', async () => {
    const inv = inventory('bad', [
      { name: 'a', ssh: `root@${fx.machines[0].address}`, nic: 'eth9' },
      { name: 'gone', ssh: 'root@198.18.250.10', nic: 'eth1' },
    ]);
    const r = await hostsCheck(inv);
    expect(r.code).toBe(1);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(/2 of 2 hosts failed the check: a: nic eth9: .*; gone: unreachable: .*198\.18\.250\.10/);
  });
});
