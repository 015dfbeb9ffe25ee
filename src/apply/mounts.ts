import { readFileSync } from 'node:fs';
import { sep } from 'node:path';
import { execArgs } from '../util/exec.js';
import type { MountRecord } from './state.js';

/**
 * The lab's own mounts (each host's bpffs): unmounted at teardown, but only when the mount point
 * lies inside the lab's state directory and really holds a filesystem of the recorded type.
 */

/** Mount points and filesystem types from the text of /proc/self/mountinfo. */
export function parseMountinfo(text: string): Array<{ point: string; fstype: string }> {
  const out: Array<{ point: string; fstype: string }> = [];
  for (const line of text.split('\n')) {
    const dash = line.indexOf(' - ');
    if (dash < 0) continue;
    const fields = line.slice(0, dash).split(' ');
    const after = line.slice(dash + 3).split(' ');
    if (fields.length < 5 || !after[0]) continue;
    const point = fields[4].replace(/\\([0-7]{3})/g, (_m, o: string) => String.fromCharCode(parseInt(o, 8)));
    out.push({ point, fstype: after[0] });
  }
  return out;
}

function mounted(m: MountRecord): boolean {
  let text = '';
  try {
    text = readFileSync('/proc/self/mountinfo', 'utf8');
  } catch {
    return false;
  }
  return parseMountinfo(text).some((x) => x.point === m.path && x.fstype === m.fstype);
}

/** Unmount what the lab recorded; returns what is still mounted, as problems. */
export async function unmountLab(stateDir: string, mounts: readonly MountRecord[]): Promise<string[]> {
  const problems: string[] = [];
  for (const m of [...mounts].reverse()) {
    if (!m.path.startsWith(stateDir + sep)) {
      problems.push(`mount ${m.path} is outside the lab's state directory: left alone`);
      continue;
    }
    // Stacked mounts (a retried step) come off one at a time.
    for (let i = 0; i < 4 && mounted(m); i++) {
      const res = await execArgs('umount', [m.path]);
      if (res.code !== 0) {
        problems.push(`umount ${m.path}: ${(res.stderr || `exit ${res.code}`).trim()}`);
        break;
      }
    }
  }
  return problems;
}
