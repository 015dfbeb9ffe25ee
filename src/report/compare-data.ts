import { basename, dirname } from 'node:path';
import type { ResultFile, TestRecord } from '../result/types.js';
import { mainMetric } from '../result/derive.js';
import { summarize } from '../stats/stats.js';
import { samples } from './figures.js';
import { difference, type Difference } from './significance.js';

/**
 * Pure: several runs side by side. The first run is the reference; every other run's figures
 * are given as a change against it with the 95% interval of the difference and its significance.
 * Runs whose environments differ (kernel, CPU, tools, knobs, topology) are flagged, since a
 * change between them may come from the machine rather than the network.
 */

export interface CompareRun {
  /** "A", "B", … */
  key: string;
  /** Where it came from (file path). */
  source: string;
  result: ResultFile;
}

export interface Cell {
  /** The test's main figure (mainMetric: Gbit/s, or a latency in µs) and which way is better. */
  metric: string;
  higherIsBetter: boolean;
  median?: number;
  /** The median's own interval (order statistics; see Summary.medianCi). */
  ci95?: [number, number];
  n: number;
  vsHost?: number;
  cpu?: number;
  loss?: number;
  /** TCP: median retransmits per run. */
  retransmits?: number;
  /** Against the reference run (absent for the reference itself). */
  delta?: { ratio: number; test?: Difference; relCi?: [number, number] };
  cpuDelta?: { ratio: number; test?: Difference };
  /** A latency test's figure (µs, lower is better); absent: Gbit/s. */
  unit?: 'µs';
  /** Loss (percentage points) and retransmits per run against the reference's medians. */
  lossDelta?: number;
  retransmitsDelta?: number;
}

export interface CompareRow {
  scheme: string;
  test: string;
  cells: Array<Cell | undefined>;
}

export interface EnvDifference {
  what: string;
  values: string[];
}

export interface Comparison {
  runs: CompareRun[];
  rows: CompareRow[];
  differences: EnvDifference[];
}

/** A short label for a result file: its directory for result.json, else its name. */
export function runSource(file: string): string {
  return basename(file) === 'result.json' ? basename(dirname(file)) || file : basename(file).replace(/\.json$/, '');
}

function cellOf(t: TestRecord | undefined, ref: TestRecord | undefined): Cell | undefined {
  if (!t) return undefined;
  const m = mainMetric(t);
  const g = samples(t, m.pick);
  const sum = g.length ? summarize(g) : undefined;
  const cell: Cell = {
    metric: m.metric,
    higherIsBetter: m.higherIsBetter,
    median: sum?.median,
    ci95: sum?.medianCi,
    n: g.length,
    vsHost: t.vsHost?.value,
    cpu: t.summary?.cpuSecondsPerGbit?.median,
    loss: t.summary?.lossPercent?.median,
    retransmits: t.summary?.retransmits?.median,
  };
  if (ref && ref !== t) {
    const a = samples(ref, m.pick);
    const am = a.length ? summarize(a).median : undefined;
    if (a.length && g.length && am && cell.median !== undefined) {
      const w = difference(a, g);
      const mean = a.reduce((s, x) => s + x, 0) / a.length;
      cell.delta = { ratio: cell.median / am, test: w, relCi: w.p === undefined ? undefined : [w.ci95[0] / mean, w.ci95[1] / mean] };
    }
    const rl = ref.summary?.lossPercent?.median;
    if (rl !== undefined && cell.loss !== undefined) cell.lossDelta = cell.loss - rl;
    const rr = ref.summary?.retransmits?.median;
    if (rr !== undefined && cell.retransmits !== undefined) cell.retransmitsDelta = cell.retransmits - rr;
    const ca = samples(ref, (r) => r.cpuSecondsPerGbit);
    const cb = samples(t, (r) => r.cpuSecondsPerGbit);
    const rc = ref.summary?.cpuSecondsPerGbit?.median;
    if (ca.length && cb.length && rc && cell.cpu !== undefined) cell.cpuDelta = { ratio: cell.cpu / rc, test: difference(ca, cb) };
  }
  return cell;
}

/** Flattened "key: value" facts about a run's environment and settings. */
function facts(r: ResultFile): Map<string, string> {
  const m = new Map<string, string>();
  const e = r.environment as unknown as Record<string, unknown>;
  m.set('kernel', r.environment.kernel);
  m.set('CPU', `${r.environment.cpuModel} × ${r.environment.cpus}`);
  for (const [k, v] of Object.entries(r.environment.tools)) m.set(`tool ${k}`, v);
  for (const [k, v] of Object.entries(e))
    if (!['kernel', 'cpuModel', 'cpus', 'tools', 'node', 'cpuMethod'].includes(k)) m.set(`environment ${k}`, JSON.stringify(v));
  m.set('CPU method', r.environment.cpuMethod);
  const u = r.topology.underlay;
  m.set('underlay', `MTU ${u.mtu}${u.rate ? `, rate ${u.rate}` : ''}`);
  m.set('hosts', `${r.topology.hosts} × ${r.topology.containersPerHost}`);
  m.set('repeats × seconds', `${r.options.repeats} × ${r.options.seconds} s`);
  m.set('UDP rate', r.options.udpRate);
  for (const [k, v] of Object.entries(r.options as unknown as Record<string, unknown>))
    if (!['repeats', 'seconds', 'udpRate', 'tests'].includes(k)) m.set(`knob ${k}`, JSON.stringify(v));
  return m;
}

export function compareResults(runs: CompareRun[]): Comparison {
  if (runs.length < 2) throw new RangeError('compare needs at least two runs');
  const [ref] = runs;
  const keys: Array<[string, string]> = [];
  const seen = new Set<string>();
  for (const run of runs) {
    for (const s of run.result.schemes) {
      for (const t of s.tests) {
        const k = `${s.name}\u0000${t.id}`;
        if (seen.has(k)) continue;
        seen.add(k);
        keys.push([s.name, t.id]);
      }
    }
  }
  const find = (r: ResultFile, scheme: string, id: string) => r.schemes.find((s) => s.name === scheme)?.tests.find((t) => t.id === id);
  const rows = keys.map(([scheme, id]) => {
    const base = find(ref.result, scheme, id);
    return { scheme, test: id, cells: runs.map((run) => cellOf(find(run.result, scheme, id), base)) };
  });
  const all = runs.map((r) => facts(r.result));
  const names = [...new Set(all.flatMap((m) => [...m.keys()]))];
  const differences = names.flatMap((what) => {
    const values = all.map((m) => m.get(what) ?? '(none)');
    return new Set(values).size > 1 ? [{ what, values }] : [];
  });
  return { runs, rows, differences };
}

export const UNIT: Record<string, string> = { gbps: 'Gbit/s', p50Us: 'µs', latencyUs: 'µs', maxRateMbps: 'Mbit/s' };
