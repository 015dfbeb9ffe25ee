import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { labStateDir, labStateFile } from '../src/lab/paths.js';
import { cli, dfPing, labNamespaces, pidsIn, ping, sh } from './helpers/lab.js';

/**
 * `cnlab plan` for docker-overlay, canal and calico-vxlan is a script a person can run: run with
 * sh in fresh namespaces it builds a network where containers reach each other across hosts and
 * on one host, with a 1450-byte path MTU; `cnlab doctor LAB --scheme S` checks it without a state
 * file (healthy, then forwarding off on h1 named). cnlab keeps no record of it, so the test removes it by
 * hand: every cnl-<lab>-* namespace (this file owns the labs ovl-pdo, ovl-pca, ovl-pcv).
 */

const CASES = [
  // scheme, lab, namespaces beyond the default five (canal's ctl holds etcd), h2c1's and h1c2's address
  ['docker-overlay', 'ovl-pdo', ['h1ov', 'h2ov'], '198.19.255.4', '198.19.255.3'],
  ['canal', 'ovl-pca', ['ctl'], '198.19.2.2', '198.19.1.3'],
  ['calico-vxlan', 'ovl-pcv', [], '198.19.2.2', '198.19.1.3'],
] as const;
const MTU = 1450;

let dir: string;

async function removeByHand(lab: string): Promise<string[]> {
  const errors: string[] = [];
  // What the script started (calico-vxlan's BIRD), as its header says: by pid, namespace by namespace.
  for (const pid of await pidsIn(labNamespaces(lab))) await sh('kill', [String(pid)]);
  for (const name of labNamespaces(lab)) {
    const r = await sh('ip', ['netns', 'del', name]);
    if (r.code !== 0) errors.push(`${name}: ${r.stderr.trim()}`);
  }
  await rm(labStateDir(lab), { recursive: true, force: true });
  return errors;
}

beforeAll(async () => {
  for (const [, lab] of CASES) expect(labNamespaces(lab), `leftovers of lab ${lab}`).toEqual([]);
  dir = await mkdtemp(join(tmpdir(), 'cnl-ovl-plan-'));
});

afterAll(async () => {
  for (const [, lab] of CASES) await removeByHand(lab);
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe.each(CASES)('cnlab plan %s, run by hand', (scheme, lab, extra, peer, neighbour) => {
  const ns = (node: string) => `cnl-${lab}-${node}`;

  it('runs with sh and builds every namespace, without a state file', async () => {
    const plan = await cli(['plan', scheme, '--lab', lab]);
    expect(plan.code, plan.stderr).toBe(0);
    const file = join(dir, `${scheme}.sh`);
    await writeFile(file, plan.stdout, { mode: 0o700 });
    const run = await sh('sh', [file], 60_000);
    expect(run.code, `script failed:\n${run.stderr}`).toBe(0);
    expect(labNamespaces(lab).sort()).toEqual(['h1', 'h1c1', 'h1c2', 'h2', 'h2c1', ...extra].map(ns).sort());
    expect(existsSync(labStateFile(lab))).toBe(false);
  });

  it('a container reaches the container on the other host and its neighbour on its own host', async () => {
    expect(await ping(ns('h1c1'), peer), `h1c1 → ${peer}`).toBe(true);
    expect(await ping(ns('h1c1'), neighbour), `h1c1 → ${neighbour}`).toBe(true);
  });

  it('cnlab doctor, given the scheme name, finds the hand-built lab healthy and matching the plan', async () => {
    const doctor = await cli(['doctor', lab, '--scheme', scheme]);
    expect(doctor.code, doctor.stdout + doctor.stderr).toBe(0);
    expect(doctor.stdout).toContain('healthy');
    const diff = await cli(['doctor', '--plan-diff', lab, '--scheme', scheme]);
    expect(diff.code, diff.stdout + diff.stderr).toBe(0);
    expect(diff.stdout).toContain('the kernel matches the plan');
    // Break it: forwarding off on h1. Doctor must see it on a lab it has no state file for.
    await sh('ip', ['netns', 'exec', ns('h1'), 'sysctl', '-qw', 'net.ipv4.ip_forward=0']);
    const broken = await cli(['doctor', lab, '--scheme', scheme]);
    await sh('ip', ['netns', 'exec', ns('h1'), 'sysctl', '-qw', 'net.ipv4.ip_forward=1']);
    expect(broken.code, broken.stdout).toBe(1);
    expect(broken.stdout).toMatch(/ip_forward/);
  });

  it(`the path MTU across hosts is ${MTU}`, async () => {
    expect(await dfPing(ns('h1c1'), peer, MTU - 28)).toBe(true);
    expect(await dfPing(ns('h1c1'), peer, MTU - 27)).toBe(false);
  });

  it('removing the namespaces by hand leaves nothing', async () => {
    expect(await removeByHand(lab)).toEqual([]);
    expect(labNamespaces(lab)).toEqual([]);
    expect(existsSync(labStateDir(lab))).toBe(false);
  });
});
