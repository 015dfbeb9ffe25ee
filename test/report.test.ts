import { beforeEach, describe, expect, it } from 'vitest';
import { deriveAll } from '../src/result/derive.js';
import { ratio, summarize } from '../src/stats/stats.js';
import { summarizeResult } from '../src/report/summary.js';
import { renderTable } from '../src/report/table.js';
import type { ResultFile } from '../src/result/types.js';
import { REFUSED, resultFixture } from './fixtures/report/result.js';
import { defaultRun } from './fixtures/results/synthetic.js';

let result: ResultFile;
beforeEach(() => {
  result = resultFixture();
  deriveAll(result);
});

const testOf = (scheme: string, id: string) => result.schemes.find((s) => s.name === scheme)!.tests.find((t) => t.id === id)!;
const lineOf = (scheme: string, id: string) =>
  summarizeResult(result)
    .find((s) => s.name === scheme)!
    .tests.find((t) => t.id === id)!;

/** The table's rows as trimmed cells (lines that start with a vertical border). */
function rows(table: string): string[][] {
  return table
    .split('\n')
    .filter((l) => l.startsWith('│'))
    .map((l) =>
      l
        .split('│')
        .slice(1, -1)
        .map((c) => c.trim()),
    );
}

describe('deriveAll', () => {
  it('summarises only the runs that succeeded', () => {
    expect(testOf('host', 'tcp-1/cross').summary?.gbps).toEqual(summarize([10, 12, 11]));
    expect(testOf('calico', 'tcp-1/cross').summary?.gbps).toMatchObject({ n: 2, median: 5.5, min: 5, max: 6 });
    expect(testOf('calico', 'udp/cross').summary?.lossPercent?.median).toBe(2);
    expect(testOf('host', 'tcp-1/cross').summary?.cpuSecondsPerGbit?.median).toBeCloseTo(0.2, 12);
  });

  it.each([
    ['host', 'tcp-1/cross', 1],
    ['host', 'tcp-4/cross', 1],
    ['calico', 'tcp-1/cross', 0.5],
    ['calico', 'udp/cross', 0.9],
  ])('%s %s is %f of the host', (scheme, id, want) => {
    const t = testOf(scheme, id);
    expect(t.vsHost?.value).toBeCloseTo(want, 12);
    expect(t.vsHost).toEqual(ratio(t.summary!.gbps, testOf('host', id).summary!.gbps));
    expect(t.vsHost!.ci95[0]).toBeLessThanOrEqual(want + 1e-12);
    expect(t.vsHost!.ci95[1]).toBeGreaterThanOrEqual(want - 1e-12);
  });

  it.each([
    ['every run failed', 'tcp-4/cross'],
    ['the host has no such test', 'tcp-1/same'],
  ])('no ratio when %s', (_, id) => expect(testOf('calico', id).vsHost).toBeUndefined());

  it('no summary when every run failed', () => expect(testOf('calico', 'tcp-4/cross').summary).toBeUndefined());

  it('no ratios at all when the host baseline is not ok', () => {
    const r = resultFixture();
    r.schemes[0].status = 'failed';
    deriveAll(r);
    expect(r.schemes.flatMap((s) => s.tests).filter((t) => t.vsHost !== undefined)).toEqual([]);
    expect(r.schemes[3].tests[0].summary?.gbps.median).toBe(5.5);
  });

  it('is idempotent', () => {
    const once = structuredClone(result);
    deriveAll(result);
    expect(result).toEqual(once);
  });
});

describe('summarizeResult', () => {
  it('counts the failed run and keeps its error once', () => {
    expect(lineOf('calico', 'tcp-1/cross')).toMatchObject({ runs: 3, failedRuns: 1, errors: [REFUSED], gbps: 5.5, vsHost: 0.5 });
    expect(lineOf('calico', 'tcp-4/cross')).toMatchObject({ runs: 3, failedRuns: 3, errors: [REFUSED], gbps: undefined });
    expect(lineOf('host', 'tcp-1/cross')).toMatchObject({ runs: 3, failedRuns: 0, errors: [], gbps: 11, vsHost: 1 });
  });

  it('carries status, reason and notes of every scheme in order', () => {
    expect(summarizeResult(result).map((s) => [s.name, s.status, s.reason ?? null, s.tests.length])).toEqual([
      ['host', 'ok', null, 3],
      ['docker-bridge', 'unsupported', 'unsupported here: nft (install nftables)', 0],
      ['macvlan', 'failed', expect.stringContaining('Operation not supported'), 0],
      ['calico', 'ok', null, 4],
    ]);
  });
});

