import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { processStartTime } from '../../src/apply/state.js';

/**
 * Real "machines" on this box for the SSH transport: namespaces joined like real hosts, each running
 * Debian's openssh-server on its own lab address, with host keys, a client key, known_hosts and an
 * ssh_config generated into a temp dir (nothing under ~/.ssh or /etc/ssh is read or changed).
 *
 *   cnl-sshfx-c (the "operator": cnlab runs here)
 *     ├─ veth mgmt-a ── mgmt0 in cnl-sshfx-a   198.18.250.1/30 ↔ .2   (SSH)
 *     └─ veth mgmt-b ── mgmt0 in cnl-sshfx-b   198.18.250.5/30 ↔ .6   (SSH)
 *   cnl-sshfx-a eth1 ── eth1 cnl-sshfx-b   198.18.251.1/24 ↔ .2   (the lab NIC)
 *
 * The operator side is a namespace too, so the host's own interfaces and routes are untouched.
 * sshd is started in the foreground (-D) and tracked by pid + start time; teardown kills exactly
 * those pids, checks nothing else lives in the namespaces, and deletes them.
 */

export const FX_LAB = 'sshfx';
const ns = (n: string) => `cnl-${FX_LAB}-${n}`;
export const CTL_NS = ns('c');
const SSHD = '/usr/sbin/sshd';
const PRIVSEP = '/run/sshd';

export interface Machine {
  name: string;
  ns: string;
  /** Where sshd listens (its management address). */
  address: string;
  /** Its lab NIC. */
  nic: string;
  pid: number;
  start: number | null;
}

export interface SshFixture {
  dir: string;
  machines: Machine[];
  clientKey: string;
  sshConfig: string;
  namespaces: string[];
  /** Run a program inside the operator namespace. */
  ctlArgv(argv: string[]): [string, string[]];
}

export interface MachineSpec {
  name: 'a' | 'b';
  /** Make these /usr/bin programs look absent to SSH sessions (a PATH without them, via SetEnv). */
  hide?: string[];
}

const run = (file: string, args: string[], input?: string) =>
  execFileSync(file, args, { input, stdio: ['pipe', 'pipe', 'pipe'] }).toString();

let createdPrivsep = false;

/** A PATH directory holding every /usr/bin program except `hide` (symlinks; nothing is uninstalled). */
function hidingPath(dir: string, hide: string[]): string {
  const bin = join(dir, 'bin');
  mkdirSync(bin);
  for (const name of readdirSync('/usr/bin')) if (!hide.includes(name)) symlinkSync(join('/usr/bin', name), join(bin, name));
  return `${bin}:/usr/sbin`;
}

function sshdConfig(m: { address: string; dir: string; authorized: string; path?: string }): string {
  return [
    `ListenAddress ${m.address}:22`,
    `HostKey ${join(m.dir, 'host_ed25519')}`,
    `PidFile ${join(m.dir, 'sshd.pid')}`,
    `AuthorizedKeysFile ${m.authorized}`,
    'PermitRootLogin prohibit-password',
    'PasswordAuthentication no',
    'KbdInteractiveAuthentication no',
    'UsePAM no',
    // The keys live under /tmp (mode 1777 above them), which StrictModes would refuse.
    'StrictModes no',
    'MaxSessions 20',
    'MaxStartups 50:30:100',
    ...(m.path ? [`SetEnv PATH=${m.path}`] : []),
    '',
  ].join('\n');
}

