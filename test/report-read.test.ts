import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { InputError } from '../src/errors.js';
import type { ResultFile } from '../src/result/types.js';
import { readResult, toResult } from '../src/result/read.js';
import { RESULT_VERSION } from '../src/result/types.js';
import { stepShell } from '../src/plan/render.js';
import type { Step } from '../src/plan/types.js';
import { shJoin } from '../src/util/shell.js';
import { cli } from './helpers/lab.js';
import { REAL_FILE, real, synthetic } from './fixtures/results/synthetic.js';

const dir = mkdtempSync(join(tmpdir(), 'cnlab-report-read-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function file(name: string, text: string): string {
  const f = join(dir, name);
  writeFileSync(f, text);
  return f;
}

function inputError(f: () => unknown): string {
  try {
    f();
  } catch (e) {
    expect(e).toBeInstanceOf(InputError);
    const msg = (e as Error).message;
    expect(msg).not.toContain('\n');
    return msg;
  }
  throw new Error('expected an InputError');
}

describe('readResult', () => {
  it('reads a real result file unchanged, keeping fields it does not know', () => {
    const raw = JSON.parse(readFileSync(REAL_FILE, 'utf8'));
    raw.schemes[0].futureField = { sweep: [1, 2, 3] };
    const r = toResult(raw, 'x.json');
    expect(r.schemes.map((s) => s.name)).toEqual(['host', 'calico', 'flannel-vxlan', 'docker-bridge']);
    expect((r.schemes[0] as unknown as Record<string, unknown>).futureField).toEqual({ sweep: [1, 2, 3] });
    // Everything as written but the version, the plans (version 1 stored argv steps) and the figures
    // derived from the raw runs (derived again on upgrade); the raw runs stay as they are.
    const plain = JSON.parse(readFileSync(REAL_FILE, 'utf8')) as ResultFile;
    const read = readResult(REAL_FILE);
    expect(read.version).toBe(RESULT_VERSION);
    const strip = (f: ResultFile) => ({
      ...f,
      version: 0,
      comparisons: undefined,
      schemes: f.schemes.map((s) => ({ ...s, plan: undefined, tests: s.tests.map((t) => t.runs.map((x) => x.raw)) })),
    });
    expect(strip(read)).toEqual(strip(plain));
  });

  it('version 1 plans (argv steps) become typed steps that render the same commands', () => {
    const plain = JSON.parse(readFileSync(REAL_FILE, 'utf8'));
    expect(plain.version).toBe(1);
    const read = readResult(REAL_FILE);
    for (const [i, s] of read.schemes.entries()) {
      if (!s.plan) continue;
      const old = (plain.schemes[i].plan.stages as Array<{ steps: Array<Record<string, unknown> & { kind: string; ns: string }> }>).flatMap(
        (st) => st.steps,
      );
      const typed = s.plan.stages.flatMap((st) => st.steps);
      expect(typed.some((st) => (st.kind as string) === 'ip' || (st.kind as string) === 'bridge' || (st.kind as string) === 'tc')).toBe(
        false,
      );
      // The old plan's command lines, as the version-1 script printed them.
      const oldLines = old.flatMap((st) =>
        Array.isArray(st.args)
          ? [shJoin([st.kind, '-n', st.ns, ...(st.args as string[])])]
          : stepShell(st as unknown as Step, '/usr/lib/cni'),
      );
      expect(typed.flatMap((st) => stepShell(st, '/usr/lib/cni'))).toEqual(oldLines);
    }
    const vx = read.schemes
      .find((s) => s.name === 'flannel-vxlan')!
      .plan!.stages.flatMap((st) => st.steps)
      .find((st) => st.kind === 'link' && st.type === 'vxlan');
    expect(vx).toMatchObject({ kind: 'link', name: 'flannel.1', vxlan: { id: 1, dstport: 8472, learning: false } });
    const nat = read.schemes
      .find((s) => s.name === 'docker-bridge')!
      .plan!.stages.flatMap((st) => st.steps)
      .find((st) => st.kind === 'nft');
    expect(nat).toMatchObject({ nat: { snat: true, dnat: true } });
  });

  it('version 1 figures are derived again from the raw runs: the median gets its own interval', () => {
    // A version-1 file is upgraded: the raw runs stay as they are, every derived figure is derived again.
    const upgraded = readResult(REAL_FILE);
    const before = JSON.parse(readFileSync(REAL_FILE, 'utf8')) as ResultFile;
    expect(before.version).toBe(1);
    expect(upgraded.version).toBe(RESULT_VERSION);
    expect(upgraded.schemes.map((s) => s.tests.map((t) => t.runs.map((x) => x.raw)))).toEqual(
      before.schemes.map((s) => s.tests.map((t) => t.runs.map((x) => x.raw))),
    );
    const g = upgraded.schemes[0].tests[0].summary!.gbps;
    expect(g.median).toBe(before.schemes[0].tests[0].summary!.gbps.median);
    expect(g.medianCi[0]).toBeLessThanOrEqual(g.median);
    expect(g.medianCi[1]).toBeGreaterThanOrEqual(g.median);
  });

  it('a truncated file is one clear line', () => {
    const text = readFileSync(REAL_FILE, 'utf8');
    const f = file('truncated.json', text.slice(0, Math.floor(text.length / 2)));
    expect(inputError(() => readResult(f))).toMatch(/truncated\.json is not valid JSON \(truncated or damaged\?\)/);
  });

  it.each([
    ['empty', '', /is empty/],
    ['not an object', '[1,2]', /is not a cnlab result file \(not a JSON object\)/],
    ['another format', '{"format":"flent","version":1}', /is not a cnlab result file \(format is "flent", expected "cnlab-result"\)/],
    ['no version', '{"format":"cnlab-result"}', /has no valid result version/],
    [
      'an older version',
      '{"format":"cnlab-result","version":0}',
      new RegExp(`result version 0, which this cnlab cannot read \\(it reads versions 1–${RESULT_VERSION}\\) — re-run`),
    ],
    [
      'a newer version',
      `{"format":"cnlab-result","version":${RESULT_VERSION + 1}}`,
      new RegExp(`result version ${RESULT_VERSION + 1}, newer than this cnlab reads \\(version ${RESULT_VERSION}\\)`),
    ],
  ])('%s: says what is wrong', (name, text, want) => {
    const f = file(`${name.replace(/ /g, '-')}.json`, text);
    inputError(() => readResult(f));
    const e = readErr(f) as InputError;
    expect(`${e.message} — ${e.hint ?? ''}`).toMatch(want);
  });

  it('a file that fails the schema names the field', () => {
    const r = real() as unknown as { schemes: Array<Record<string, unknown>> };
    r.schemes[2].status = 'great';
    delete r.schemes[1].tests;
    const msg = inputError(() => toResult(r, 'bad.json'));
    expect(msg).toMatch(/^bad\.json is not a valid result file: /);
    expect(msg).toContain('schemes[1].tests: Required');
    expect(msg).toContain("schemes[2].status: Invalid enum value. Expected 'ok' | 'unsupported' | 'failed', received 'great'");
  });

  it('a missing file', () => {
    expect(inputError(() => readResult(join(dir, 'nope.json')))).toBe(`no such result file: ${join(dir, 'nope.json')}`);
  });
});

function readErr(f: string): unknown {
  try {
    readResult(f);
  } catch (e) {
    return e;
  }
  return undefined;
}

describe('cnlab report / compare (CLI, no root, no lab)', () => {
  it('report writes every report beside the result file or into --out', async () => {
    const out = join(dir, 'out');
    const r = await cli(['report', REAL_FILE, '--out', out]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const names = readdirSync(out).sort();
    // The page links result.json beside it, so --out elsewhere gets a copy.
    expect(names).toEqual(['report.html', 'report.md', 'result.json', 'runs.csv', 'summary.csv']);
    expect(r.stdout.trim().split('\n')).toEqual([
      join(out, 'report.html'),
      join(out, 'report.md'),
      join(out, 'summary.csv'),
      join(out, 'runs.csv'),
      join(out, 'result.json'),
    ]);
    const copy = join(dir, 'beside', 'result.json');
    mkdirSync(join(dir, 'beside'));
    writeFileSync(copy, readFileSync(REAL_FILE));
    const r2 = await cli(['report', copy]);
    expect(r2.code).toBe(0);
    expect(readdirSync(join(dir, 'beside')).sort()).toEqual(['report.html', 'report.md', 'result.json', 'runs.csv', 'summary.csv']);
  });

  it('a truncated file: one line on stderr, exit 2, nothing written', async () => {
    const text = readFileSync(REAL_FILE, 'utf8');
    const f = file('cut.json', text.slice(0, 5000));
    const out = join(dir, 'cut-out');
    const r = await cli(['report', f, '--out', out]);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(/^cnlab: .*cut\.json is not valid JSON \(truncated or damaged\?\)/);
    expect(existsSync(out)).toBe(false);
  });

  it('a newer result version: exit 2 and which version it needs', async () => {
    const f = file('v99.json', JSON.stringify({ ...real(), version: 99 }));
    const r = await cli(['report', f]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/result version 99, newer than this cnlab reads \(version \d+\) — upgrade cnlab/);
  });

  it('compare: deltas with significance, differing environments flagged, HTML/Markdown/CSV', async () => {
    const a = file(
      'a.json',
      JSON.stringify(
        synthetic({ host: [10, 10.1, 9.9], calico: [9, 9.1, 8.9], 'flannel-vxlan': [5, 5.1, 4.9], 'docker-bridge': [3, 3.1, 2.9] }),
      ),
    );
    const bRes = synthetic({
      host: [10, 10.1, 9.9],
      calico: [6, 6.1, 5.9],
      'flannel-vxlan': [5, 5.2, 4.8],
      'docker-bridge': [3, 3.1, 2.9],
    });
    bRes.environment.kernel = '6.1.0-99-amd64';
    (bRes.options as unknown as Record<string, unknown>).offloads = 'off';
    const b = file('b.json', JSON.stringify(bRes));
    const out = join(dir, 'cmp');
    const r = await cli(['compare', a, b, '--out', out]);
    expect(r.code).toBe(0);
    const row = (scheme: string, test: string) =>
      r.stdout.split('\n').find((l) => l.startsWith('│') && l.includes(` ${scheme} `) && l.includes(test))!;
    expect(row('calico', 'tcp-1/cross')).toMatch(/−33% \(CI −3\d% to −3\d%, p [<=] 0\.0\d+\)/);
    expect(row('flannel-vxlan', 'tcp-1/cross')).toMatch(/≈ \+0% \(n\.s\., p = \d\.\d\d\)/);
    expect(r.stdout).toMatch(/environments differ/);
    expect(r.stdout).toMatch(/kernel: A 6\.18\.44-fc-v669 \| B 6\.1\.0-99-amd64/);
    expect(r.stdout).toMatch(/knob offloads: A \(none\) \| B "off"/);
    expect(readdirSync(out).sort()).toEqual(['compare.csv', 'compare.html', 'compare.md']);
    expect(readFileSync(join(out, 'compare.md'), 'utf8')).toMatch(/> \*\*Environments differ\*\*/);
    const csv = readFileSync(join(out, 'compare.csv'), 'utf8').split('\r\n');
    expect(csv[0]).toMatch(/^scheme,test,run,source,gbps_median/);
    expect(csv.find((l) => l.startsWith('calico,tcp-1/cross,B,b,6,'))).toMatch(/,true,/);
    const same = await cli(['compare', a, a, '--markdown']);
    expect(same.code).toBe(0);
    expect(same.stdout).toMatch(/Environments match/);
    const one = await cli(['compare', a]);
    expect(one.code).toBe(2);
    expect(one.stderr).toMatch(/compare needs at least two result files/);
  });
});
