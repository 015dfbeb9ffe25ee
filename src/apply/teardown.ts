import { cniDir } from '../caps/detect.js';
import { cniDel, stepInvocation } from '../cni/runtime.js';
import { pool } from '../util/pool.js';
import { unmountLab } from './mounts.js';
import { removeNetnsEtc } from './netns-etc.js';
import { byExecutor, executorOf, LOCAL } from '../util/executor.js';
import { placeHosts, releaseHosts, removeHostFiles } from './hosts.js';
import { deleteNamespaces, existingNetns, killRemoteStrays, netnsExists, netnsPids } from './netns.js';
import { processStartTime, readState, removeState, writeState, type LabState, type TrackedProcess } from './state.js';

/**
 * Removes exactly what a lab's state file names: its tracked processes (pid and start time must
 * both match), anything still running inside its own namespaces, its CNI attachments (DEL), its
 * namespaces, and its state. Works from the state file alone.
 */

export interface TeardownReport {
  lab: string;
  namespaces: number;
  processes: number;
  /** What is left behind: the lab is not fully removed. */
  problems: string[];
  /** What went wrong on the way without leaving anything behind (e.g. a CNI DEL that failed). */
  warnings: string[];
}

function alive(p: TrackedProcess): boolean {
  const st = processStartTime(p.pid);
  return st !== null && st === p.startTime;
}

async function waitGone(pids: number[], ms: number): Promise<number[]> {
  const deadline = Date.now() + ms;
  let left = pids;
  while (left.length && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 20));
    left = left.filter((pid) => processStartTime(pid) !== null);
  }
  return left;
}

function signal(pid: number, sig: NodeJS.Signals): void {
  try {
    process.kill(pid, sig);
  } catch {
    /* already gone */
  }
}

export async function stopProcesses(procs: TrackedProcess[]): Promise<number> {
  const live = procs.filter(alive).map((p) => p.pid);
  live.forEach((pid) => signal(pid, 'SIGTERM'));
  const stubborn = await waitGone(live, 2000);
  stubborn.forEach((pid) => signal(pid, 'SIGKILL'));
  await waitGone(stubborn, 2000);
  return live.length;
}

export async function teardownState(state: LabState): Promise<TeardownReport> {
  const problems: string[] = [];
  const warnings: string[] = [];
  state.status = 'tearing-down';
  writeState(state);
  if (state.hosts) placeHosts(state.hosts);
  const local = state.namespaces.filter((ns) => executorOf(ns) === LOCAL);
  let stopped = await stopProcesses(state.processes.filter((p) => executorOf(p.ns) === LOCAL));
  // Anything else living in the lab's own namespaces (a process cnlab started but was killed
  // before recording, or a shell from `cnlab exec`) would keep the namespace alive.
  const mine = new Set(state.namespaces);
  const strays = netnsPids(local);
  strays.forEach((pid) => signal(pid, 'SIGKILL'));
  stopped += strays.length;
  await waitGone(strays, 2000);
  // On a remote machine: its servers and anything else in the lab's namespaces there.
  for (const [ex, group] of byExecutor(state.namespaces)) {
    if (ex === LOCAL) continue;
    stopped += await killRemoteStrays(ex, group).catch((e: Error) => {
      problems.push(e.message);
      return 0;
    });
  }

  // CNI DEL, host by host in parallel, each host's attachments in reverse order.
  const byHost = new Map<string, typeof state.cni>();
  for (const rec of state.cni) byHost.set(rec.step.ns, [...(byHost.get(rec.step.ns) ?? []), rec]);
  await pool([...byHost.values()], 4, async (recs) => {
    for (const rec of [...recs].reverse()) {
      const ex = executorOf(rec.step.ns);
      if (!mine.has(rec.step.ns) || (ex === LOCAL && !netnsExists(rec.step.ns))) continue;
      try {
        await cniDel({ ...stepInvocation(rec.step, ex === LOCAL ? cniDir() : undefined), prevResult: rec.result, executor: ex });
      } catch (e) {
        warnings.push(`CNI DEL ${rec.step.containerId}: ${(e as Error).message}`);
      }
    }
  });

  const err = await deleteNamespaces(state.namespaces);
  if (err) problems.push(`deleting namespaces: ${err}`);
  const left: string[] = [];
  for (const [ex, group] of byExecutor(state.namespaces)) {
    try {
      left.push(...(await existingNetns(group)));
    } catch {
      // Unreachable: what it holds is unknown, so it counts as left (the state file stays for `cnlab clean`).
      left.push(...group);
      if (!err?.includes(`on ${ex.host}`)) problems.push(`host ${ex.host} unreachable`);
    }
  }
  if (left.length) problems.push(`namespaces still present: ${left.join(', ')}`);
  if (state.hosts) {
    // Each host whose namespaces are all gone loses the lab's files and marker; a host still
    // holding some (unreachable) keeps them, and the state file stays for `cnlab clean`.
    problems.push(...(await removeHostFiles(state.hosts, state.stateDir, new Set(left))));
    await releaseHosts(state.hosts);
  }
  // After the namespaces (and every process that could hold a copy of a mount) are gone.
  const mountProblems = await unmountLab(state.stateDir, state.mounts ?? []);
  problems.push(...mountProblems);
  const etcProblems = removeNetnsEtc(state);
  problems.push(...etcProblems);
  if (!left.length && !mountProblems.length && !etcProblems.length) removeState(state.lab);
  return { lab: state.lab, namespaces: state.namespaces.length - left.length, processes: stopped, problems, warnings };
}

/** `cnlab down LAB`: null when there is no such lab. */
export async function downLab(lab: string): Promise<TeardownReport | null> {
  const state = readState(lab);
  return state ? teardownState(state) : null;
}
