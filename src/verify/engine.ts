import { randomBytes } from 'node:crypto';
import { isAborting, releaseLab } from '../apply/cleanup.js';
import { teardownState } from '../apply/teardown.js';
import { bringUp, unsupportedReason, type UpLab } from '../apply/up.js';
import { detect, unmet } from '../caps/detect.js';
import { controlPlaneOf, type Topology } from '../lab/types.js';
import type { Scheme } from '../plan/scheme.js';
import { ASPECTS, type Evidence, type Verdict, type VerifyCell, type VerifySection } from '../result/verify.js';
import { agreesWith, claimFor } from './claims.js';
import { probeContext } from './context.js';
import { NotRun, type AnyProbe, type LabShape } from './types.js';

export interface VerifyOptions {
  /** The base topology (lab name, address plan); each shape sets hosts, containers and its own fields. */
  base: Topology;
  onStatus?: (scheme: string, text: string) => void;
  /** Called after each cell (to save progress). */
  onCell?: (cell: VerifyCell) => void;
}

/** Probes with equal keys share one build. */
export function shapeKey(s: LabShape): string {
  return JSON.stringify([s.hosts, s.containersPerHost, !!s.sameHost, s.tenants ?? 0, s.topology ?? {}, !!s.buildMayFail]);
}

function shapeTopology(base: Topology, s: LabShape): Topology {
  const t: Topology = { ...base, ...s.topology, hosts: s.hosts, containersPerHost: s.containersPerHost, sameHost: !!s.sameHost };
  if (s.tenants) (t as Topology & { tenants?: number }).tenants = s.tenants;
  return t;
}

const notRun = (reason: string): Verdict => ({ mark: 'not-run', text: `not run: ${reason}` });

/** Runs every probe on every scheme (building each scheme once per lab shape) → the matrix. */
export async function verifySchemes(schemes: readonly Scheme[], probes: readonly AnyProbe[], opts: VerifyOptions): Promise<VerifySection> {
  const marker = randomBytes(8).toString('hex');
  const cells: VerifyCell[] = [];
  const add = (scheme: Scheme, probe: AnyProbe, v: Verdict, evidence: Evidence, seconds: number, standIns: string[] = []) => {
    const claim = claimFor(scheme.name, probe.aspect);
    const cell: VerifyCell = {
      ...v,
      aspect: probe.aspect,
      scheme: scheme.name,
      probe: probe.name,
      ...(claim ? { claim } : {}),
      evidence,
      seconds,
      ...(standIns.length ? { standIns } : {}),
    };
    const agrees = v.mark === 'not-run' ? undefined : agreesWith(claim, v.key);
    if (agrees !== undefined) cell.agrees = agrees;
    cells.push(cell);
    opts.onCell?.(cell);
  };
  const empty: Evidence = { commands: [], data: {} };
  for (const scheme of schemes) {
    if (isAborting()) break;
    const why = await unsupportedReason(scheme, controlPlaneOf(opts.base));
    const groups = new Map<string, { shape: LabShape; probes: AnyProbe[] }>();
    for (const probe of probes) {
      const skip = probe.skip?.(scheme);
      if (skip) {
        add(scheme, probe, { mark: 'value', text: skip, key: 'n/a' }, empty, 0);
        continue;
      }
      if (why) {
        add(scheme, probe, notRun(why.replace(/^unsupported here: /, 'needs ')), empty, 0);
        continue;
      }
      const reqs = probe.requires ?? [];
      if (reqs.length) {
        const missing = unmet(reqs, await detect({ binaries: reqs.flatMap((r) => (r.kind === 'binary' ? [r.name] : [])) }));
        if (missing.length) {
          add(scheme, probe, notRun(`needs ${missing.join(', ')}`), empty, 0);
          continue;
        }
      }
      const shape = probe.needs(scheme);
      const k = shape.exclusive ? `${probe.name} ${shapeKey(shape)}` : shapeKey(shape);
      if (!groups.has(k)) groups.set(k, { shape, probes: [] });
      groups.get(k)!.probes.push(probe);
    }
    for (const { shape, probes: group } of groups.values()) {
      if (isAborting()) break;
      await runGroup(scheme, shape, group, marker, opts, add);
    }
  }
  const aspects = ASPECTS.filter((a) => cells.some((c) => c.aspect === a));
  return { schemes: schemes.map((s) => s.name), aspects, cells, allRan: cells.every((c) => c.mark !== 'not-run') };
}

type Add = (scheme: Scheme, probe: AnyProbe, v: Verdict, evidence: Evidence, seconds: number, standIns?: string[]) => void;

async function runGroup(scheme: Scheme, shape: LabShape, probes: AnyProbe[], marker: string, opts: VerifyOptions, add: Add): Promise<void> {
  let up: UpLab | undefined;
  try {
    opts.onStatus?.(scheme.name, `building ${shape.hosts} hosts × ${shape.containersPerHost}`);
    up = await bringUp(shapeTopology(opts.base, shape), scheme);
  } catch (e) {
    const msg = (e as Error).message;
    for (const p of probes) {
      if (shape.buildMayFail) {
        const evidence: Evidence = { commands: [], data: {}, buildError: msg };
        add(scheme, p, p.judge(evidence), evidence, 0);
      } else add(scheme, p, notRun(`build failed: ${msg}`), { commands: [], data: {} }, 0);
    }
    return;
  }
  try {
    for (const probe of probes) {
      if (isAborting()) break;
      opts.onStatus?.(scheme.name, probe.title);
      const t0 = performance.now();
      const { ctx, commands, standIns, cleanup } = probeContext(up, scheme, marker);
      let verdict: Verdict;
      let data: Record<string, unknown> = {};
      try {
        data = (await probe.run(ctx)) as Record<string, unknown>;
        await cleanup();
        verdict = probe.judge({ commands, data });
      } catch (e) {
        await cleanup();
        verdict = notRun(e instanceof NotRun ? e.reason : `probe failed: ${(e as Error).message}`);
      }
      add(scheme, probe, verdict, { commands, data }, (performance.now() - t0) / 1000, standIns);
    }
  } finally {
    if (!isAborting()) {
      opts.onStatus?.(scheme.name, 'tearing down');
      await teardownState(up.state);
      releaseLab(up.state);
    }
  }
}
