import { join } from 'node:path';
import type { LabState } from '../apply/state.js';
import { BPF_VERDICTS, type BpfCounters, type BpfVerdict } from '../result/types.js';
import { STATS_MAP } from '../schemes/parts/bpf.js';
import { execArgs } from '../util/exec.js';

/**
 * The BPF datapath's verdict counters (bpf/cilium.c: one per-CPU array per program, pinned in each
 * host's bpffs), read with `bpftool map dump pinned … -j` before and after each test; the test
 * records the difference. Parsing is pure (captured output in test/fixtures/bpf).
 */

const MODES: Record<number, BpfCounters['mode']> = { 0: 'redirect', 1: 'legacy', 2: 'tunnel' };

type Json = Record<string, unknown>;

/** Little-endian bytes as bpftool prints them without BTF ("0x2a", …) → number. */
function leBytes(v: unknown): number {
  if (!Array.isArray(v)) throw new Error('bpftool: expected a byte array');
  return v.reduceRight((acc: number, b) => acc * 256 + parseInt(String(b), 16), 0);
}

/** A per-CPU array dump → the per-key sums over CPUs, by key. Works with and without BTF. */
export function parsePercpuDump(text: string): number[] {
  const rows = JSON.parse(text) as Json[];
  if (!Array.isArray(rows)) throw new Error('bpftool: expected a JSON array');
  const out: number[] = [];
  for (const row of rows) {
    const f = (row.formatted as Json | undefined) ?? row;
    const key = typeof f.key === 'number' ? f.key : leBytes(row.key);
    const values = (f.values ?? row.values) as Array<{ value: unknown }>;
    if (!Array.isArray(values)) throw new Error('bpftool: expected per-CPU values');
    out[key] = values.reduce((n, v) => n + (typeof v.value === 'number' ? v.value : leBytes(v.value)), 0);
  }
  return out;
}

/** The verdict slots of a stats map, named. */
export function namedVerdicts(sums: number[]): Record<BpfVerdict, number> {
  return Object.fromEntries(BPF_VERDICTS.map((v, i) => [v, sums[i] ?? 0])) as Record<BpfVerdict, number>;
}

/** The config map's mode (struct config's first u32). */
export function parseConfigMode(text: string): BpfCounters['mode'] {
  const rows = JSON.parse(text) as Json[];
  const row = Array.isArray(rows) ? rows[0] : undefined;
  if (!row) return 'unknown';
  const formatted = row.formatted as { value?: { mode?: number } } | undefined;
  const mode = formatted?.value?.mode ?? (Array.isArray(row.value) ? leBytes(row.value.slice(0, 4)) : undefined);
  return mode === undefined ? 'unknown' : (MODES[mode] ?? 'unknown');
}

/** after − before, per host, program and verdict. */
export function bpfDelta(before: BpfCounters, after: BpfCounters): BpfCounters {
  const hosts: BpfCounters['hosts'] = {};
  for (const [host, progs] of Object.entries(after.hosts)) {
    hosts[host] = {};
    for (const [prog, v] of Object.entries(progs)) {
      const b = before.hosts[host]?.[prog];
      hosts[host][prog] = Object.fromEntries(BPF_VERDICTS.map((k) => [k, v[k] - (b?.[k] ?? 0)])) as Record<BpfVerdict, number>;
    }
  }
  return { mode: after.mode, hosts };
}

async function dump(path: string): Promise<string> {
  const res = await execArgs('bpftool', ['map', 'dump', 'pinned', path, '-j']);
  if (res.code !== 0) throw new Error(`bpftool map dump pinned ${path}: ${(res.stderr || `exit ${res.code}`).trim()}`);
  return res.stdout;
}

/** Every host's counters now, or undefined for a lab without a bpffs. */
export async function readBpfCounters(state: Pick<LabState, 'mounts' | 'nodes'>): Promise<BpfCounters | undefined> {
  const mounts = (state.mounts ?? []).filter((m) => m.fstype === 'bpf');
  if (!mounts.length) return undefined;
  const byNs = new Map(Object.entries(state.nodes).map(([node, ns]) => [ns, node]));
  const out: BpfCounters = { mode: 'unknown', hosts: {} };
  for (const m of mounts) {
    const dir = join(m.path, 'tc', 'globals');
    const host = byNs.get(m.ns) ?? m.ns;
    out.hosts[host] = {};
    for (const [prog, map] of Object.entries(STATS_MAP)) out.hosts[host][prog] = namedVerdicts(parsePercpuDump(await dump(join(dir, map))));
    if (out.mode === 'unknown') out.mode = parseConfigMode(await dump(join(dir, 'config')));
  }
  return out;
}
