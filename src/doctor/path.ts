import { cidrText, containsIp, parseCidr } from '../lab/ipv4.js';
import type { RouteStep, Step } from '../plan/types.js';
import { othersMakeIn, plannedAddrs, plannedLinks } from './plan-diff.js';
import { plannedSysctls } from './sysctls.js';
import { inNs, type Finding } from './types.js';
import { walkLines, walkPath, type Walk } from './walk.js';
import { liveKernel } from './walk-live.js';
import { readIn, readSysctls } from './live.js';
import type { Workload } from '../lab/types.js';

/**
 * Judges of the live path walk (walk.ts): the first hop where the kernel's walk differs from the
 * plan — a device the plan does not have, a route out of another device than the plan's, a drop —
 * and reverse-path filtering: a hop where the packet arrives on one device while the route back
 * to its source leaves by another (an asymmetric path) and rp_filter is strict (1) there.
 */

/** Pure: the plan's route in NS that the kernel would pick for DST (longest prefix), if the plan has one. */
export function plannedRouteFor(routes: readonly RouteStep[], ns: string, dst: string): RouteStep | undefined {
  let best: RouteStep | undefined;
  let bestLen = -1;
  for (const r of routes) {
    if (r.ns !== ns) continue;
    let len = 0;
    if (r.dest !== 'default') {
      const c = parseCidr(r.dest.includes('/') ? r.dest : `${r.dest}/32`);
      if (!c || !containsIp(c, dst)) continue;
      len = c.prefix;
    }
    if (len > bestLen) [best, bestLen] = [r, len];
  }
  return best;
}

/**
 * Pure: the routes the kernel adds itself for the plan's addresses (a /24 on eth0: 198.19.255.0/24
 * dev eth0) — docker-overlay's container reaches its overlay peers by one, while its default route
 * leaves by eth1.
 */
export function connectedRoutes(steps: readonly Step[]): RouteStep[] {
  return plannedAddrs(steps).flatMap((a) => {
    const c = parseCidr(a.cidr);
    return c && c.prefix < 32 ? [{ kind: 'route' as const, ns: a.ns, dest: cidrText(c), dev: a.dev }] : [];
  });
}

const oneLine = (w: Walk) => walkLines(w).join(' | ');

/**
 * Pure: the walk against the plan (its steps; the static control-plane plan's, so peer routes
 * count) → the first differing hop. REACHED: a small ping got its reply.
 */
export function judgeWalk(walk: Walk, steps: readonly Step[], dst: string, label: string, reached = false): Finding[] {
  const links = plannedLinks(steps);
  const othersMake = othersMakeIn(steps);
  const routes = [...steps.filter((s): s is RouteStep => s.kind === 'route' && !s.blackhole), ...connectedRoutes(steps)];
  for (const h of walk.hops) {
    if (!h.dev || othersMake.has(h.ns)) continue;
    if (!links.has(`${h.ns} ${h.dev}`))
      return [finding(23, `${label}: ${h.ns} sends it out of ${h.dev}, a device the plan does not have`, walk)];
    const r = h.note.startsWith('out ') ? plannedRouteFor(routes, h.ns, dst) : undefined;
    if (r?.dev && r.dev !== h.dev)
      return [finding(23, `${label}: ${h.ns} sends it out of ${h.dev}, the plan's route ${r.dest} says ${r.dev}`, walk)];
  }
  // A kernel refusal the ping contradicts (it got a reply: OVS flows or BPF carried it) is the walk's limit, not a finding.
  if (walk.end === 'dropped' && !reached) return [finding(25, `${label}: the kernel drops it — ${walk.reason}`, walk)];
  return [];
}

function finding(rank: number, what: string, walk: Walk): Finding {
  return { check: 'walk', rank, what, evidence: `path walk: ${oneLine(walk)}`, fix: [] };
}

