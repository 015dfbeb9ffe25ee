import type { LabState } from './state.js';
import { teardownState } from './teardown.js';

/**
 * Cleanup armed on SIGINT and SIGTERM: every lab being built or measured by this process is torn
 * down before it exits (containerlab's rule). A kill -9 cannot be caught: `cnlab clean` covers it
 * from the state files.
 */
const active = new Set<LabState>();
let armed = false;
let running = false;

async function onSignal(sig: NodeJS.Signals): Promise<void> {
  if (running) return;
  running = true;
  const code = sig === 'SIGINT' ? 130 : 143;
  for (const state of active) {
    process.stderr.write(`cnlab: ${sig}: removing lab ${state.lab}…\n`);
    try {
      await teardownState(state);
    } catch (e) {
      process.stderr.write(`cnlab: cleanup of ${state.lab} failed: ${(e as Error).message} — run: cnlab down ${state.lab}\n`);
    }
  }
  process.exit(code);
}

export function armCleanup(): void {
  if (armed) return;
  armed = true;
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
}

export function holdLab(state: LabState): void {
  armCleanup();
  active.add(state);
}

export function releaseLab(state: LabState): void {
  active.delete(state);
}
