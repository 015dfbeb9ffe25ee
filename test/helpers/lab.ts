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
