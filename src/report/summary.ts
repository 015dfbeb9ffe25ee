import type { ResultFile, SchemeRecord, TestRecord } from '../result/types.js';
import { sweepHeadlines, type SweepHeadline } from './sweep-headlines.js';

/** The compact summary `cnlab run --json` prints; derived from the result file alone. */

export interface TestLine {
  id: string;
  gbps?: number;
  ci95?: [number, number];
  vsHost?: number;
  vsHostCi95?: [number, number];
  lossPercent?: number;
  jitterMs?: number;
  cpuSecondsPerGbit?: number;
  runs: number;
  failedRuns: number;
  errors: string[];
}

export interface SchemeLine {
  name: string;
  status: SchemeRecord['status'];
  reason?: string;
  notes: string[];
  mtu?: number;
  tests: TestLine[];
  /** Sweeps' headline figures (bandwidth at the largest message, latency at the smallest, CPU per Gbit). */
  sweepHeadlines?: SweepHeadline[];
}

export function testLine(t: TestRecord): TestLine {
  const s = t.summary;
  const failed = t.runs.filter((r) => !r.ok);
  return {
    id: t.id,
    gbps: s?.gbps.median,
    ci95: s?.gbps.ci95,
    vsHost: t.vsHost?.value,
    vsHostCi95: t.vsHost?.ci95,
    lossPercent: s?.lossPercent?.median,
    jitterMs: s?.jitterMs?.median,
    cpuSecondsPerGbit: s?.cpuSecondsPerGbit?.median,
    runs: t.runs.length,
    failedRuns: failed.length,
    errors: [...new Set(failed.map((r) => r.error ?? 'failed'))],
  };
}

export function summarizeResult(result: ResultFile): SchemeLine[] {
  return result.schemes.map((s) => {
    const heads = sweepHeadlines(s);
    return { name: s.name, status: s.status, reason: s.reason, notes: s.notes, mtu: s.mtu, tests: s.tests.map(testLine), ...(heads.length ? { sweepHeadlines: heads } : {}) };
  });
}
