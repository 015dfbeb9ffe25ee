import { spawn } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, watch } from 'node:fs';
import { dirname } from 'node:path';
import type { Step } from '../plan/types.js';
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
