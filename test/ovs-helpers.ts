import { readdirSync, readFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { expect } from 'vitest';
import { runClient, startServer } from '../src/runners/iperf3.js';
import { SERVICE_PORT } from '../src/lab/ports.js';
import { pidGone, pidsIn, sh } from './helpers/lab.js';

/** Helpers shared by the OVS and Weave tests (test/ovs*.test.ts, test/weave-fastdp*.test.ts). */

export const OVS_DAEMONS = ['ovsdb-server', 'ovs-vswitchd'];

/** The argv of a process, or null once it is gone. */
export function argvOf(pid: number): string[] | null {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter(Boolean);
  } catch {
    return null;
  }
}

/**
 * Every OVS daemon on the machine whose command line names `dir` (a lab's state directory):
 * what a lab left behind, whichever way its daemons were started.
 */
export function ovsDaemonsUnder(dir: string): number[] {
  return readdirSync('/proc')
    .filter((d) => /^\d+$/.test(d))
    .map(Number)
    .filter((pid) => {
      const argv = argvOf(pid);
      return !!argv?.length && OVS_DAEMONS.includes(basename(argv[0])) && argv.some((a) => a.includes(`${dir}/`));
    });
}

/** Send SIGTERM (then SIGKILL) to exactly these pids and wait until they are gone. */
export async function stopPids(pids: number[]): Promise<number[]> {
  const signal = (pid: number, sig: NodeJS.Signals) => {
    try {
      process.kill(pid, sig);
    } catch {
      /* gone */
    }
  };
  pids.forEach((p) => signal(p, 'SIGTERM'));
  for (let i = 0; i < 100 && pids.some((p) => !pidGone(p)); i++) await new Promise((r) => setTimeout(r, 20));
  pids.filter((p) => !pidGone(p)).forEach((p) => signal(p, 'SIGKILL'));
  for (let i = 0; i < 100 && pids.some((p) => !pidGone(p)); i++) await new Promise((r) => setTimeout(r, 20));
  return pids.filter((p) => !pidGone(p));
}

/**
 * Remove what a plan script built by hand: the processes living in its namespaces (the OVS
 * daemons it started, an iperf3 server a test left), then the namespaces. Returns the problems.
 */
export async function removeScriptLab(namespaces: string[]): Promise<string[]> {
  const problems: string[] = [];
  const left = await stopPids(await pidsIn(namespaces));
  if (left.length) problems.push(`processes still running: ${left.join(', ')}`);
  for (const ns of namespaces) {
    const r = await sh('ip', ['netns', 'del', ns]);
    if (r.code !== 0) problems.push(`${ns}: ${r.stderr.trim()}`);
  }
  return problems;
}

/** n_packets summed over the flows of a bridge whose text (ovs-ofctl --names) matches `match`. */
export async function flowPackets(ns: string, runDir: string, bridge: string, match: RegExp): Promise<number> {
  const r = await sh('ip', ['netns', 'exec', ns, 'ovs-ofctl', '--names', 'dump-flows', `unix:${join(runDir, `${bridge}.mgmt`)}`]);
  expect(r.code, r.stderr).toBe(0);
  return r.stdout
    .split('\n')
    .filter((l) => match.test(l))
    .reduce((sum, l) => sum + Number(/n_packets=(\d+)/.exec(l)?.[1] ?? 0), 0);
}

export async function ovsGet(ns: string, runDir: string, ...args: string[]): Promise<string> {
  const r = await sh('ip', ['netns', 'exec', ns, 'ovs-vsctl', `--db=unix:${join(runDir, 'db.sock')}`, 'get', ...args]);
  expect(r.code, r.stderr).toBe(0);
  return r.stdout.trim().replace(/^"|"$/g, '');
}

/**
 * One second of iperf3 TCP from `fromNs` to `target`, the server in `serverNs`; `onSpawn` lets a
 * lab record the server's pid. Returns bits per second (> 0) or fails the test.
 */
export async function tcpGbps(fromNs: string, serverNs: string, target: string, onSpawn?: (pid: number) => void): Promise<number> {
  const server = await startServer({ ns: serverNs, port: SERVICE_PORT, onSpawn });
  try {
    const { result } = await runClient({ ns: fromNs, target, port: SERVICE_PORT, seconds: 1, protocol: 'tcp', timeoutMs: 20_000 });
    expect(result, `${fromNs} → ${target}: ${JSON.stringify(result)}`).toMatchObject({ ok: true });
    const bps = result.ok ? result.bitsPerSecond : 0;
    expect(bps).toBeGreaterThan(0);
    return bps / 1e9;
  } finally {
    await server.stop();
  }
}