async function waitForFile(file: string, timeoutMs = 10_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!existsSync(file)) {
    if (Date.now() > end) throw new Error(`sshd did not write ${file}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

export async function startSshFixture(specs: MachineSpec[]): Promise<SshFixture> {
  const dir = mkdtempSync('/tmp/cnlab-sshfx-');
  const clientKey = join(dir, 'client_ed25519');
  const known = join(dir, 'known_hosts');
  const sshConfig = join(dir, 'ssh_config');
  const authorized = join(dir, 'authorized_keys');
  const machines: Machine[] = [];
  const fx: SshFixture = {
    dir,
    machines,
    clientKey,
    sshConfig,
    namespaces: [],
    ctlArgv: (argv) => ['ip', ['netns', 'exec', CTL_NS, ...argv]],
  };
  try {
    const names = [CTL_NS, ...specs.map((s) => ns(s.name))];
    for (const n of names) {
      if (existsSync(`/run/netns/${n}`)) throw new Error(`namespace ${n} exists already (a leftover of an earlier run?)`);
    }
    for (const n of names) {
      run('ip', ['netns', 'add', n]);
      fx.namespaces.push(n);
      run('ip', ['-n', n, 'link', 'set', 'lo', 'up']);
    }
    run('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'cnlab-sshfx-client', '-f', clientKey]);
    writeFileSync(authorized, readFileSync(`${clientKey}.pub`), { mode: 0o600 });
    if (!existsSync(PRIVSEP)) {
      mkdirSync(PRIVSEP, { mode: 0o755 });
      createdPrivsep = true;
    }
    let knownHosts = '';
    for (const [i, s] of specs.entries()) {
      const mns = ns(s.name);
      const ctlIf = `mgmt-${s.name}`;
      const ctlIp = `198.18.250.${4 * i + 1}`;
      const address = `198.18.250.${4 * i + 2}`;
      run('ip', ['-n', CTL_NS, 'link', 'add', 'name', ctlIf, 'type', 'veth', 'peer', 'name', 'mgmt0', 'netns', mns]);
      run('ip', ['-n', CTL_NS, 'addr', 'add', `${ctlIp}/30`, 'dev', ctlIf]);
      run('ip', ['-n', CTL_NS, 'link', 'set', ctlIf, 'up']);
      run('ip', ['-n', mns, 'addr', 'add', `${address}/30`, 'dev', 'mgmt0']);
      run('ip', ['-n', mns, 'link', 'set', 'mgmt0', 'up']);
      const mdir = join(dir, s.name);
      mkdirSync(mdir);
      run('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', `cnlab-sshfx-${s.name}`, '-f', join(mdir, 'host_ed25519')]);
      knownHosts += `${address} ${readFileSync(join(mdir, 'host_ed25519.pub'), 'utf8').trim()}\n`;
      const path = s.hide?.length ? hidingPath(mdir, s.hide) : undefined;
      const conf = join(mdir, 'sshd_config');
      writeFileSync(conf, sshdConfig({ address, dir: mdir, authorized, path }));
      const log = join(mdir, 'sshd.log');
      const child = spawn('ip', ['netns', 'exec', mns, SSHD, '-D', '-f', conf, '-E', log], { stdio: 'ignore', detached: true });
      const pid = await new Promise<number>((res, rej) => {
        child.once('spawn', () => res(child.pid!));
        child.once('error', rej);
      });
      child.unref();
      machines.push({ name: s.name, ns: mns, address, nic: 'eth1', pid, start: processStartTime(pid) });
      await waitForFile(join(mdir, 'sshd.pid')).catch((e: Error) => {
        throw new Error(`${e.message}: ${existsSync(log) ? readFileSync(log, 'utf8').trim() : 'no log'}`);
      });
    }
    // The lab NIC: a wire between the first two machines.
    if (specs.length >= 2) {
      const [a, b] = machines;
      run('ip', ['-n', a.ns, 'link', 'add', 'name', 'eth1', 'type', 'veth', 'peer', 'name', 'eth1', 'netns', b.ns]);
      for (const [m, ip] of [
        [a, '198.18.251.1/24'],
        [b, '198.18.251.2/24'],
      ] as const) {
        run('ip', ['-n', m.ns, 'addr', 'add', ip, 'dev', 'eth1']);
        run('ip', ['-n', m.ns, 'link', 'set', 'eth1', 'up']);
      }
    }
    writeFileSync(known, knownHosts);
    writeFileSync(
      sshConfig,
      [
        'Host *',
        `  UserKnownHostsFile ${known}`,
        '  GlobalKnownHostsFile /dev/null',
        '  StrictHostKeyChecking yes',
        '  UpdateHostKeys no',
        `  IdentityFile ${clientKey}`,
        '  IdentitiesOnly yes',
        '',
      ].join('\n'),
    );
    return fx;
  } catch (e) {
    await stopSshFixture(fx);
    throw e;
  }
}

/** A tracked pid that is still the process we started. */
function alive(m: Machine): boolean {
  return m.start !== null && processStartTime(m.pid) === m.start;
}

/** Kill each machine's sshd (by tracked pid); returns the namespaces' remaining pids before deleting them. */
export async function stopSshFixture(fx: SshFixture): Promise<{ leftPids: number[] }> {
  for (const m of fx.machines) if (alive(m)) process.kill(m.pid, 'SIGTERM');
  const end = Date.now() + 5000;
  while (fx.machines.some(alive) && Date.now() < end) await new Promise((r) => setTimeout(r, 50));
  for (const m of fx.machines) if (alive(m)) process.kill(m.pid, 'SIGKILL');
  const leftPids: number[] = [];
  for (const n of fx.namespaces) {
    const pids = run('ip', ['netns', 'pids', n]).split(/\s+/).filter(Boolean).map(Number);
    leftPids.push(...pids);
  }
  for (const n of fx.namespaces) run('ip', ['netns', 'del', n]);
  fx.namespaces.length = 0;
  rmSync(fx.dir, { recursive: true, force: true });
  if (createdPrivsep) {
    try {
      rmdirSync(PRIVSEP);
    } catch {
      /* not empty: someone else's sshd uses it now */
    }
    createdPrivsep = false;
  }
  return { leftPids };
}
