import { describe, expect, it } from 'vitest';
import type { ResultFile } from '../src/result/types.js';
import { summarizeResult } from '../src/report/summary.js';
import { cpuRanking, onlySweeps, sweepHeadlines } from '../src/report/sweep-headlines.js';
import { renderTable } from '../src/report/table.js';
import { full } from './fixtures/results/synthetic.js';

/** A run of qperf sweeps only, as preset s1-cloud makes: the captured --full run cut to its qperf tests. */
function s1Like(): ResultFile {
  const r = full();
  for (const s of r.schemes) s.tests = s.tests.filter((t) => t.sweep?.series.startsWith('qperf'));
  r.options.tests = r.options.tests.filter((t) => t.sweep?.series.startsWith('qperf'));
  return r;
}

describe('sweeps-only runs (s1-cloud): headlines instead of a table of dashes', () => {
  const r = s1Like();

  it('each scheme: bandwidth at the largest message, latency at the smallest, CPU per Gbit there', () => {
    expect(onlySweeps(r)).toBe(true);
    expect(onlySweeps(full())).toBe(false);
    const vx = r.schemes.find((s) => s.name === 'flannel-vxlan')!;
    const [h] = sweepHeadlines(vx);
    const bw = vx.tests.find((t) => t.id === h.bandwidth!.testId)!;
    expect(bw.qperfTest).toBe('tcp_bw');
    expect(h.bandwidth!.at).toBe(Math.max(...vx.tests.filter((t) => t.qperfTest === 'tcp_bw').map((t) => t.msgSize!)));
    expect(h.bandwidth!.value).toBe(bw.summary!.gbps.median);
    expect(h.cpuPerGbit).toBe(bw.summary!.cpuSecondsPerGbit!.median);
    expect(h.latency!.at).toBe(1);
    expect(vx.tests.find((t) => t.id === h.latency!.testId)!.qperfTest).toBe('tcp_lat');
  });

  it('the terminal table shows the headlines and S1’s CPU ranking; no row is all dashes', () => {
    const text = renderTable(r);
    expect(text).toMatch(/bandwidth Gbit\/s at 64 KiB/);
    expect(text).toMatch(/latency µs at 1 B/);
    const ranking = cpuRanking(r);
    expect(ranking.length).toBe(r.schemes.filter((s) => s.status === 'ok').length);
    expect(ranking.map((x) => x.cpuPerGbit)).toEqual([...ranking.map((x) => x.cpuPerGbit)].sort((a, b) => a - b));
    expect(text).toContain(`CPU ranking (S1: least CPU-seconds per Gbit first, at 64 KiB, cross-host): 1. ${ranking[0].scheme}`);
    for (const s of r.schemes) {
      const row = text.split('\n').find((l) => l.includes(` ${s.name} `) && l.includes('cross-host'))!;
      expect(row, s.name).toMatch(/\d+\.\d{2}/);
    }
    // The per-size lines still follow.
    expect(text).toMatch(/qperf tcp_bw, cross-host \(Gbit\/s by msgSize/);
  });

  it('the --json summary carries the headlines', () => {
    const lines = summarizeResult(r);
    expect(lines.find((l) => l.name === 'host')?.sweepHeadlines?.[0].bandwidth?.at).toBe(65536);
  });
});
