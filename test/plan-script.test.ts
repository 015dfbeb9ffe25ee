import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { labStateDir, labStateFile } from '../src/lab/paths.js';
import { cli, dfPing, labNamespaces, pidGone, pidsIn, ping, sh } from './helpers/lab.js';

/**
 * `cnlab plan flannel-vxlan` is a script a person can run: run by hand with sh it builds the
 * same working network (cross-host ping, 1450-byte path MTU), etcd and the flannel agents included. cnlab keeps no record of it, so the
 * test removes it by hand: every cnl-it-plan-* namespace (this file owns the name) and the
 * host-local IPAM directory the script's CNI calls created under /run/cnlab/it-plan/.
 */

const LAB = 'it-plan';
const ns = (node: string) => `cnl-${LAB}-${node}`;
const PEER = '198.19.2.2'; // h2c1
const MTU = 1450; // 1500 underlay - 50 VXLAN overhead

let dir: string;

/** Remove what the script made; returns the error output of any `ip netns del` that failed. */
async function removeByHand(): Promise<string[]> {
  const errors: string[] = [];
  // What the script started (etcd, the flannel agents), as its header says: by pid, in the lab's namespaces.
  const pids = await pidsIn(labNamespaces(LAB));
  for (const pid of pids) await sh('kill', [String(pid)]);
  for (let i = 0; i < 100 && pids.some((p) => !pidGone(p)); i++) await new Promise((r) => setTimeout(r, 20));
  for (const name of labNamespaces(LAB)) {
    const r = await sh('ip', ['netns', 'del', name]);
    if (r.code !== 0) errors.push(`${name}: ${r.stderr.trim()}`);
  }
  await rm(labStateDir(LAB), { recursive: true, force: true });
  return errors;
}

beforeAll(async () => {
  expect(labNamespaces(LAB), 'leftovers of an earlier run').toEqual([]);
  expect(existsSync(labStateDir(LAB)), `${labStateDir(LAB)} exists before the test`).toBe(false);
  dir = await mkdtemp(join(tmpdir(), 'cnl-it-plan-'));
});

afterAll(async () => {
  await removeByHand();
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('cnlab plan flannel-vxlan, run by hand', () => {
  it('runs with sh and builds every namespace', async () => {
    const plan = await cli(['plan', 'flannel-vxlan', '--lab', LAB]);
    expect(plan.code, plan.stderr).toBe(0);
    expect(plan.stdout.startsWith('#!/bin/sh\n')).toBe(true);
    const file = join(dir, 'plan.sh');
    await writeFile(file, plan.stdout, { mode: 0o700 });
    const run = await sh('sh', [file], 60_000);
    expect(run.code, `script failed:\n${run.stderr}`).toBe(0);
    expect(labNamespaces(LAB).sort()).toEqual(['ctl', 'h1', 'h1c1', 'h1c2', 'h2', 'h2c1'].map(ns).sort());
    // The script is not a lab: no state file.
    expect(existsSync(labStateFile(LAB))).toBe(false);
  });

  it('a container on host 1 pings the container on host 2', async () => {
    expect(await ping(ns('h1c1'), PEER)).toBe(true);
  });

  it(`the path MTU is ${MTU}: DF ping of ${MTU - 28} bytes passes, ${MTU - 27} does not`, async () => {
    expect(await dfPing(ns('h1c1'), PEER, MTU - 28)).toBe(true);
    expect(await dfPing(ns('h1c1'), PEER, MTU - 27)).toBe(false);
  });

  it('removing the namespaces and the IPAM directory by hand leaves nothing', async () => {
    expect(existsSync(join(labStateDir(LAB), 'ipam')), 'host-local kept its state in the lab directory').toBe(true);
    expect(await removeByHand()).toEqual([]);
    expect(labNamespaces(LAB)).toEqual([]);
    expect(existsSync(labStateDir(LAB))).toBe(false);
  });
});
