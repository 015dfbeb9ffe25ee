import { existsSync, readdirSync, readlinkSync, statSync } from 'node:fs';
import { execArgs } from '../util/exec.js';

/** Named network namespaces, as iproute2 keeps them in /run/netns. */

const NETNS_DIR = '/run/netns';

export function netnsExists(ns: string): boolean {
  return existsSync(`${NETNS_DIR}/${ns}`);
}

export function listNetns(): string[] {
  try {
    return readdirSync(NETNS_DIR);
  } catch {
    return [];
  }
}

/** Run `ip -batch -` with these lines; resolves with an error text, or null when all succeeded. */
export async function ipBatch(lines: string[]): Promise<string | null> {
  if (lines.length === 0) return null;
  const res = await execArgs('ip', ['-batch', '-'], { input: `${lines.join('\n')}\n` });
  return res.code === 0 ? null : (res.stderr || res.stdout).trim().split('\n').slice(0, 3).join('; ');
}

/** Create these namespaces (one ip process for all of them). */
export async function createNamespaces(names: string[]): Promise<void> {
  const err = await ipBatch(names.map((n) => `netns add ${n}`));
  if (err) throw new Error(`creating namespaces: ${err}`);
}

/** Delete those of these namespaces that exist; never any other. */
export async function deleteNamespaces(names: string[]): Promise<string | null> {
  return ipBatch(names.filter(netnsExists).map((n) => `netns del ${n}`));
}

/**
 * Pids of processes living in any of these namespaces (what `ip netns pids` does, for many
 * namespaces in one pass over /proc: a process's /proc/PID/ns/net names the namespace inode).
 */
export function netnsPids(namespaces: string[]): number[] {
  const inodes = new Set<number>();
  for (const ns of namespaces) {
    try {
      inodes.add(statSync(`${NETNS_DIR}/${ns}`).ino);
    } catch {
      /* not there: nothing lives in it */
    }
  }
  if (!inodes.size) return [];
  const pids: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const m = /^net:\[(\d+)\]$/.exec(readlinkSync(`/proc/${entry}/ns/net`));
      if (m && inodes.has(Number(m[1]))) pids.push(Number(entry));
    } catch {
      /* exited meanwhile, or a kernel thread */
    }
  }
  return pids;
}
