import { RunError } from '../errors.js';
import type { LabState } from './state.js';
import { teardownState } from './teardown.js';

/**
 * Cleanup armed on SIGINT, SIGTERM and SIGHUP: every lab being built or measured by this process is
 * torn down before it exits (containerlab's rule). The handler first stops new work (abort flag,
 * checked between stages and test runs) and waits for the step in flight to settle, so nothing
 * is created behind teardown's back. A kill -9 cannot be caught: `cnlab clean` covers it from the
 * state files.
 */
const active = new Set<LabState>();
const inflight = new Set<Promise<unknown>>();
let armed = false;
let aborting = false;

export class Aborted extends RunError {
  constructor() {
    super('interrupted');
  }
}

export function isAborting(): boolean {
  return aborting;
}

/** Throws Aborted once a signal arrived: call between steps that create things. */
export function checkAbort(): void {
  if (aborting) throw new Aborted();
}

/** Marks work that creates kernel objects; the signal handler waits for it before tearing down. */
export async function critical<T>(work: Promise<T>): Promise<T> {
  inflight.add(work);
  try {
    return await work;
  } finally {
    inflight.delete(work);
  }
}

async function onSignal(sig: NodeJS.Signals): Promise<void> {
  if (aborting) return;
  aborting = true;
  const code = 128 + ({ SIGHUP: 1, SIGINT: 2, SIGTERM: 15 } as Record<string, number>)[sig];
  await Promise.allSettled([...inflight]);
  for (const state of [...active]) {
    process.stderr.write(`cnlab: ${sig}: removing lab ${state.lab}…\n`);
    try {
      const report = await teardownState(state);
      if (report.problems.length) process.stderr.write(`cnlab: ${report.problems.join('; ')} — run: cnlab down ${state.lab}\n`);
    } catch (e) {
      process.stderr.write(`cnlab: cleanup of ${state.lab} failed: ${(e as Error).message} — run: cnlab down ${state.lab}\n`);
    }
  }
  process.exit(code);
}

export function armCleanup(): void {
  if (armed) return;
  armed = true;
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.on(sig, onSignal);
}

export function holdLab(state: LabState): void {
  armCleanup();
  active.add(state);
}

export function releaseLab(state: LabState): void {
  active.delete(state);
}
