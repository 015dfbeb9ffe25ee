import { mkdirSync, rmSync } from 'node:fs';
import { RunError } from '../errors.js';
import type { Plan } from '../plan/types.js';
import { toolArgs } from '../plan/argv.js';
import { executorOf, LOCAL } from '../util/executor.js';
import { pool } from '../util/pool.js';
import { checkAbort, critical, holdLab, isAborting, releaseLab } from './cleanup.js';
import { createNamespaces, existingNetns } from './netns.js';
import { makeUnderlay, placeHosts, writeMarkers } from './hosts.js';
import { FANOUT_MIN, ipFanout } from './fanout.js';
import { batchLines, runNamespaceSteps } from './run-steps.js';
import { newState, readState, trackMount, trackProcess, writeState, type HostsRecord, type LabState } from './state.js';
import { teardownState } from './teardown.js';

/**
 * Apply: the only place that changes the kernel's network state. Writes the state file before
 * creating anything, holds the lab for cleanup on SIGINT/SIGTERM, runs the stages, and on failure
 * removes all it made before reporting.
 */

export interface ApplyOptions {
  /** Namespaces configured in parallel within a stage. */
  concurrency?: number;
  onStage?: (title: string, index: number, total: number) => void;
  /** The control plane's handles (sockets, endpoints), recorded in the state file. */
  control?: LabState['control'];
  /** The topology the plan was made from, recorded in the state file (for `cnlab doctor`). */
  topology?: LabState['topology'];
  /**
   * Runs after the last stage; a returned line fails the build like a failed step (everything made
   * is removed). bringUp passes the MTU check (mtu-check.ts).
   */
  verify?: () => Promise<string | null>;
  /** The lab spans these machines over SSH (apply/hosts.ts): their namespaces are placed there. */
  hosts?: HostsRecord;
}

export async function applyPlan(plan: Plan, nodes: Record<string, string>, opts: ApplyOptions = {}): Promise<LabState> {
  checkAbort();
  const existing = readState(plan.lab);
  if (existing) {
    throw new RunError(`lab "${plan.lab}" already exists (scheme ${existing.scheme})`, `remove it with: cnlab down ${plan.lab}`);
  }
  if (opts.hosts) placeHosts(opts.hosts);
  const clash = await existingNetns(plan.namespaces);
  if (clash.length) {
    throw new RunError(
      `namespace ${clash[0]} already exists and is not recorded by cnlab`,
      'pick another --lab name; cnlab never touches namespaces it did not create',
    );
  }
  const state = newState(plan.lab, plan.scheme, plan.namespaces, nodes);
  if (opts.control) state.control = opts.control;
  if (opts.topology) state.topology = opts.topology;
  if (opts.hosts) state.hosts = opts.hosts;
  writeState(state);
  holdLab(state);
  try {
    // With no state file, a directory of this lab's name is a leftover (e.g. IPAM leases from a
    // plan script run by hand): cnlab's own, and stale.
    rmSync(state.stateDir, { recursive: true, force: true });
    mkdirSync(state.stateDir, { recursive: true, mode: 0o700 });
    opts.onStage?.('namespaces', 0, plan.stages.length + 1);
    await critical(writeMarkers(state));
    await critical(createNamespaces(plan.namespaces));
    if (opts.hosts) await critical(makeUnderlay(opts.hosts));
    for (const [i, stage] of plan.stages.entries()) {
      checkAbort();
      opts.onStage?.(stage.title, i + 1, plan.stages.length + 1);
      const byNs = new Map<string, typeof stage.steps>();
      for (const step of stage.steps) byNs.set(step.ns, [...(byNs.get(step.ns) ?? []), step]);
      // Many namespaces with nothing but ip steps (containers, mostly) go through one fan-out.
      const entries = [...byNs.entries()];
      const ipOnly = entries.filter(([ns, steps]) => executorOf(ns) === LOCAL && steps.every((s) => toolArgs(s)?.tool === 'ip'));
      const fanned = new Set(ipOnly.length >= FANOUT_MIN ? ipOnly : []);
      if (fanned.size)
        await critical(
          ipFanout(
            state.stateDir,
            [...fanned].map(([ns, steps]) => ({ ns, lines: batchLines(ns, steps) })),
          ),
        );
      const rest = entries.filter((entry) => !fanned.has(entry));
      await critical(
        pool(rest, opts.concurrency ?? 8, ([ns, steps]) =>
          runNamespaceSteps(ns, steps, {
            onCni: (rec) => {
              if (!state.cni.includes(rec)) state.cni.push(rec);
              writeState(state);
            },
            onSpawn: (pid, step, start) => trackProcess(state, pid, step.ns, step.name, step.argv, start),
            onMount: (step) => trackMount(state, step.ns, step.fstype, step.path),
          }),
        ),
      );
    }
    if (opts.verify) {
      checkAbort();
      opts.onStage?.('checks', plan.stages.length + 1, plan.stages.length + 1);
      const problem = await critical(opts.verify());
      if (problem) throw new Error(problem);
    }
    state.status = 'up';
    writeState(state);
    await writeMarkers(state);
    return state;
  } catch (e) {
    // Interrupted: the signal handler owns the teardown.
    if (isAborting()) throw e;
    state.status = 'failed';
    writeState(state);
    const report = await teardownState(state);
    releaseLab(state);
    const rolled = report.problems.length ? `; rollback problems: ${report.problems.join('; ')}` : '; everything it made was removed';
    throw new RunError(`building lab "${plan.lab}" (${plan.scheme}) failed: ${(e as Error).message}${rolled}`);
  }
}
