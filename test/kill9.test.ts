import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLI, cli, isRoot, labNamespaces, pidsIn, sh } from './helpers/lab.js';

/**
 * A run killed mid-measurement. SIGKILL cannot be caught: the lab stays, and `cnlab clean` must
 * remove it from the state file alone. SIGINT is caught: cnlab removes the lab itself, exits 130.
 *
 * Every command here runs with a private CNLAB_STATE_ROOT so that `clean` sees only this file's
 * labs — never labs other tests or other users are building in /run/cnlab at the same time.
 */

interface Tracked {
  pid: number;
  role: string;
  ns: string;
}

interface Started {
  child: ChildProcess;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  stderr: () => string;
}

let root: string;
let out: string;
const labs: string[] = [];
const env = () => ({ ...process.env, CNLAB_STATE_ROOT: root });
const stateFile = (lab: string) => join(root, `${lab}.json`);
const stateEntries = (lab: string) => readdirSync(root).filter((e) => e === lab || e.startsWith(`${lab}.json`));
const newLab = (tag: string) => {
  const lab = `k9${tag}${Math.random().toString(36).slice(2, 8)}`;
  labs.push(lab);
  return lab;
};

/** `cnlab run host calico` for one lab (or other cnlab arguments), with the private state root. */
function start(lab: string, args = ['run', 'host', 'calico', '--duration', '5', '--repeats', '3', '--out', join(out, lab)]): Started {
  const child = spawn('node', [CLI, ...args, '--lab', lab], {
    env: env(),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let err = '';
  child.stdout!.resume();
  child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((res) =>
    child.on('exit', (code, signal) => res({ code, signal })),
  );
  return { child, exited, stderr: () => err };
}

/** Poll every `everyMs` (max 60 s) until `probe` returns something. */
async function waitFor<T>(what: string, run: Started, everyMs: number, probe: () => T | undefined): Promise<T> {
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline) {
    if (run.child.exitCode !== null) throw new Error(`cnlab exited early (${run.child.exitCode}): ${run.stderr()}`);
    const found = probe();
    if (found !== undefined) return found;
    await new Promise((r) => setTimeout(r, everyMs));
  }
  throw new Error(`no ${what} within 60 s: ${run.stderr()}`);
}

/** The iperf3 server the lab's state file tracks (polled every 100 ms). */
function waitForServer(lab: string, run: Started): Promise<Tracked> {
  return waitFor('iperf3 server tracked', run, 100, () => {
    try {
      const state = JSON.parse(readFileSync(stateFile(lab), 'utf8')) as { processes: Tracked[] };
      return state.processes.find((p) => p.role === 'iperf3-server');
    } catch {
      return undefined; // not written yet
    }
  });
}

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'cnl-k9-state-'));
  out = await mkdtemp(join(tmpdir(), 'cnl-k9-out-'));
});

afterAll(async () => {
  // Only if a test failed half-way: remove this file's labs (private state root, own names only).
  if (root && readdirSync(root).some((e) => e.endsWith('.json'))) await cli(['clean'], { env: { CNLAB_STATE_ROOT: root } });
  for (const lab of labs) for (const ns of labNamespaces(lab)) await sh('ip', ['netns', 'del', ns]);
  await rm(root, { recursive: true, force: true });
  await rm(out, { recursive: true, force: true });
});

describe.skipIf(!isRoot)('a run killed mid-measurement', () => {
  it('SIGKILL leaves the lab; cnlab clean removes namespaces, processes and the state file', async () => {
    const lab = newLab('k');
    const run = start(lab);
    const server = await waitForServer(lab, run);
    const namespaces = labNamespaces(lab);
    expect(namespaces).toContain(server.ns);
    expect(await pidsIn(namespaces)).toContain(server.pid);

    run.child.kill('SIGKILL');
    expect(await run.exited).toEqual({ code: null, signal: 'SIGKILL' });
    expect(labNamespaces(lab).sort()).toEqual(namespaces.sort());
    expect(existsSync(`/proc/${server.pid}`)).toBe(true);
    expect(existsSync(stateFile(lab))).toBe(true);

    const r = await cli(['clean'], { env: { CNLAB_STATE_ROOT: root } });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(`lab ${lab} removed`);
    expect(labNamespaces(lab)).toEqual([]);
    expect(await pidsIn(namespaces)).toEqual([]);
    expect(existsSync(`/proc/${server.pid}`)).toBe(false);
    expect(stateEntries(lab)).toEqual([]);
  });

  it('SIGINT: cnlab removes everything itself and exits 130', async () => {
    const lab = newLab('i');
    const run = start(lab);
    const server = await waitForServer(lab, run);
    const namespaces = labNamespaces(lab);
    expect(namespaces.length).toBeGreaterThan(0);

    run.child.kill('SIGINT');
    const end = await run.exited;
    expect(end, run.stderr()).toEqual({ code: 130, signal: null });
    expect(run.stderr()).toContain(`SIGINT: removing lab ${lab}`);
    expect(labNamespaces(lab)).toEqual([]);
    expect(await pidsIn(namespaces)).toEqual([]);
    expect(existsSync(`/proc/${server.pid}`)).toBe(false);
    expect(stateEntries(lab)).toEqual([]);
  });

  it('SIGINT while the lab is still being built: nothing is left either', async () => {
    const lab = newLab('b');
    const run = start(lab, ['up', 'calico', '--containers', '40']);
    await waitFor('first namespace', run, 20, () => (labNamespaces(lab).length ? true : undefined));

    run.child.kill('SIGINT');
    expect(await run.exited, run.stderr()).toEqual({ code: 130, signal: null });
    expect(labNamespaces(lab).length, 'namespaces left after SIGINT').toBe(0);
    expect(stateEntries(lab)).toEqual([]);
  });
});
