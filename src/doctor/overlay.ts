import { toolArgs } from '../plan/argv.js';
import type { FdbStep, NeighStep, RouteStep, Step } from '../plan/types.js';
import { jsonIn } from './live.js';
import type { Finding } from './types.js';

/**
 * Overlay state: the static FDB entries (MAC → remote VTEP), neighbours and peer routes the plan
 * writes for each peer (or a control plane installs: the caller passes the static plan's), read back with `bridge fdb show` and `ip neigh show`. A missing entry, or one that
 * points at another VTEP or MAC, is named; the fix is the plan's own command for it.
 */

export interface LiveFdb {
  mac: string;
  ifname?: string;
  dst?: string;
}
export interface LiveNeigh {
  dst: string;
  dev?: string;
  lladdr?: string;
}

function planFix(step: FdbStep | NeighStep, replace: boolean): string[][] {
  const t = toolArgs(step)!;
  const args = [...t.args];
  if (replace) args[1] = 'replace';
  return [[t.tool, '-n', step.ns, ...args]];
}

/** Pure: planned FDB entries against live ones (by namespace) → findings. */
export function judgeFdb(planned: readonly FdbStep[], live: ReadonlyMap<string, readonly LiveFdb[]>): Finding[] {
  const out: Finding[] = [];
  for (const s of planned) {
    const entries = (live.get(s.ns) ?? []).filter((e) => e.mac.toLowerCase() === s.mac.toLowerCase() && e.ifname === s.dev);
    if (s.dst === undefined ? entries.length : entries.some((e) => e.dst === s.dst)) continue;
    const stale = entries.find((e) => e.dst !== undefined);
    out.push({
      check: 'fdb',
      rank: 20,
      what: stale
        ? `${s.ns}: ${s.dev}'s FDB sends ${s.mac} to ${stale.dst}, the plan says VTEP ${s.dst ?? '(none)'}`
        : `${s.ns}: ${s.dev} has no FDB entry for ${s.mac}${s.dst ? ` (peer VTEP ${s.dst})` : ''}: packets to that peer are not encapsulated to it`,
      evidence: `bridge fdb show dev ${s.dev}: ${entries.length ? entries.map((e) => `${e.mac} dst ${e.dst ?? '-'}`).join(', ') : `no entry for ${s.mac}`}`,
      // `append` adds one more destination; an all-zero MAC (flood list) entry is appended, others replaced.
      fix: planFix(s, false),
    });
  }
  return out;
}

/** Pure: planned permanent neighbours against live ones → findings. */
export function judgeNeigh(planned: readonly NeighStep[], live: ReadonlyMap<string, readonly LiveNeigh[]>): Finding[] {
  const out: Finding[] = [];
  for (const s of planned) {
    const e = (live.get(s.ns) ?? []).find((n) => n.dst === s.addr && n.dev === s.dev);
    if (e && e.lladdr?.toLowerCase() === s.lladdr.toLowerCase()) continue;
    out.push({
      check: 'neigh',
      rank: 21,
      what: e
        ? `${s.ns}: neighbour ${s.addr} on ${s.dev} is ${e.lladdr ?? 'unresolved'}, the plan says ${s.lladdr}`
        : `${s.ns}: no neighbour entry for ${s.addr} on ${s.dev} (the plan's ${s.lladdr})`,
      evidence: `ip neigh show ${s.addr} dev ${s.dev}: ${e ? (e.lladdr ?? 'no lladdr') : 'none'}`,
      fix: planFix(s, !!e),
    });
  }
  return out;
}

/** Pure: the peer routes the plan (or the control plane) should install, against the live table's destinations. */
export function judgeRoutes(planned: readonly RouteStep[], live: ReadonlyMap<string, readonly { dst: string }[]>): Finding[] {
  return planned.flatMap((s) => {
    const have = (live.get(s.ns) ?? []).some((r) => r.dst === s.dest || `${r.dst}/32` === s.dest);
    if (have) return [];
    const t = toolArgs(s)!;
    return [
      {
        check: 'route',
        rank: 22,
        what: `${s.ns}: no route to ${s.dest}${s.via ? ` (the plan's via ${s.via})` : ''}: that peer's block is unreachable from here`,
        evidence: `ip route show: no ${s.dest}`,
        fix: [[t.tool, '-n', s.ns, 'route', 'replace', ...t.args.slice(2)]],
      },
    ];
  });
}

export async function checkOverlay(steps: readonly Step[]): Promise<Finding[]> {
  const fdb = steps.filter((s): s is FdbStep => s.kind === 'fdb');
  const neigh = steps.filter((s): s is NeighStep => s.kind === 'neigh');
  const routes = steps.filter((s): s is RouteStep => s.kind === 'route' && s.dest !== 'default');
  const liveRoutes = new Map<string, Array<{ dst: string }>>();
  const liveFdb = new Map<string, LiveFdb[]>();
  const liveNeigh = new Map<string, LiveNeigh[]>();
  await Promise.all([
    ...[...new Set(fdb.map((s) => s.ns))].map(async (ns) => liveFdb.set(ns, await jsonIn<LiveFdb>(ns, 'bridge', ['fdb', 'show']))),
    ...[...new Set(neigh.map((s) => s.ns))].map(async (ns) => liveNeigh.set(ns, await jsonIn<LiveNeigh>(ns, 'ip', ['neigh', 'show']))),
    ...[...new Set(routes.map((s) => s.ns))].map(async (ns) =>
      liveRoutes.set(ns, await jsonIn<{ dst: string }>(ns, 'ip', ['route', 'show'])),
    ),
  ]);
  return [...judgeFdb(fdb, liveFdb), ...judgeNeigh(neigh, liveNeigh), ...judgeRoutes(routes, liveRoutes)];
}
