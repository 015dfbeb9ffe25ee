import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { listLabs, processStartTime, readState } from '../../src/apply/state.js';
import { teardownState } from '../../src/apply/teardown.js';
import { STATE_ROOT } from '../../src/lab/paths.js';

/**
 * A record of each running test suite (pid, start time, when it started), so that the next suite can
 * recognise what an interrupted one left behind: labs recorded by cnlab, created while that suite ran,
 * whose owner process is gone. Those are removed through their own state files (exactly what they
 * record) before any test runs; nothing else is touched.
 */
const DIR = join(STATE_ROOT, '.test-suites');

interface SuiteRecord {
  pid: number;
  startTime: number;
  startedAt: string;
}

const recordFile = (pid: number): string => join(DIR, `${pid}.json`);

function readRecords(): SuiteRecord[] {
  let names: string[];
  try {
    names = readdirSync(DIR).filter((f) => f.endsWith('.json'));
  } catch {
    return [];
  }
  return names.flatMap((f) => {
    try {
      return [JSON.parse(readFileSync(join(DIR, f), 'utf8')) as SuiteRecord];
    } catch {
      return [];
    }
  });
}

const alive = (pid: number, startTime: number): boolean => processStartTime(pid) === startTime;

/** Remove the labs interrupted suites left; returns one line per lab removed. */
export async function removeInterruptedSuitesLabs(): Promise<string[]> {
  const dead = readRecords().filter((r) => !alive(r.pid, r.startTime));
  if (!dead.length) return [];
  const since = Math.min(...dead.map((r) => Date.parse(r.startedAt)));
  const lines: string[] = [];
  for (const name of listLabs()) {
    const state = readState(name);
    if (!state || alive(state.owner.pid, state.owner.startTime) || Date.parse(state.createdAt) < since) continue;
    const report = await teardownState(state);
    lines.push(`removed lab ${name} left by an interrupted test run: ${report.namespaces} namespaces, ${report.processes} processes`);
  }
  for (const r of dead) rmSync(recordFile(r.pid), { force: true });
  return lines;
}

/** Record this suite; the returned function removes the record when the suite ends. */
export function recordSuite(): () => void {
  mkdirSync(DIR, { recursive: true, mode: 0o700 });
  const rec: SuiteRecord = { pid: process.pid, startTime: processStartTime(process.pid) ?? 0, startedAt: new Date().toISOString() };
  writeFileSync(recordFile(process.pid), JSON.stringify(rec));
  return () => rmSync(recordFile(process.pid), { force: true });
}
