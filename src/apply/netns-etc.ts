import { mkdirSync, readdirSync, rmdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { writeState, type LabState, type NetnsEtcRecord } from './state.js';

/**
 * Files under /etc/netns/<ns>/, which `ip netns exec <ns>` bind-mounts over /etc/<name> for the
 * program it runs (iproute2's way to give a namespace its own resolv.conf). cnlab writes them only
 * for namespaces the lab created, records each in the state file before writing it, and removes
 * exactly those at teardown (the directories only when empty).
 */

const ROOT = '/etc/netns';

export type NetnsEtcName = NetnsEtcRecord['name'];

const dirOf = (ns: string) => join(ROOT, ns);

/** Writes the given files for one of the lab's namespaces. */
export function writeNetnsEtc(state: LabState, ns: string, files: Partial<Record<NetnsEtcName, string>>): void {
  if (!state.namespaces.includes(ns)) throw new Error(`netns-etc: ${ns} is not a namespace of lab ${state.lab}`);
  let rootMissing = false;
  try {
    readdirSync(ROOT);
  } catch {
    rootMissing = true;
  }
  if (rootMissing && !state.netnsEtcRoot) state.netnsEtcRoot = true;
  for (const name of Object.keys(files) as NetnsEtcName[]) {
    if (!state.netnsEtc.some((r) => r.ns === ns && r.name === name)) state.netnsEtc.push({ ns, name });
  }
  writeState(state);
  mkdirSync(dirOf(ns), { recursive: true, mode: 0o755 });
  for (const [name, text] of Object.entries(files)) writeFileSync(join(dirOf(ns), name), text, { mode: 0o644 });
}

function rmdirIfEmpty(dir: string): void {
  try {
    rmdirSync(dir);
  } catch {
    /* not empty (someone else's files) or already gone: left alone */
  }
}

/** Removes the recorded files (of one namespace, or all) and their directories when empty; returns problems. */
export function removeNetnsEtc(state: LabState, ns?: string): string[] {
  const problems: string[] = [];
  const mine = new Set(state.namespaces);
  const chosen = state.netnsEtc.filter((r) => ns === undefined || r.ns === ns);
  if (!chosen.length && !state.netnsEtcRoot) return problems;
  const kept = state.netnsEtc.filter((r) => !chosen.includes(r));
  for (const r of chosen) {
    const file = join(dirOf(r.ns), r.name);
    if (!mine.has(r.ns)) {
      problems.push(`${file} is not for a namespace of lab ${state.lab}: left alone`);
      continue;
    }
    try {
      rmSync(file, { force: true });
    } catch (e) {
      problems.push(`removing ${file}: ${(e as Error).message}`);
      kept.push(r);
    }
  }
  for (const dir of new Set(chosen.filter((r) => mine.has(r.ns)).map((r) => dirOf(r.ns)))) rmdirIfEmpty(dir);
  state.netnsEtc = kept;
  if (!state.netnsEtc.length && state.netnsEtcRoot) {
    rmdirIfEmpty(ROOT);
    delete state.netnsEtcRoot;
  }
  writeState(state);
  return problems;
}
