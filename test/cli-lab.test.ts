import { existsSync, readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { labStateFile } from '../src/lab/paths.js';
import { cli, labNamespaces, lines } from './helpers/lab.js';

/**
 * The lab lifecycle through the built CLI: up → ls → exec → (a second up refused) → down → down
 * again. Calico with the default topology (2 hosts, 3 containers, 5 namespaces), brought up
 * without --lab: its lab is then named after the scheme.
 */

const LAB = 'calico';
const PEER = '198.19.2.2'; // h2c1

interface LsRow {
  lab: string;
  scheme: string;
  status: string;
  namespaces: string;
}

async function lsRow(): Promise<LsRow | undefined> {
  const r = await cli(['ls', '--json']);
  expect(r.code, r.stderr).toBe(0);
  return (JSON.parse(r.stdout) as LsRow[]).find((row) => row.lab === LAB);
}

const pingPeer = () => cli(['exec', LAB, 'h1c1', '--', 'ping', '-c1', '-W1', PEER]);

beforeAll(() => {
  expect(labNamespaces(LAB), 'leftovers of an earlier run').toEqual([]);
  expect(existsSync(labStateFile(LAB)), `${labStateFile(LAB)} exists before the test`).toBe(false);
});

afterAll(async () => {
  // Only if a test failed before `down`: remove exactly what the state file records.
  if (existsSync(labStateFile(LAB))) await cli(['down', LAB]);
});

describe('cnlab up / ls / exec / down', () => {
  it('up calico (no --lab) builds the lab named after the scheme', async () => {
    const r = await cli(['up', 'calico']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain(`lab ${LAB} is up (calico): 5 namespaces`);
    expect(labNamespaces(LAB)).toHaveLength(5);
  });

  it('ls --json lists it with status up and all its namespaces present', async () => {
    expect(await lsRow()).toMatchObject({ lab: LAB, scheme: 'calico', status: 'up', namespaces: '5/5' });
  });

  it('exec runs a command in a container: h1c1 pings h2c1', async () => {
    const r = await pingPeer();
    expect(r.code, r.stdout + r.stderr).toBe(0);
  });

  it('exec on an unknown node exits 2 with one line', async () => {
    const r = await cli(['exec', LAB, 'nosuchnode', '--', 'true']);
    expect(r.code).toBe(2);
    expect(lines(r.stderr)).toHaveLength(1);
    expect(r.stderr).toContain(`lab ${LAB} has no node "nosuchnode"`);
  });

  it('up with a name that exists fails with exit 1, says to run cnlab down, and changes nothing', async () => {
    const before = readFileSync(labStateFile(LAB), 'utf8');
    const nsBefore = labNamespaces(LAB).sort();
    const r = await cli(['up', 'calico', '--lab', LAB]);
    expect(r.code).toBe(1);
    expect(lines(r.stderr)).toHaveLength(1);
    expect(r.stderr).toContain(`cnlab down ${LAB}`);
    expect(readFileSync(labStateFile(LAB), 'utf8')).toBe(before);
    expect(labNamespaces(LAB).sort()).toEqual(nsBefore);
    const again = await pingPeer();
    expect(again.code, 'the first lab still works').toBe(0);
  });

  it('down removes it: not listed, no namespaces, no state file', async () => {
    const r = await cli(['down', LAB]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain(`lab ${LAB} removed: 5 namespaces`);
    expect(await lsRow()).toBeUndefined();
    expect(labNamespaces(LAB)).toEqual([]);
    expect(existsSync(labStateFile(LAB))).toBe(false);
  });

  it('down again exits 2: no lab named it', async () => {
    const r = await cli(['down', LAB]);
    expect(r.code).toBe(2);
    expect(lines(r.stderr)).toHaveLength(1);
    expect(r.stderr).toContain(`no lab named "${LAB}"`);
  });
});
