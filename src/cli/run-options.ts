import { cpus as osCpus } from 'node:os';
import { InputError } from '../errors.js';
import { normaliseRate } from '../lab/topology.js';
import type { Topology } from '../lab/types.js';
import { getPreset, testsFor, type Preset } from '../measure/presets.js';
import type { SuiteOptions } from '../measure/suite.js';
import { DEFAULT_SIZES, fullTests, quickTests } from '../measure/tests.js';
import type { Placement, RunKnobs, SchemeRecord, TestSpec } from '../result/types.js';
import { parseCpuList } from '../runners/affinity.js';
import { expandLoop } from '../runners/qperf.js';
import { toolsOf, type ToolName } from '../runners/registry.js';
import { SCHEMES } from '../schemes/registry.js';
import type { Scheme } from '../plan/scheme.js';

/**
 * `cnlab run`'s measurement options: flags, a preset's values where no flag was given, then the
 * defaults. Pure but for reading the CPU count; every input error is one InputError line.
 */

export interface MeasureFlags {
  repeats?: string;
  duration?: string;
  udpRate?: string;
  warmup?: string;
  preset?: string;
  full?: boolean;
  sizes?: string;
  cpus?: string;
  pin?: boolean;
  /** Comma-separated test names ("tcp-1,tcp-4,lat-tcp"), picked from --full's (or the preset's) tests. */
  tests?: string;
}

export const DEFAULTS = { repeats: 3, seconds: 1, udpRate: '1G', warmup: 1 };
/**
 * Repeats of the quick default (`cnlab run` with no schemes named): 19 buildable schemes × 4 tests
 * × 3 runs of 1 s took 5 min 23 s on a 2-core machine; 2 keep it near 4 min and every scheme,
 * test and column is still reported (the table says which differences 2 runs cannot resolve).
 */
export const QUICK_REPEATS = 2;

export function intFlag(name: string, v: string, min: number, max: number): number {
  if (!/^\d+$/.test(v) || Number(v) < min || Number(v) > max)
    throw new InputError(`--${name} must be a whole number from ${min} to ${max}, got "${v}"`);
  return Number(v);
}

export function rateFlag(v: string): string {
  if (!/^\d+(\.\d+)?[KMG]?$/.test(v)) throw new InputError(`--udp-rate must be a rate like 500M or 1G, got "${v}"`);
  return v;
}

/** One entry of the run: a scheme of the registry, or a name this cnlab does not have. */
export type Entry = { scheme: Scheme; placements?: Placement[] } | { missing: string };

export interface Measurement {
  suite: SuiteOptions;
  /** Every test of the run (each scheme gets those of its placements). */
  tests: TestSpec[];
  knobs: RunKnobs;
  preset?: Preset;
  full: boolean;
  warmupSeconds: number;
  /** Also measure control-plane convergence (--tests converge, --full). */
  converge: boolean;
}

/** The test name that asks for the convergence measurement (measure/converge.ts), not a traffic test. */
export const CONVERGE_TEST = 'converge';

/** The preset's schemes, resolved through the registry at run time (never imported). */
export function presetEntries(preset: Preset): Entry[] {
  return preset.schemes.map((ps) => {
    const scheme = SCHEMES.find((s) => s.name === ps.name);
    return scheme ? { scheme, placements: ps.placements } : { missing: ps.name };
  });
}

/** A scheme a preset names that this cnlab does not have: listed, never built. */
export function missingRecord(name: string): SchemeRecord {
  return {
    name,
    status: 'unsupported',
    reason: 'not available in this cnlab yet',
    summary: '',
    attach: 'none',
    notes: [],
    overhead: 0,
    tests: [],
  };
}

/** Applies a preset's link-rate and offloads knobs where neither a flag nor the file set them. */
export function applyPresetTopology(
  topology: Topology,
  preset: Preset | undefined,
  flags: { linkRate?: unknown; offloads?: unknown },
): void {
  if (!preset) return;
  if (preset.knobs.linkRate && flags.linkRate === undefined && !topology.underlay.rate)
    topology.underlay.rate = normaliseRate(preset.knobs.linkRate);
  if (preset.knobs.offloads && flags.offloads === undefined && !topology.offloads) topology.offloads = preset.knobs.offloads;
}

