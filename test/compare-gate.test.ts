import { copyFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { changeSummary, regressions, significantChanges } from '../src/report/compare-changes.js';
import { compareResults } from '../src/report/compare-data.js';
import { cli } from './helpers/lab.js';
import { synthetic } from './fixtures/results/synthetic.js';

/**
 * `cnlab compare --fail-if-worse PCT` for CI gating, on result files made from the real fixture
 * run with fixed per-run figures: a significantly slower scheme fails the gate, equal runs pass,
 * a change within PCT passes, and comparing a file with itself is warned about.
 */

const dir = mkdtempSync(join(tmpdir(), 'cnlab-compare-gate-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const BASE = { host: [10, 10.1, 9.9], calico: [9, 9.1, 8.9], 'flannel-vxlan': [5, 5.1, 4.9], 'docker-bridge': [3, 3.1, 2.9] };
// calico 33% slower (clearly significant); flannel-vxlan 2% slower (within the noise: not significant).
const SLOWER = { ...BASE, calico: [6, 6.1, 5.9], 'flannel-vxlan': [4.9, 5.0, 4.8] };
// The same figures in another order: nothing changed.
const EQUAL = { host: [10.1, 9.9, 10], calico: [9.1, 8.9, 9], 'flannel-vxlan': [5.1, 4.9, 5], 'docker-bridge': [3.1, 2.9, 3] };

function file(name: string, speeds: typeof BASE): string {
  const f = join(dir, name);
  writeFileSync(f, JSON.stringify(synthetic(speeds)));
  return f;
}

const a = file('a.json', BASE);
const slower = file('slower.json', SLOWER);
const equal = file('equal.json', EQUAL);

describe('compare: what changed', () => {
  const run = (key: string, speeds: typeof BASE) => ({ key, source: key, result: synthetic(speeds) });

  it('lists the significant changes worst first, and the regressions beyond a threshold', () => {
    const c = compareResults([run('A', BASE), run('B', SLOWER)]);
    const s = significantChanges(c);
    expect(s.worse[0]).toMatchObject({ scheme: 'calico', test: 'tcp-1/cross', run: 'B' });
    expect(s.worse[0].worse).toBeCloseTo(-1 / 3, 2);
    expect(
      regressions(c, 5)
        .map((x) => `${x.scheme} ${x.test}`)
        .sort(),
    ).toEqual(['calico tcp-1/cross', 'calico tcp-1/same', 'calico tcp-4/cross', 'calico tcp-4/same']);
    expect(regressions(c, 40)).toEqual([]);
    // flannel-vxlan's −2% is not significant: not a regression at any threshold.
    expect(s.worse.some((x) => x.scheme === 'flannel-vxlan')).toBe(false);
    expect(regressions(c, 0).some((x) => x.scheme === 'flannel-vxlan')).toBe(false);
    expect(changeSummary(c)).toMatch(/^B against A: \d+ significantly worse \(calico tcp-1\/(cross|same) −33%/);
  });

  it('two equal runs: nothing significantly different', () => {
    const c = compareResults([run('A', BASE), run('B', EQUAL)]);
    expect(significantChanges(c).worse).toEqual([]);
    expect(significantChanges(c).better).toEqual([]);
    expect(changeSummary(c)).toMatch(
      /^B against A: nothing significantly worse; nothing significantly better; \d+ not significantly different/,
    );
  });
});

describe('cnlab compare --fail-if-worse (CLI, no root, no lab)', () => {
  it('exits 1 on a file with a significantly slower scheme, naming it', async () => {
    const r = await cli(['compare', a, slower, '--fail-if-worse', '5']);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/B is worse than A by more than 5%: calico tcp-1\/cross −33% \(p [<=] 0\.0\d+\)/);
    expect(r.stderr).not.toMatch(/flannel-vxlan/);
    expect(r.stdout).toMatch(/B against A: \d+ significantly worse/);
    // The CI of each difference has its own column, and loss/retransmit changes theirs.
    expect(r.stdout).toMatch(/B − A, 95% CI/);
    expect(r.stdout.split('\n').find((l) => l.startsWith('│') && l.includes(' calico ') && l.includes('tcp-1/cross'))).toMatch(
      /−3\.\d\d to −2\.\d\d Gbit\/s/,
    );
    expect(r.stdout).toMatch(/loss [+−]\d\.\d\d pp/);
  });

  it('exits 0 on two equal runs, and without the flag whatever changed', async () => {
    const r = await cli(['compare', a, equal, '--fail-if-worse', '5']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect((await cli(['compare', a, slower])).code).toBe(0);
  });

  it('warns when two inputs are the same file (or a byte-identical copy)', async () => {
    const copy = join(dir, 'copy.json');
    copyFileSync(a, copy);
    for (const other of [a, copy]) {
      const r = await cli(['compare', a, other, '--fail-if-worse', '5']);
      expect(r.code).toBe(0);
      expect(r.stderr).toMatch(/warning: B \(.*\) is the same file as A \(.*\): nothing can differ between them/);
    }
  });

  it('rejects a bad threshold with one line, exit 2', async () => {
    for (const bad of ['-3', 'five', '100', '5%']) {
      const r = await cli(['compare', a, equal, '--fail-if-worse', bad]);
      expect(r.code, bad).toBe(2);
      expect(r.stderr).toMatch(/--fail-if-worse must be a percentage from 0 to under 100/);
    }
  });
});
