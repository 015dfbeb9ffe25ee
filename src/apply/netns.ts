import { existsSync, readdirSync, readlinkSync, statSync } from 'node:fs';
import { byExecutor, LOCAL, type Executor } from '../util/executor.js';

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

/** Run `ip -batch -` with these lines (on ex's machine); resolves with an error text, or null when all succeeded. */
export async function ipBatch(lines: string[], ex: Executor = LOCAL): Promise<string | null> {
  if (lines.length === 0) return null;
  const res = await ex.run(['ip', '-batch', '-'], { input: `${lines.join('\n')}\n` });
  if (res.code === 0) return null;
  const why = (res.stderr || res.stdout).trim().split('\n').slice(0, 3).join('; ');
  return ex.host ? `on ${ex.host}: ${why}` : why;
}

/** Which of these namespaces exist, each asked of the machine that holds it (see placeNamespaces). */
export async function existingNetns(names: readonly string[]): Promise<string[]> {
  const found: string[] = [];
  for (const [ex, group] of byExecutor(names)) {
    if (ex === LOCAL) {
      found.push(...group.filter(netnsExists));
      continue;
    }
    const res = await ex.run(['ip', 'netns', 'list'], { timeoutMs: 30_000 });
    if (res.code !== 0) throw new Error(`on ${ex.host}: ip netns list: ${(res.stderr || `exit ${res.code}`).trim()}`);
    const there = new Set(res.stdout.split('\n').map((l) => l.split(' ')[0]));
    found.push(...group.filter((n) => there.has(n)));
  }
  return found;
}

/** Create these namespaces (one ip process per machine holding them). */
export async function createNamespaces(names: string[]): Promise<void> {
  for (const [ex, group] of byExecutor(names)) {
    const err = await ipBatch(
      group.map((n) => `netns add ${n}`),
      ex,
    );
    if (err) throw new Error(`creating namespaces: ${err}`);
  }
}

/** Delete those of these namespaces that exist; never any other. Each machine is tried, even when one fails. */
export async function deleteNamespaces(names: string[]): Promise<string | null> {
  const errs: string[] = [];
  for (const [ex, group] of byExecutor(names)) {
    try {
      const present = await existingNetns(group);
      const err = await ipBatch(
        present.map((n) => `netns del ${n}`),
        ex,
      );
      if (err) errs.push(err);
    } catch (e) {
      errs.push((e as Error).message);
    }
  }
  return errs.length ? errs.join('; ') : null;
}

/** Kill (SIGKILL) whatever lives in these namespaces on a remote machine; returns how many. */
export async function killRemoteStrays(ex: Executor, namespaces: readonly string[]): Promise<number> {
  if (!namespaces.length) return 0;
  // A namespace already gone (an earlier teardown got that far) has nothing in it.
  const script = 'for ns; do [ -e "/run/netns/$ns" ] || continue; ip netns pids "$ns"; done';
  const r = await ex.run(['sh', '-c', script, 'sh', ...namespaces], { timeoutMs: 30_000 });
  if (r.code !== 0) throw new Error(`on ${ex.host}: listing processes in the lab's namespaces: ${(r.stderr || `exit ${r.code}`).trim()}`);
  const pids = [...new Set(r.stdout.split(/\s+/).filter((p) => /^\d+$/.test(p)))];
  if (pids.length) await ex.run(['kill', '-KILL', '--', ...pids], { timeoutMs: 30_000 });
  return pids.length;
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