/** `quick`: the run is the quick default (no schemes named, no --all): fewer repeats unless --full, --tests or --repeats. */
export function measurement(o: MeasureFlags, topology: Topology, quick = false): Measurement {
  const preset = o.preset !== undefined ? getPreset(o.preset) : undefined;
  if (preset && o.full) throw new InputError('--preset and --full do not go together: a preset chooses its own tests');
  const quickRepeats = quick && !preset && !o.full && o.tests === undefined ? QUICK_REPEATS : DEFAULTS.repeats;
  const repeats = intFlag('repeats', o.repeats ?? String(preset?.repeats ?? quickRepeats), 1, 100);
  const seconds = intFlag('duration', o.duration ?? String(preset?.seconds ?? DEFAULTS.seconds), 1, 3600);
  const udpRate = rateFlag(o.udpRate ?? preset?.udpRate ?? DEFAULTS.udpRate);
  const warmupSeconds = intFlag('warmup', o.warmup ?? String(DEFAULTS.warmup), 0, 60);
  const sizes = o.sizes ?? DEFAULT_SIZES;
  expandLoop(sizes);
  const cpuText = o.cpus ?? preset?.knobs.cpus;
  const cpus = cpuText !== undefined ? parseCpuList(cpuText, osCpus().length) : undefined;
  const pin = o.pin ?? preset?.knobs.pin ?? false;
  const placements: Placement[] = topology.sameHost ? ['cross', 'same'] : ['cross'];
  // --tests picks from every test a run knows: the default run's (udp-lat) and --full's.
  const every = () =>
    [...fullTests(udpRate, placements, sizes), ...quickTests(udpRate, placements)]
      .filter((t, i, all) => all.findIndex((x) => x.id === t.id) === i)
      .sort((a, b) => placements.indexOf(a.placement) - placements.indexOf(b.placement));
  const all = preset
    ? preset.tests({ udpRate, sizes })
    : o.tests !== undefined
      ? every()
      : o.full
        ? fullTests(udpRate, placements, sizes)
        : quickTests(udpRate, placements);
  // "converge" is no traffic test: it runs the convergence measurement, alone or beside the others.
  const listed = o.tests?.split(',').map((n) => n.trim());
  const converge = (o.full === true && !preset) || listed?.includes(CONVERGE_TEST) === true;
  const rest = listed?.filter((n) => n !== CONVERGE_TEST);
  const tests = rest && !rest.filter(Boolean).length && converge ? [] : pickTests(testsFor(all, placements), rest?.join(','));
  const knobs: RunKnobs = {
    ...(cpus ? { cpus: cpus.join(',') } : {}),
    pin,
    ...(topology.offloads ? { offloads: topology.offloads } : {}),
    mtu: topology.underlay.mtu,
    ...(topology.underlay.rate ? { linkRate: topology.underlay.rate } : {}),
  };
  return {
    suite: { repeats, seconds, udpRate, tests, warmupSeconds, cpus, pin, converge },
    tests,
    knobs,
    preset,
    full: o.full === true,
    warmupSeconds,
    converge,
  };
}

const nameOf = (t: TestSpec) => t.id.split('/')[0];

/** Pure: the tests whose name (the id before "/") is listed; all when no list is given. */
export function pickTests(tests: TestSpec[], list: string | undefined): TestSpec[] {
  if (list === undefined) return tests;
  const names = list
    .split(',')
    .map((n) => n.trim())
    .filter(Boolean);
  const known = [...new Set(tests.map(nameOf))];
  const unknown = names.filter((n) => !known.includes(n));
  if (!names.length || unknown.length) {
    const shown = known.filter((n) => !/^qperf-|^udp-len/.test(n)).join(', ');
    throw new InputError(
      `--tests: unknown test "${unknown[0] ?? list}"`,
      `tests: ${shown}, qperf-<test>-<bytes>, udp-len<bytes>, ${CONVERGE_TEST} (see: cnlab tests)`,
    );
  }
  return tests.filter((t) => names.includes(nameOf(t)));
}

/** The tools the tests need, for the check before anything is built. */
export function toolsNeeded(tests: TestSpec[]): ToolName[] {
  return [...new Set(tests.flatMap(toolsOf))];
}
