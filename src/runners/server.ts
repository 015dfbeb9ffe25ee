/**
 * A benchmark server (qperf, sockperf) inside a namespace: started in its own process group (qperf
 * forks a child per connection, which must go with it), recorded through onSpawn before anything
 * else happens, ready once its socket is bound in the namespace, and stopped by its pid: SIGTERM
 * to the whole group, SIGKILL after a grace period.
 *
 * Readiness does not trust the tool's output (qperf prints nothing; output can be buffered): it
 * reads /proc/<pid>/net/{tcp,udp}[6], which show the sockets of the process's own namespace, once
 * /proc/<pid>/comm says the tool has been exec'd (before that the pid is still `ip netns exec`,
 * possibly not yet in the namespace).
 */
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { RunError } from '../errors.js';
import type { Server } from './types.js';

export type { Server } from './types.js';

export interface ServerSpec {
  /** Full argv, e.g. ['taskset', '-c', '1', 'ip', 'netns', 'exec', NS, 'qperf', '-lp', '19765']. */
  argv: string[];
  /** The program's name as /proc/<pid>/comm shows it once exec'd, e.g. "qperf". */
  comm: string;
  protocol: 'tcp' | 'udp';
  port: number;
  /** For messages, e.g. "qperf server in cnl-x-h2 on port 19765". */
  what: string;
  onSpawn?: (pid: number) => void;
  readyTimeoutMs?: number;
}

const STOP_GRACE_MS = 2000;
const POLL_MS = 20;
const TAIL_CHARS = 2048;

/** Pure: whether a /proc/net/{tcp,udp}[6] table has a socket bound to `port` (TCP: listening). */
export function hasSocket(table: string, protocol: 'tcp' | 'udp', port: number): boolean {
  const hex = port.toString(16).toUpperCase().padStart(4, '0');
  for (const line of table.split('\n').slice(1)) {
    const f = line.trim().split(/\s+/);
    if (f.length < 4) continue;
    const local = f[1].split(':');
    if (local[local.length - 1] !== hex) continue;
    if (protocol === 'udp' || f[3] === '0A') return true;
  }
  return false;
}

function read(file: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch {
    return '';
  }
}

/** True when the process has exec'd the tool and its namespace has the socket. */
export function socketReady(pid: number, comm: string, protocol: 'tcp' | 'udp', port: number): boolean {
  if (read(`/proc/${pid}/comm`).trim() !== comm) return false;
  return [protocol, `${protocol}6`].some((t) => hasSocket(read(`/proc/${pid}/net/${t}`), protocol, port));
}

export async function startServer(spec: ServerSpec): Promise<Server> {
  const timeoutMs = spec.readyTimeoutMs ?? 10_000;
  // The ready timeout counts from spawn: recording the pid (onSpawn) is part of the wait.
  const started = Date.now();
  const child = spawn(spec.argv[0], spec.argv.slice(1), { stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  let tail = '';
  const keep = (b: Buffer) => {
    tail = (tail + b.toString()).slice(-TAIL_CHARS);
  };
  // Drain both pipes for the server's whole life: a full pipe would block it.
  child.stdout.on('data', keep);
  child.stderr.on('data', keep);
  const exited = new Promise<void>((resolve) => {
    if (child.pid === undefined) child.once('error', () => resolve());
    child.once('exit', () => resolve());
  });
  const isRunning = () => child.pid !== undefined && child.exitCode === null && child.signalCode === null;
  const signalGroup = (sig: NodeJS.Signals) => {
    try {
      process.kill(-child.pid!, sig); // the group: the server and any child it forked
    } catch {
      /* already gone */
    }
  };
  if (child.pid !== undefined && spec.onSpawn) {
    try {
      spec.onSpawn(child.pid); // synchronous with spawn: no event can have run yet
    } catch (e) {
      signalGroup('SIGKILL');
      await exited;
      throw e;
    }
  }
  let stopping: Promise<void> | undefined;
  const stop = (): Promise<void> => {
    stopping ??= (async () => {
      if (child.pid === undefined) return;
      // Children of the group may outlive the leader: signal the group even if the leader is gone.
      signalGroup('SIGTERM');
      if (!isRunning()) return;
      const timer = setTimeout(() => signalGroup('SIGKILL'), STOP_GRACE_MS);
      await exited;
      clearTimeout(timer);
      signalGroup('SIGKILL');
    })();
    return stopping;
  };

  const error = await new Promise<Error | undefined>((resolve) => {
    if (child.pid === undefined) {
      child.once('error', (e) => resolve(new RunError(`cannot start ${spec.what}: ${e.message}`)));
      return;
    }
    const tick = () => {
      if (!isRunning()) {
        const why =
          tail
            // eslint-disable-next-line no-control-regex
            .replace(/\x1b\[[0-9;]*m/g, '')
            .trim()
            .replace(/\s*\n\s*/g, '; ') || 'no output';
        resolve(new RunError(`${spec.what} exited (${child.exitCode ?? child.signalCode}) before it was ready: ${why}`));
      } else if (Date.now() - started > timeoutMs) {
        resolve(new RunError(`${spec.what} was not ready within ${timeoutMs} ms; killed it`));
      } else if (socketReady(child.pid!, spec.comm, spec.protocol, spec.port)) {
        resolve(undefined);
      } else {
        setTimeout(tick, POLL_MS);
      }
    };
    tick();
  });
  if (error) {
    await stop();
    throw error;
  }
  return { pid: child.pid!, stop };
}