/** What the walker read for one hop's reverse-path check. */
export interface RpReading {
  /** Live rp_filter of `all` and of the arrival device. */
  all?: string;
  dev?: string;
  /** The device of `ip route get SRC` in that namespace: where the route back leaves. */
  reverseDev?: string;
}

export const rpKey = (dev: string) => `net.ipv4.conf.${dev.replace(/\./g, '/')}.rp_filter`;

/**
 * Pure: hops where the packet arrives on a device other than the one the route back to SRC
 * leaves by, with strict rp_filter (the larger of `all` and the device's is what the kernel
 * applies) → findings. The fix writes back the plan's value (0, a new namespace's default, where
 * the plan sets none; loose, 2, where the plan itself sets strict on a device the path is
 * asymmetric through).
 */
export function judgeRpFilter(walk: Walk, src: string, readings: ReadonlyMap<string, RpReading>, steps: readonly Step[]): Finding[] {
  const planned = new Map(plannedSysctls(steps).map((s) => [`${s.ns} ${s.key}`, s.value]));
  const out: Finding[] = [];
  for (const h of walk.hops) {
    if (!h.iif) continue;
    const r = readings.get(`${h.ns} ${h.iif}`);
    if (!r?.reverseDev || r.reverseDev === h.iif) continue;
    if (Math.max(Number(r.all ?? 0), Number(r.dev ?? 0)) !== 1) continue;
    const fix: string[][] = [];
    for (const [key, live] of [
      ['net.ipv4.conf.all.rp_filter', r.all],
      [rpKey(h.iif), r.dev],
    ] as const) {
      if (live !== '1') continue;
      const want = planned.get(`${h.ns} ${key}`);
      fix.push(inNs(h.ns, ['sysctl', '-w', `${key}=${want === undefined ? '0' : want === '1' ? '2' : want}`]));
    }
    out.push({
      check: 'rp_filter',
      rank: 13,
      what: `${h.ns}: strict rp_filter drops packets from ${src}: they arrive on ${h.iif}, the route back leaves by ${r.reverseDev} (an asymmetric path)`,
      evidence: `rp_filter all=${r.all ?? '?'} ${h.iif}=${r.dev ?? '?'}; ip route get ${src}: dev ${r.reverseDev}${h.note.startsWith('ip route get') ? `; ${h.note}` : ''}`,
      fix,
    });
  }
  return out;
}

/** Walk FROM → TARGET in the live kernel; judge it against the plan and for reverse-path filtering. */
export async function checkPath(
  namespaces: readonly string[],
  from: Pick<Workload, 'ns' | 'node' | 'ip'>,
  to: Pick<Workload, 'ns' | 'node'>,
  target: string,
  steps: readonly Step[],
  reached: boolean,
): Promise<{ walk: Walk; findings: Finding[] }> {
  const walk = await walkPath(liveKernel(namespaces), from.ns, to.ns, from.ip, target);
  const readings = new Map<string, RpReading>();
  await Promise.all(
    walk.hops.map(async (h) => {
      if (!h.iif) return;
      const [sys, back] = await Promise.all([
        readSysctls(h.ns, ['net.ipv4.conf.all.rp_filter', rpKey(h.iif)]),
        readIn(h.ns, 'ip', ['-j', 'route', 'get', from.ip]),
      ]);
      let reverseDev: string | undefined;
      try {
        reverseDev = (JSON.parse(back ?? '[]') as Array<{ dev?: string }>)[0]?.dev;
      } catch {
        reverseDev = undefined;
      }
      readings.set(`${h.ns} ${h.iif}`, { all: sys.get('net.ipv4.conf.all.rp_filter'), dev: sys.get(rpKey(h.iif)), reverseDev });
    }),
  );
  const label = `${from.node} → ${to.node} (${target})`;
  return { walk, findings: [...judgeRpFilter(walk, from.ip, readings, steps), ...judgeWalk(walk, steps, target, label, reached)] };
}
