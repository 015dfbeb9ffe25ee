import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { cli, isRoot, labNamespaces } from './helpers/lab.js';

/** `cnlab run` ends with the same reports as `cnlab report`, beside its result file (real lab). */

const LAB = 'rptrun';
const dir = mkdtempSync(join(tmpdir(), 'cnlab-report-run-'));

afterAll(async () => {
  if (labNamespaces(LAB).length) await cli(['down', LAB]);
  rmSync(dir, { recursive: true, force: true });
});

describe.skipIf(!isRoot)('cnlab run writes the reports', () => {
  it('report.html, report.md and the CSVs beside result.json, the HTML path printed', async () => {
    const out = join(dir, 'run');
    const r = await cli(['run', 'host', '--lab', LAB, '--repeats', '2', '--duration', '1', '--no-same-host', '--out', out], {
      timeoutMs: 300_000,
    });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain(`report: ${join(out, 'report.html')}\n`);
    expect(readdirSync(out)).toEqual(expect.arrayContaining(['result.json', 'report.html', 'report.md', 'summary.csv', 'runs.csv']));
    const html = readFileSync(join(out, 'report.html'), 'utf8');
    expect(html).toContain(`lab <b>${LAB}</b>`);
    expect(html).toContain('data-chart="throughput-cross"');
    // The same bytes as `cnlab report` makes from the result file alone.
    const again = join(dir, 'again');
    const rep = await cli(['report', join(out, 'result.json'), '--out', again]);
    expect(rep.code).toBe(0);
    expect(readFileSync(join(again, 'report.md'), 'utf8')).toBe(readFileSync(join(out, 'report.md'), 'utf8'));
    expect(existsSync(join(again, 'report.html'))).toBe(true);
    expect(labNamespaces(LAB)).toEqual([]);
  });
});
