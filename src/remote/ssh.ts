import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { execArgs, type ExecOptions, type ExecResult } from '../util/exec.js';
import { markHostLost, type Executor } from '../util/executor.js';
import { remoteCommand } from '../util/shell.js';
import type { InventoryHost } from './inventory.js';

/**
 * The SSH transport: the system `ssh` client (so the user's config, agent and known_hosts apply),
 * always spawned with an argument array, never through a local shell. One control master per host
 * (ControlMaster=auto, socket ControlPath=<dir>/ssh-%C) carries every session over one TCP
 * connection; BatchMode=yes so nothing ever waits on a password or host-key prompt. The remote
 * command is the argv quoted by remoteCommand (the one quoting function), prefixed by
 * `sudo -n --` when the inventory says sudo; input travels on stdin.
 */

export interface SshConfig {
  /** Directory for the control sockets (the lab's state directory). Created 0700. */
  controlDir: string;
  /** An ssh_config(5) file used instead of ~/.ssh/config (`-F`), from the inventory. */
  configFile?: string;
  /** Seconds an idle master stays up (ControlPersist). */
  persistSec?: number;
  /** Seconds to wait for the TCP connection (ConnectTimeout). */
  connectTimeoutSec?: number;
}

export type SshHost = Pick<InventoryHost, 'name' | 'ssh' | 'port' | 'sudo' | 'key'>;

/** sun_path holds 108 bytes; %C expands to 40 hex digits. */
const MAX_CONTROL_PATH = 107;

export function controlPath(dir: string): string {
  const path = join(dir, 'ssh-%C');
  if (path.length - 2 + 40 > MAX_CONTROL_PATH) throw new Error(`control socket directory ${dir} is too long for a unix socket path`);
  return path;
}

/** ssh's options for this host: everything before the destination. */
export function sshOptions(host: SshHost, cfg: SshConfig): string[] {
  const o = (kv: string) => ['-o', kv];
  return [
    ...(cfg.configFile ? ['-F', cfg.configFile] : []),
    '-T', // no terminal: commands, not a login
    '-x', // no X11 forwarding
    '-a', // no agent forwarding
    '-p',
    String(host.port),
    ...(host.key ? ['-i', host.key, ...o('IdentitiesOnly=yes')] : []),
    ...o('BatchMode=yes'),
    ...o('ControlMaster=auto'),
    ...o(`ControlPath=${controlPath(cfg.controlDir)}`),
    ...o(`ControlPersist=${cfg.persistSec ?? 60}`),
    ...o(`ConnectTimeout=${cfg.connectTimeoutSec ?? 10}`),
    ...o('ServerAliveInterval=5'),
    ...o('ServerAliveCountMax=3'),
    ...o('LogLevel=ERROR'),
  ];
}

/** The remote argv, with `sudo -n --` in front when the host asks for sudo. */
export function remoteArgv(host: Pick<SshHost, 'sudo'>, argv: readonly string[]): string[] {
  return host.sudo ? ['sudo', '-n', '--', ...argv] : [...argv];
}

/** ssh's whole argument array for running argv on host: `--` ends options before the destination. */
export function sshArgv(host: SshHost, cfg: SshConfig, argv: readonly string[]): string[] {
  return [...sshOptions(host, cfg), '--', host.ssh, remoteCommand(remoteArgv(host, argv))];
}

/** `ssh -O exit|check`: ask this host's control master to exit, or whether it runs. */
export function sshControlArgv(host: SshHost, cfg: SshConfig, op: 'exit' | 'check'): string[] {
  return [...sshOptions(host, cfg), '-O', op, '--', host.ssh];
}

/**
 * ssh exits 255 when it could not connect or lost the connection (a remote command's own 255 is
 * rare, and means the same to cnlab: the host did not do the work). One line naming the host.
 */
export function sshFailure(host: Pick<SshHost, 'name' | 'ssh'>, res: ExecResult): string | null {
  if (res.code !== 255) return null;
  const why = res.stderr.trim().split('\n').filter(Boolean).slice(-1)[0] ?? 'connection failed';
  return `host ${host.name} (${host.ssh}): ${why}`;
}

/**
 * ssh's own failures to reach the host or keep the connection (not the remote command's): worth a
 * new connection. A remote command's 255 with its own message does not match and is not retried.
 */
const CONNECTION_LOST =
  /Connection (refused|timed out|reset|closed)|closed by remote host|No route to host|Network is unreachable|Broken pipe|kex_exchange_identification|Timeout, server .* not responding|Control socket connect/;

/** Pure: whether a result is ssh losing (or never getting) the connection. */
export function connectionLost(res: Pick<ExecResult, 'code' | 'stderr'>): boolean {
  // A control-master client whose master died can exit 255 with nothing on stderr.
  return res.code === 255 && (CONNECTION_LOST.test(res.stderr) || res.stderr.trim() === '');
}

/** Delays before each retry of a lost connection: three more tries over about 3.5 s. */
export const RETRY_DELAYS_MS = [500, 1000, 2000];

export class SshExecutor implements Executor {
  readonly host: string;
  /** Set once the host stayed unreachable through the retries: later commands fail at once. */
  private gone: string | null = null;

  constructor(
    readonly target: SshHost,
    readonly cfg: SshConfig,
  ) {
    this.host = target.name;
    mkdirSync(cfg.controlDir, { recursive: true, mode: 0o700 });
  }

  /**
   * A lost connection is retried (a new connection each time, RETRY_DELAYS_MS); when the host
   * stays unreachable, the result is ssh's (exit 255) and the host is marked lost: one line naming
   * it (util/executor.ts markHostLost), and every later command on this executor fails at once.
   * A command cut off mid-way is run again, so only commands that may run twice should be sent
   * while a host can drop (measurement runs, reads, teardown's kills and deletes).
   */
  async run(argv: readonly string[], opts: ExecOptions = {}): Promise<ExecResult> {
    if (this.gone) return { code: 255, signal: null, stdout: '', stderr: `${this.gone}\n` };
    let res = await execArgs('ssh', sshArgv(this.target, this.cfg, argv), opts);
    for (const ms of RETRY_DELAYS_MS) {
      if (!connectionLost(res)) return res;
      await new Promise((r) => setTimeout(r, ms));
      res = await execArgs('ssh', sshArgv(this.target, this.cfg, argv), opts);
    }
    if (connectionLost(res)) {
      this.gone = `${sshFailure(this.target, res)} (gave up after ${RETRY_DELAYS_MS.length} retries)`;
      markHostLost(this.gone);
    }
    return res;
  }

  /** Stop this host's control master (nothing when none runs). */
  async close(): Promise<void> {
    await execArgs('ssh', sshControlArgv(this.target, this.cfg, 'exit'), { timeoutMs: 10_000 }).catch(() => undefined);
  }
}
