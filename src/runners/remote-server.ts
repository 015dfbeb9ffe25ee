import { RunError } from '../errors.js';
import type { Executor } from '../util/executor.js';
import { hasSocket } from './server.js';
import type { Server } from './types.js';

/**
 * A benchmark server on another machine (an inventory host, `cnlab run -i`): the tool's own server
 * argv, started by one SSH session in the background (setsid: its own session and process group,
 * stdin /dev/null, output to a log in the lab's directory there) that prints its /proc stat line,
 * so it is recorded by pid and the start time that machine reports before anything else happens.
 * Ready once that machine's /proc/<pid>/comm names the tool and /proc/<pid>/net shows its socket
 * (the same test as a local server, read over SSH). Stopped by pid: SIGTERM to its process group,
 * SIGKILL after a grace period, only while the pid still has the recorded start time.
 */

export interface RemoteServerSpec {
  argv: string[];
  /** /proc/<pid>/comm once exec'd, e.g. "qperf". */
  comm: string;
  protocol: 'tcp' | 'udp';
  port: number;
  what: string;
  /** Where its output goes on that machine. */
  log: string;
  onSpawn?: (pid: number, startTime: number) => void;
  readyTimeoutMs?: number;
}

const START = 'log=$1; shift; mkdir -p -m 0700 "$(dirname "$log")" && { setsid "$@" </dev/null >"$log" 2>&1 & } && cat "/proc/$!/stat"';
/** Prints comm, then the socket tables; exits 3 once the pid is gone. */
const PROBE = 'kill -0 "$1" 2>/dev/null || exit 3; cat "/proc/$1/comm"; cat "/proc/$1/net/$2" "/proc/$1/net/${2}6" 2>/dev/null; true';
/** Stops the group of pid $1 if pid $1 still has start time $2. */
const STOP = [
  'pid=$1; want=$2',
  'alive() { s=$(cat "/proc/$pid/stat" 2>/dev/null) || return 1; s=${s##*) }; set -- $s; [ "${20}" = "$want" ]; }',
  'alive || exit 0',
  'kill -TERM "-$pid" 2>/dev/null',
  'i=0; while alive && [ $i -lt 20 ]; do sleep 0.1; i=$((i+1)); done',
  'alive && kill -KILL "-$pid" 2>/dev/null',
  'exit 0',
].join('\n');

/** Pure: pid and start time (field 22) from a /proc/<pid>/stat line, or null. */
export function parseStat(stat: string): { pid: number; startTime: number } | null {
  const pid = Number(stat.trim().split(' ')[0]);
  const startTime = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19]);
  return Number.isInteger(pid) && pid > 0 && Number.isInteger(startTime) ? { pid, startTime } : null;
}

const lastLine = (s: string) => s.trim().split('\n').filter(Boolean).slice(-1)[0] ?? '';

export async function startRemoteServer(ex: Executor, spec: RemoteServerSpec): Promise<Server> {
  const timeoutMs = spec.readyTimeoutMs ?? 15_000;
  const res = await ex.run(['sh', '-c', START, 'sh', spec.log, ...spec.argv], { timeoutMs: 30_000 });
  const got = parseStat(res.stdout);
  if (res.code !== 0 || !got)
    throw new RunError(`host ${ex.host}: cannot start ${spec.what}: ${lastLine(res.stderr) || `exit ${res.code}`}`);
  const { pid, startTime } = got;
  let stopping: Promise<void> | undefined;
  const stop = (): Promise<void> => {
    stopping ??= ex.run(['sh', '-c', STOP, 'sh', String(pid), String(startTime)], { timeoutMs: 15_000 }).then(
      () => undefined,
      () => undefined,
    );
    return stopping;
  };
  try {
    spec.onSpawn?.(pid, startTime);
  } catch (e) {
    await stop();
    throw e;
  }
  const started = Date.now();
  for (;;) {
    const p = await ex.run(['sh', '-c', PROBE, 'sh', String(pid), spec.protocol], { timeoutMs: 30_000 });
    if (p.code === 3) {
      const log = await ex.run(['tail', '-n', '3', spec.log], { timeoutMs: 10_000 });
      throw new RunError(
        `host ${ex.host}: ${spec.what} exited before it was ready: ${log.stdout.trim().replace(/\s*\n\s*/g, '; ') || 'no output'}`,
      );
    }
    if (p.code !== 0) {
      await stop();
      throw new RunError(`host ${ex.host}: ${spec.what}: ${lastLine(p.stderr) || `exit ${p.code}`}`);
    }
    const [comm, ...table] = p.stdout.split('\n');
    if (comm.trim() === spec.comm && hasSocket(table.join('\n'), spec.protocol, spec.port)) return { pid, stop };
    if (Date.now() - started > timeoutMs) {
      await stop();
      throw new RunError(`host ${ex.host}: ${spec.what} was not ready within ${timeoutMs} ms; stopped it`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
}
