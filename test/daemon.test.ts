import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { applyPlan } from '../src/apply/apply.js';
import { releaseLab } from '../src/apply/cleanup.js';
import { readState, type LabState } from '../src/apply/state.js';
import { teardownState } from '../src/apply/teardown.js';
import { labStateDir } from '../src/lab/paths.js';
import { nsName } from '../src/lab/types.js';
import type { Plan } from '../src/plan/types.js';
import { renderPlan } from '../src/plan/render.js';
import { isRoot, labNamespaces } from './helpers/lab.js';

/** Daemon and exec steps: started in their namespace, tracked by pid, ready by file, stopped at teardown. */
const LAB = 'it-daemon';
const ns = nsName(LAB, 'h1');
const dir = labStateDir(LAB);
const ready = join(dir, 'd', 'ready');

function plan(readyFile: string, argv: string[]): Plan {
  return {
    lab: LAB,
    scheme: 'test',
    namespaces: [ns],
    stages: [
      { title: 'exec', steps: [{ kind: 'exec', ns, argv: ['ip', 'link', 'set', 'lo', 'up'] }] },
      { title: 'daemon', steps: [{ kind: 'daemon', ns, name: 'sleeper', argv, log: join(dir, 'd', 'log'), readyFile }] },
    ],
  };
}

describe.skipIf(!isRoot)('daemon steps', () => {
  let state: LabState | undefined;
  afterAll(async () => {
    if (state && readState(LAB)) await teardownState(state);
  });

  it('renders as a background command with a wait for its ready file', () => {
    const text = renderPlan(plan(ready, ['sh', '-c', 'touch "$0"; exec sleep 600', ready]));
    expect(text).toContain(`ip netns exec ${ns} sh -c`);
    expect(text).toMatch(/> \S+log 2>&1 &/);
    expect(text).toContain(`while [ ! -e ${ready} ]`);
  });

  it('starts in its namespace, is tracked by pid, and is stopped at teardown', async () => {
    state = await applyPlan(plan(ready, ['sh', '-c', 'touch "$0"; exec sleep 600', ready]), { h1: ns });
    const [proc] = readState(LAB)!.processes;
    expect(proc.role).toBe('sleeper');
    expect(existsSync(`/proc/${proc.pid}`)).toBe(true);
    expect(existsSync(ready)).toBe(true);
    const report = await teardownState(state);
    releaseLab(state);
    expect(report.problems).toEqual([]);
    expect(existsSync(`/proc/${proc.pid}`)).toBe(false);
    expect(labNamespaces(LAB)).toEqual([]);
  });

  it('a daemon that dies before it is ready fails the build, which is rolled back', async () => {
    await expect(applyPlan(plan(join(dir, 'never'), ['sh', '-c', 'echo broken config >&2; exit 3']), { h1: ns })).rejects.toThrow(
      /sleeper: exited \(3\) before it was ready: broken config/,
    );
    expect(labNamespaces(LAB)).toEqual([]);
    expect(readState(LAB)).toBeNull();
  });
});
