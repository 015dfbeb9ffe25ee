import { execFileSync, spawn } from 'node:child_process';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  rmdirSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
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
 *
 * A machine is its network namespace plus a mount namespace of its own, held by a keeper process
 * (`sleep infinity`, started with `ip netns exec`, so /sys is the machine's). sshd runs inside both
 * (nsenter -t keeper -m -n), like a real host: a namespace a session makes with `ip netns add` is a
 * bind mount in the machine's mount namespace, so it lives as long as the machine, not as long as
 * sshd, and is invisible from this box's own mount namespace (only its empty /run/netns file shows).
 * Tests look inside a machine with machineArgv and machineNetns.
 * sshd and the keeper are started in the foreground and tracked by pid + start time; teardown kills
 * exactly those pids, deletes namespaces a test left inside a machine (reported in `leftNetns`),
 * checks nothing else lives in the fixture's namespaces, and deletes them.
 */

/** Per vitest worker: two files using the fixture at once (the suite runs two) never share a namespace name. */
export const FX_LAB = `sshfx${process.env.VITEST_POOL_ID ?? ''}`;
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
  /** sshd (the listener). */
  pid: number;
  start: number | null;
  /** The keeper holding the machine's mount namespace. */
  keeper: number;
  keeperStart: number | null;
  conf: string;
  log: string;
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

/** Present while the privilege-separation directory is one a fixture made. */
const PRIVSEP_MARK = '/tmp/cnlab-sshfx-privsep-made';

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
    // bash sources ~/.bashrc for a command sshd starts unless SHLVL says it is nested: this box's
    // root .bashrc (pyenv init) costs ~0.6 s per command, which a lean host does not pay.
    `SetEnv SHLVL=1${m.path ? ` PATH=${m.path}` : ''}`,
    '',
  ].join('\n');
}

async function spawnTracked(file: string, args: string[]): Promise<number> {
  const child = spawn(file, args, { stdio: 'ignore', detached: true });
  const pid = await new Promise<number>((res, rej) => {
    child.once('spawn', () => res(child.pid!));
    child.once('error', rej);
  });
  child.unref();
  return pid;
}

/** argv run inside a machine: its network and mount namespaces (what its SSH sessions see). */
export function machineArgv(m: Machine, argv: string[]): [string, string[]] {
  return ['nsenter', ['-t', String(m.keeper), '-m', '-n', '--', ...argv]];
}

/** Start (or restart) a machine's sshd inside the machine. */
async function startSshd(m: Machine): Promise<void> {
  const pidFile = join(m.conf, '..', 'sshd.pid');
  rmSync(pidFile, { force: true });
  m.pid = await spawnTracked(...machineArgv(m, [SSHD, '-D', '-f', m.conf, '-E', m.log]));
  m.start = processStartTime(m.pid);
  await waitForFile(pidFile).catch((e: Error) => {
    throw new Error(`${e.message}: ${existsSync(m.log) ? readFileSync(m.log, 'utf8').trim() : 'no log'}`);
  });
}

/** Pids of the sshd processes of a machine: its listener and the per-connection sshd below it. */
function sshdTree(pid: number): number[] {
  let kids: number[] = [];
  try {
    kids = readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').split(/\s+/).filter(Boolean).map(Number);
  } catch {
    return [pid];
  }
  const comm = (p: number) => {
    try {
      return readFileSync(`/proc/${p}/comm`, 'utf8').trim();
    } catch {
      return '';
    }
  };
  return [pid, ...kids.filter((k) => comm(k).startsWith('sshd')).flatMap(sshdTree)];
}

/**
 * The machine's SSH service dies (a crash, a lost link): its listener and every connection's sshd,
 * found as the listener's descendants named sshd, killed by pid. What sessions started keeps running.
 */
export async function killSshd(m: Machine): Promise<void> {
  if (!alive(m)) return;
  const pids = sshdTree(m.pid);
  for (const p of pids) process.kill(p, 'SIGKILL');
  const end = Date.now() + 5000;
  while (pids.some((p) => existsSync(`/proc/${p}`) && !/\) Z /.test(readFileSync(`/proc/${p}/stat`, 'utf8'))) && Date.now() < end)
    await new Promise((r) => setTimeout(r, 20));
}