describe('renderTable', () => {
  it('says what the sample supports, naming --repeats and --duration', () => {
    // Welch with 3 runs a side needs |Δ| > t(0.975, 4)·√(2/3)·CV; the fixture's CVs set N.
    // Wide enough that the line is not wrapped; it follows the first line (no knobs here).
    const line = renderTable(result, { columns: 300 }).split('\n')[1];
    expect(line).toMatch(
      /^3 runs of 2 s per test: differences under \d+% are not resolvable at the observed noise \(median CV \d+\.\d%\); more --repeats or a longer --duration resolve finer ones\.$/,
    );
  });

  it('heads the table with the run options and environment', () => {
    const first = renderTable(result).split('\n')[0];
    expect(first).toBe('cnlab: 4 tests × 3 repeats × 2 s, UDP at 1G; median [interval]; kernel 6.1.0-test, 4 CPUs, underlay MTU 1500');
    // The interval is explained under the table.
    expect(renderTable(result)).toContain("[interval]: the median's own interval (order statistics");
  });

  it('shows the host at 100% and calico at 50%, with the failed runs and their error as a footnote', () => {
    const text = renderTable(result, { columns: 200 });
    const r = rows(text);
    // The median with its own interval (3 runs: min–max), never the mean's CI around the median.
    expect(r.find((c) => c[0] === 'host')).toEqual([
      'host',
      'cross-host',
      '11.00 [10.00–12.00]',
      '–',
      '100%',
      '20.00 [20.00–20.00]',
      '–/1.00, 0.20%',
      '0.200',
      '',
    ]);
    const calico = r.find((c) => c[0] === 'calico†')!;
    expect(calico.slice(0, 8)).toEqual(['calico†', 'cross-host', '5.50 [5.00–6.00]', '–', '50%', 'failed', '–/0.90, 2.0%', '–']);
    // docker-bridge's and macvlan's reasons are notes 1 and 2.
    expect(calico[8]).toBe('[3][4]');
    expect(text).toMatch(/^\[3\] calico†: stand-in: .*peer routes static/m);
    expect(text).toContain(`[4] calico†: 4 failed cross-host runs: ${REFUSED}`);
    expect(r.find((c) => c[1] === 'same-host')).toEqual(['', 'same-host', '8.00 [8.00–8.00]', '–', '–', '–', '–', '–', '']);
  });

  it.each([
    ['docker-bridge', 'unsupported', 'unsupported here: nft (install nftables)'],
    ['macvlan', 'failed', 'RTNETLINK answers: Operation not supported'],
  ])('shows %s as %s with its reason in a footnote', (name, status, reason) => {
    const text = renderTable(result);
    const row = rows(text).find((c) => c[0] === name)!;
    expect(row.slice(0, 3)).toEqual([name, '', status]);
    const ref = row[8].match(/^\[(\d+)\]/)![1];
    expect(text.split('\n').find((l) => l.startsWith(`[${ref}] ${name}:`))).toContain(reason.slice(0, 30));
  });

  it('draws no stray border fragments around rows that span columns', () => {
    const lines = renderTable(result).trimEnd().split('\n').slice(1);
    const table = lines.filter((l) => /^[│┌└]/.test(l));
    expect(table.length).toBeGreaterThan(4);
    // Inside the table every line is a border line; footnotes follow it.
    const first = lines.findIndex((l) => l.startsWith('┌'));
    const last = lines.findIndex((l) => l.startsWith('└'));
    expect(lines.slice(first, last + 1).filter((l) => !/^[│┌└]/.test(l))).toEqual([]);
  });

  it('fits 120 columns on a default-like run: notes are footnotes, every line ≤ 120', () => {
    const r = defaultRun();
    const text = renderTable(r, { columns: 120 });
    for (const l of text.trimEnd().split('\n')) expect([...l].length, l).toBeLessThanOrEqual(120);
    // The latency test of the default run reaches the table.
    expect(text).toContain('UDP latency µs');
    // Narrower still: 80 columns.
    for (const l of renderTable(r, { columns: 80 }).trimEnd().split('\n')) expect([...l].length, l).toBeLessThanOrEqual(80);
  });
});

describe('renderTable labels', () => {
  it("keeps a scheme's notes when it has only same-host tests (a stand-in is labelled in every result)", () => {
    const calico = result.schemes.find((s) => s.name === 'calico')!;
    calico.notes = ['userspace datapath stand-in'];
    calico.tests = calico.tests.map((t) => ({ ...t, id: t.id.replace('/cross', '/same'), placement: 'same' as const }));
    deriveAll(result);
    const text = renderTable(result, { columns: 200 });
    const row = rows(text).find((c) => c[0] === 'calico†')!;
    expect(row[1]).toBe('same-host');
    expect(row[row.length - 1]).toMatch(/^\[3\]/);
    expect(text).toContain('[3] calico†: stand-in: userspace datapath stand-in');
  });
});
