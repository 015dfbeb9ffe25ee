import { spawn } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, watch } from 'node:fs';
import { dirname } from 'node:path';
import type { Step } from '../plan/types.js';
import type { Executor } from '../util/executor.js';
import { envArgv } from '../util/shell.js';

/**
 * Starts a plan's daemon step inside its namespace: in the foreground (so the tracked pid is the
 * daemon's own), in its own process group (a terminal's Ctrl-C reaches cnlab, which stops it in
 * order), output to its log, ready once its ready file exists (watched with inotify, not slept on).
 */

type DaemonStep = Extract<Step, { kind: 'daemon' }>;

function logTail(file: string): string {
  try {
    return readFileSync(file, 'utf8').trim().split('\n').slice(-3).join('; ');
  } catch {
    return '';
  }
}

function waitForFile(file: string, exited: Promise<number | null>, timeoutMs: number): Promise<void> {
  mkdirSync(dirname(file), { recursive: true });
  return new Promise((resolve, reject) => {
    const watcher = watch(dirname(file));
    const timer = setTimeout(() => done(new Error(`not ready after ${timeoutMs} ms (no ${file})`)), timeoutMs);
    const done = (err?: Error) => {
      clearTimeout(timer);
      watcher.close();
      if (err) reject(err);
      else resolve();
    };
    watcher.on('change', () => existsSync(file) && done());
    void exited.then((code) => done(new Error(`exited (${code}) before it was ready`)));
    if (existsSync(file)) done();
  });
}

export async function startDaemon(step: DaemonStep, onSpawn: (pid: number) => void, timeoutMs = 15_000): Promise<void> {
  mkdirSync(dirname(step.log), { recursive: true });
  const fd = openSync(step.log, 'a');
  const child = spawn('ip', ['netns', 'exec', step.ns, ...envArgv(step.env), ...step.argv], { stdio: ['ignore', fd, fd], detached: true });
  closeSync(fd);
  const exited = new Promise<number | null>((res) => child.on('exit', (code) => res(code)));
  const spawned = await new Promise<number>((res, rej) => {
    child.once('spawn', () => res(child.pid!));
    child.once('error', rej);
  });
  onSpawn(spawned);
  child.unref();
  if (!step.readyFile) return;
  try {
    await waitForFile(step.readyFile, exited, timeoutMs);
  } catch (e) {
    throw new Error(`${step.name}: ${(e as Error).message}${logTail(step.log) ? `: ${logTail(step.log)}` : ''}`);
  }
}

/**
 * The same on another machine (an inventory host): started in the background by one SSH session
 * (setsid, stdin /dev/null, output to its log there, so it outlives the session) that prints its
 * pid and /proc stat; recorded through onSpawn (pid and start time as that machine sees them);
 * then a second session waits for its ready file there.
 */
export async function startRemoteDaemon(
  ex: Executor,
  step: DaemonStep,
  onSpawn: (pid: number, startTime: number) => void,
  timeoutMs = 15_000,
): Promise<void> {
  const start = 'log=$1; shift; mkdir -p -m 0700 "$(dirname "$log")" && { setsid "$@" </dev/null >>"$log" 2>&1 & } && cat "/proc/$!/stat"';
  const argv = ['ip', 'netns', 'exec', step.ns, ...envArgv(step.env), ...step.argv];
  const res = await ex.run(['sh', '-c', start, 'sh', step.log, ...argv], { timeoutMs: 30_000 });
  const stat = res.stdout.trim();
  const pid = Number(stat.split(' ')[0]);
  const startTime = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19]);
  if (res.code !== 0 || !Number.isInteger(pid) || !Number.isInteger(startTime))
    throw new Error(`host ${ex.host}: ${step.name}: ${(res.stderr || `exit ${res.code}`).trim().split('\n').slice(-1)[0]}`);
  onSpawn(pid, startTime);
  if (!step.readyFile) return;
  const tries = Math.ceil(timeoutMs / 100);
  const wait = [
    'ready=$1; pid=$2; log=$3; i=0',
    'while [ ! -e "$ready" ]; do',
    '  if ! kill -0 "$pid" 2>/dev/null; then echo "exited before it was ready: $(tail -n 3 "$log" | tr "\\n" " ")" >&2; exit 3; fi',
    `  i=$((i+1)); if [ $i -gt ${tries} ]; then echo "not ready after ${timeoutMs} ms (no $ready): $(tail -n 3 "$log" | tr "\\n" " ")" >&2; exit 4; fi`,
    '  sleep 0.1',
    'done',
  ].join('\n');
  const r = await ex.run(['sh', '-c', wait, 'sh', step.readyFile, String(pid), step.log], { timeoutMs: timeoutMs + 30_000 });
  if (r.code !== 0) throw new Error(`host ${ex.host}: ${step.name}: ${(r.stderr || `exit ${r.code}`).trim()}`);
}