/** Start the machine's sshd again (after killSshd). */
export const restartSshd = (m: Machine): Promise<void> => startSshd(m);

/** Named namespaces that exist inside the machine only (made there over SSH), not on this box. */
export function machineNetns(m: Machine): string[] {
  const mounted = (file: string) =>
    readFileSync(file, 'utf8')
      .split('\n')
      .map((l) => /^\S+ \S+ \S+ \S+ \/run\/netns\/(\S+) /.exec(l)?.[1])
      .filter((n): n is string => !!n);
  const here = new Set(mounted('/proc/self/mountinfo'));
  try {
    return [...new Set(mounted(`/proc/${m.keeper}/mountinfo`))].filter((n) => !here.has(n)).sort();
  } catch {
    return [];
  }
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
      writeFileSync(PRIVSEP_MARK, '');
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
      const keeper = await spawnTracked('ip', ['netns', 'exec', mns, 'sleep', 'infinity']);
      const m: Machine = {
        name: s.name,
        ns: mns,
        address,
        nic: 'eth1',
        pid: 0,
        start: null,
        keeper,
        keeperStart: processStartTime(keeper),
        conf,
        log: join(mdir, 'sshd.log'),
      };
      machines.push(m);
      // The keeper has entered the namespace and exec'd sleep once its mount namespace differs from ours.
      const end = Date.now() + 5000;
      while (readlinkSafe(`/proc/${keeper}/ns/mnt`) === readlinkSafe('/proc/self/ns/mnt') && Date.now() < end)
        await new Promise((r) => setTimeout(r, 20));
      await startSshd(m);
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

function readlinkSafe(p: string): string | null {
  try {
    return readlinkSync(p);
  } catch {
    return null;
  }
}

/** A tracked pid that is still the process we started. */
function alive(m: Machine): boolean {
  return m.start !== null && processStartTime(m.pid) === m.start;
}

const keeperAlive = (m: Machine) => m.keeperStart !== null && processStartTime(m.keeper) === m.keeperStart;

/**
 * Kill each machine's sshd and keeper (by tracked pid); returns the namespaces a test left inside
 * the machines (deleted here, so the box stays clean) and the fixture namespaces' remaining pids.
 */
export async function stopSshFixture(fx: SshFixture): Promise<{ leftPids: number[]; leftNetns: string[] }> {
  const leftNetns: string[] = [];
  for (const m of fx.machines) {
    if (!keeperAlive(m)) continue;
    const left = machineNetns(m).filter((n) => n.startsWith('cnl-'));
    leftNetns.push(...left);
    for (const n of left) execFileSync(...machineArgv(m, ['ip', 'netns', 'del', n]), { stdio: 'ignore' });
  }
  for (const m of fx.machines) if (alive(m)) process.kill(m.pid, 'SIGTERM');
  const end = Date.now() + 5000;
  while (fx.machines.some(alive) && Date.now() < end) await new Promise((r) => setTimeout(r, 50));
  for (const m of fx.machines) if (alive(m)) process.kill(m.pid, 'SIGKILL');
  for (const m of fx.machines) if (keeperAlive(m)) process.kill(m.keeper, 'SIGKILL');
  while (fx.machines.some(keeperAlive) && Date.now() < end + 5000) await new Promise((r) => setTimeout(r, 20));
  const leftPids: number[] = [];
  for (const n of fx.namespaces) {
    const pids = run('ip', ['netns', 'pids', n]).split(/\s+/).filter(Boolean).map(Number);
    leftPids.push(...pids);
  }
  for (const n of fx.namespaces) run('ip', ['netns', 'del', n]);
  fx.namespaces.length = 0;
  rmSync(fx.dir, { recursive: true, force: true });
  // A fixture made the privilege-separation directory: the last fixture to stop removes it (the
  // suite runs two files at once; another fixture's sshd needs it for every new connection).
  const others = readdirSync('/tmp').filter((n) => n.startsWith('cnlab-sshfx-') && n !== PRIVSEP_MARK.slice(5));
  if (existsSync(PRIVSEP_MARK) && !others.length) {
    try {
      rmdirSync(PRIVSEP);
    } catch {
      /* not empty: someone else's sshd uses it now */
    }
    rmSync(PRIVSEP_MARK, { force: true });
  }
  return { leftPids, leftNetns };
}
