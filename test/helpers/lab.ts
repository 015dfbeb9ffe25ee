import { execFile } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/** Shared helpers for tests that build real labs. */

export const CLI = fileURLToPath(new URL('../../dist/src/cli.js', import.meta.url));
export const isRoot = process.getuid?.() === 0;

export interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Run the built cnlab CLI with an argument array. */
export function cli(args: string[], opts: { env?: NodeJS.ProcessEnv; timeoutMs?: number } = {}): Promise<Run> {
  return new Promise((resolve) => {
    execFile('node', [CLI, ...args], { env: { ...process.env, ...opts.env }, timeout: opts.timeoutMs ?? 120_000, maxBuffer: 64 << 20 }, (err, stdout, stderr) => {
      const code = err ? ((err as { code?: number }).code ?? null) : 0;
      resolve({ code: typeof code === 'number' ? code : null, stdout, stderr });
    });
  });
}

/** Run a program (argument array) and collect its output; never rejects. */
export function sh(file: string, args: string[], timeoutMs = 30_000): Promise<Run> {
  return new Promise((resolve) => {
    execFile(file, args, { timeout: timeoutMs, maxBuffer: 64 << 20 }, (err, stdout, stderr) => {
      const code = err ? ((err as { code?: number }).code ?? 1) : 0;
      resolve({ code: typeof code === 'number' ? code : 1, stdout, stderr });
    });
  });
}

/** Namespaces of one lab (cnl-<lab>-*) that exist now. */
export function labNamespaces(lab: string): string[] {
  if (!existsSync('/run/netns')) return [];
  return readdirSync('/run/netns').filter((n) => n.startsWith(`cnl-${lab}-`));
}

/** Pids of processes living in any of these namespaces. */
export async function pidsIn(namespaces: string[]): Promise<number[]> {
  const out: number[] = [];
  for (const ns of namespaces) {
    const r = await sh('ip', ['netns', 'pids', ns]);
    out.push(...r.stdout.split(/\s+/).filter(Boolean).map(Number));
  }
  return out;
}

/** A don't-fragment ping of `payload` bytes from a namespace: true when answered. */
export async function dfPing(ns: string, target: string, payload: number): Promise<boolean> {
  const r = await sh('ip', ['netns', 'exec', ns, 'ping', '-c', '1', '-W', '1', '-M', 'do', '-s', String(payload), target]);
  return r.code === 0;
}

/** A plain ping -c1 -W1 from a namespace: true when answered. */
export async function ping(ns: string, target: string): Promise<boolean> {
  const r = await sh('ip', ['netns', 'exec', ns, 'ping', '-c', '1', '-W', '1', target]);
  return r.code === 0;
}

/** True once a process no longer exists (/proc/<pid> is gone). */
export function pidGone(pid: number): boolean {
  return !existsSync(`/proc/${pid}`);
}

/** The non-empty lines of a command's output. */
export function lines(text: string): string[] {
  return text.split('\n').filter((l) => l.trim() !== '');
}

/** Namespace names (`ip netns list`) and entries of a state root, taken at one moment. */
export interface Snapshot {
  netns: Set<string>;
  state: Set<string>;
}

const dirEntries = (dir: string) => (existsSync(dir) ? readdirSync(dir) : []);

export async function snapshot(stateRoot = '/run/cnlab'): Promise<Snapshot> {
  const r = await sh('ip', ['netns', 'list']);
  const netns = new Set(r.stdout.split('\n').map((l) => l.split(' ')[0]).filter(Boolean));
  return { netns, state: new Set(dirEntries(stateRoot)) };
}

/**
 * What appeared since `before` that belongs to one of `labs`: namespaces cnl-<lab>-<node> and
 * state entries <lab>, <lab>.json, <lab>.json.*.tmp. Other labs are left out on purpose: other
 * tests and other users may build labs at the same time.
 */
export async function createdSince(before: Snapshot, labs: string[], stateRoot = '/run/cnlab'): Promise<string[]> {
  const now = await snapshot(stateRoot);
  const nsLab = (n: string) => /^cnl-(.+)-[^-]+$/.exec(n)?.[1] ?? '';
  const entryLab = (e: string) => e.replace(/\.json(\..*)?$/, '');
  return [
    ...[...now.netns].filter((n) => !before.netns.has(n) && labs.includes(nsLab(n))).map((n) => `netns ${n}`),
    ...[...now.state].filter((e) => !before.state.has(e) && labs.includes(entryLab(e))).map((e) => `${stateRoot}/${e}`),
  ];
}
