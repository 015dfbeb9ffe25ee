import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { labStateDir, labStateFile } from '../src/lab/paths.js';
import type { ResultFile } from '../src/result/types.js';
import { cli, createdSince, dfPing, labNamespaces, lines, ping, sh, snapshot, type Snapshot } from './helpers/lab.js';

/**
 * `--cni FILE` through the real CLI: a user's conflist measured by cnlab's own `run`, and each way
 * such a config can be wrong — malformed, a plugin missing, a plugin failing — reported in one
 * line with the right exit code and nothing left behind; and `cnlab plan --cni`'s script run by
 * hand. Labs: cf-bw, cf-up, cf-err, cf-plan.
 */

const FIX = fileURLToPath(new URL('./fixtures/conflists/', import.meta.url));
const LABS = ['cf-bw', 'cf-up', 'cf-err', 'cf-plan'];
const RATE_GBPS = 0.1; // the fixture's ingressRate and egressRate: 100 Mbit/s

let out: string;
let before: Snapshot;

beforeAll(async () => {
  for (const l of LABS) expect(labNamespaces(l), `leftovers of lab ${l}`).toEqual([]);
  out = await mkdtemp(join(tmpdir(), 'cnl-cf-'));
  before = await snapshot();
});

/** The plan script keeps no state file: its namespaces and lab directory are removed by hand. */
async function removePlanByHand(): Promise<string[]> {
  const errors: string[] = [];
  for (const name of labNamespaces('cf-plan')) {
    const r = await sh('ip', ['netns', 'del', name]);
    if (r.code !== 0) errors.push(`${name}: ${r.stderr.trim()}`);
  }
  await rm(labStateDir('cf-plan'), { recursive: true, force: true });
  return errors;
}

afterAll(async () => {
  await removePlanByHand();
  for (const l of LABS) if (existsSync(labStateFile(l))) await cli(['down', l]);
  await rm(out, { recursive: true, force: true });
});

async function expectNothingLeft(lab: string): Promise<void> {
  expect(await createdSince(before, [lab])).toEqual([]);
  expect(labNamespaces(lab)).toEqual([]);
  expect(existsSync(labStateFile(lab))).toBe(false);
  expect(existsSync(labStateDir(lab))).toBe(false);
}

describe('cnlab run --cni: bridge + bandwidth at 100 Mbit/s each way', () => {
  it('measures TCP within 10% of the configured rate, cross-host and same-host', async () => {
    const file = join(out, 'bw');
    const r = await cli(
      [
        'run',
        '--cni',
        join(FIX, 'bridge-bandwidth.conflist'),
        '--cni-peer-routes',
        '--lab',
        'cf-bw',
        '--tests',
        'tcp-1,tcp-4',
        '--repeats',
        '1',
        '--duration',
        '2',
        '--json',
        '--out',
        file,
      ],
      { timeoutMs: 110_000 },
    );
    expect(r.code, r.stderr).toBe(0);
    const result = JSON.parse(readFileSync(join(file, 'result.json'), 'utf8')) as ResultFile;
    expect(result.schemes.map((s) => [s.name, s.status])).toEqual([
      ['host', 'ok'],
      ['bridge-bw', 'ok'],
    ]);
    const gbps = (scheme: string, id: string) => {
      const t = result.schemes.find((s) => s.name === scheme)!.tests.find((x) => x.id === id)!;
      const runs = t.runs.flatMap((run) => (run.ok ? [run.gbps] : []));
      expect(runs, `${scheme} ${id}: ${JSON.stringify(t.runs.map((run) => (run.ok ? run.gbps : run.error)))}`).toHaveLength(1);
      return runs[0];
    };
    for (const id of ['tcp-1/cross', 'tcp-4/cross', 'tcp-1/same', 'tcp-4/same']) {
      const got = gbps('bridge-bw', id);
      expect(got, `${id} measured`).toBeDefined();
      if (got === undefined) continue;
      expect(Math.abs(got - RATE_GBPS) / RATE_GBPS, `${id}: ${(got * 1000).toFixed(1)} Mbit/s against 100`).toBeLessThanOrEqual(0.1);
    }
    // The limit is the plugin's: the same lab's host network is far faster.
    expect(gbps('host', 'tcp-1/cross')).toBeGreaterThan(5 * RATE_GBPS);
    expect(result.schemes[1].notes.join(' ')).toMatch(/user CNI config .*bridge-bandwidth\.conflist/);
    await expectNothingLeft('cf-bw');
  });
});

