import type { ResultFile, RunRecord, TestRecord } from '../result/types.js';
import { ratio, summarize } from './stats.js';

/**
 * Pure: fills every derived figure (summaries, ratios to the host baseline) from the raw runs.
 * Runs after each test so the result file always holds them.
 */

function field(runs: RunRecord[], pick: (r: RunRecord) => number | undefined) {
  const vals = runs.filter((r) => r.ok).map(pick).filter((v): v is number => v !== undefined && Number.isFinite(v));
  return vals.length ? summarize(vals) : undefined;
}

export function deriveTest(t: TestRecord): void {
  const gbps = field(t.runs, (r) => r.gbps);
  t.summary = gbps
    ? {
        gbps,
        cpuSecondsPerGbit: field(t.runs, (r) => r.cpuSecondsPerGbit),
        lossPercent: field(t.runs, (r) => r.lossPercent),
        jitterMs: field(t.runs, (r) => r.jitterMs),
      }
    : undefined;
}

export function deriveAll(result: ResultFile): void {
  const host = result.schemes.find((s) => s.name === 'host' && s.status === 'ok');
  for (const s of result.schemes) {
    for (const t of s.tests) {
      deriveTest(t);
      const base = host?.tests.find((h) => h.id === t.id)?.summary?.gbps;
      t.vsHost = base && t.summary && base.median > 0 ? ratio(t.summary.gbps, base) : undefined;
    }
  }
}