describe('cnlab up --cni', () => {
  it('without --cni-peer-routes: containers on one host talk, across hosts there is no fabric', async () => {
    const up = await cli(['up', '--cni', join(FIX, 'bridge-bandwidth.conflist'), '--lab', 'cf-up']);
    expect(up.code, up.stderr).toBe(0);
    expect(up.stdout).toContain('lab cf-up is up (bridge-bw)');
    expect(await ping('cnl-cf-up-h1c1', '198.19.1.3')).toBe(true);
    expect(await ping('cnl-cf-up-h1c1', '198.19.2.2')).toBe(false);
    const down = await cli(['down', 'cf-up']);
    expect(down.code, down.stderr).toBe(0);
    await expectNothingLeft('cf-up');
  });
});

describe('a wrong config: one line, the right exit code, nothing left', () => {
  it.each([
    ['malformed (up)', ['up', '--cni', join(FIX, 'malformed.conflist')], 2, /^cnlab: bad CNI config .*malformed\.conflist: not valid JSON/],
    [
      'malformed (run)',
      ['run', '--cni', join(FIX, 'malformed.conflist')],
      2,
      /^cnlab: bad CNI config .*malformed\.conflist: not valid JSON/,
    ],
    [
      'a missing plugin (up)',
      ['up', '--cni', join(FIX, 'missing-plugin.conflist')],
      2,
      /^cnlab: CNI plugin "cnl-no-such-plugin" not found in \S+ \(from .*missing-plugin\.conflist\)/,
    ],
    [
      'a missing plugin (run)',
      ['run', '--cni', join(FIX, 'missing-plugin.conflist')],
      2,
      /^cnlab: CNI plugin "cnl-no-such-plugin" not found in/,
    ],
    [
      'a plugin error (up)',
      ['up', '--cni', join(FIX, 'plugin-error.conflist')],
      1,
      /^cnlab: building lab "cf-err" \(plugin-error\) failed: CNI plugin tuning failed \(code \d+\): open \/proc\/sys\/net\/ipv4\/conf\/eth0\/cnl_no_such_key: no such file or directory; everything it made was removed$/,
    ],
    [
      'a scheme and --cni',
      ['up', 'canal', '--cni', join(FIX, 'bridge-bandwidth.conflist')],
      2,
      /^cnlab: give a scheme or --cni FILE, not both/,
    ],
  ])('%s', async (_, args, code, message) => {
    const r = await cli([...args, '--lab', 'cf-err', ...(args[0] === 'run' ? ['--out', join(out, 'err')] : [])]);
    expect(r.code, r.stderr).toBe(code);
    expect(lines(r.stderr)).toHaveLength(1);
    expect(r.stderr.trim()).toMatch(message);
    expect(existsSync(join(out, 'err'))).toBe(false);
    await expectNothingLeft('cf-err');
  });
});

describe('cnlab plan --cni, run by hand', () => {
  it('builds the same network: the chain on every container, peer routes, MTU 1500', async () => {
    const plan = await cli(['plan', '--cni', join(FIX, 'bridge-bandwidth.conflist'), '--cni-peer-routes', '--lab', 'cf-plan']);
    expect(plan.code, plan.stderr).toBe(0);
    const file = join(out, 'plan.sh');
    await writeFile(file, plan.stdout, { mode: 0o700 });
    const run = await sh('sh', [file], 60_000);
    expect(run.code, `script failed:\n${run.stderr}`).toBe(0);
    expect(labNamespaces('cf-plan').sort()).toEqual(['h1', 'h1c1', 'h1c2', 'h2', 'h2c1'].map((n) => `cnl-cf-plan-${n}`).sort());
    expect(existsSync(labStateFile('cf-plan'))).toBe(false);
    expect(await ping('cnl-cf-plan-h1c1', '198.19.1.3')).toBe(true);
    expect(await dfPing('cnl-cf-plan-h1c1', '198.19.2.2', 1472)).toBe(true);
    expect(await dfPing('cnl-cf-plan-h1c1', '198.19.2.2', 1473)).toBe(false);
    // The bandwidth plugin ran: a tbf qdisc on the host end of h1c1's veth.
    expect((await sh('tc', ['-n', 'cnl-cf-plan-h1', 'qdisc', 'show'])).stdout).toMatch(/qdisc tbf .* rate 100Mbit/);
    expect(await removePlanByHand()).toEqual([]);
    expect(labNamespaces('cf-plan')).toEqual([]);
    expect(existsSync(labStateDir('cf-plan'))).toBe(false);
  });
});
