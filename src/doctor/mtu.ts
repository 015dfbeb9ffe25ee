import { dfPing, PING_OVERHEAD, readMtu } from '../apply/mtu-check.js';
import type { Workload } from '../lab/types.js';
import type { Finding } from './types.js';

/**
 * MTU: the source workload's interface MTU against the scheme's, and the largest don't-fragment
 * packet that crosses to the target (binary search with `ping -M do`). A workload MTU above the
 * path MTU is a black hole — full-size DF packets (TCP's) silently dropped while ping and
 * handshakes pass — and is named with both numbers; the fix sets the scheme's MTU back.
 */

export interface MtuProbe {
  from: Pick<Workload, 'node' | 'ns' | 'ifName'>;
  target: string;
  /** The scheme's workload MTU (the plan's). */
  planned: number;
  /** The interface's live MTU. */
  live?: number;
  /** Whether a small ping crosses at all. */
  smallOk: boolean;
  /** Whether a DF packet of the live MTU crosses. */
  fullOk: boolean;
  /** The largest DF packet (bytes, IP) that crossed, when searched. */
  pathMtu?: number;
}

/** Pure: one probe → the finding, or none. */
export function judgeMtu(p: MtuProbe): Finding[] {
  if (p.live === undefined || !p.smallOk || p.fullOk) return [];
  const path = p.pathMtu === undefined ? 'below it' : `${p.pathMtu}`;
  const fix = p.live !== p.planned ? [['ip', '-n', p.from.ns, 'link', 'set', 'dev', p.from.ifName, 'mtu', String(p.planned)]] : [];
  return [
    {
      check: 'mtu',
      rank: p.live > p.planned ? 8 : 18,
      what: `black hole: ${p.from.node} ${p.from.ifName} has MTU ${p.live}${p.live !== p.planned ? ` (the scheme's is ${p.planned})` : ''}, the path MTU to ${p.target} is ${path}: full-size DF packets are dropped silently`,
      evidence: `ping -M do -s ${p.live - PING_OVERHEAD} ${p.target}: no reply${p.pathMtu ? `; largest DF packet that crosses: ${p.pathMtu} B` : ''}; a small ping crosses`,
      fix,
    },
  ];
}

/** The largest DF packet size in [lo, hi] that crosses (lo known to cross). */
async function searchPathMtu(from: Pick<Workload, 'ns'>, target: string, lo: number, hi: number): Promise<number> {
  while (lo < hi) {
    const mid = Math.ceil((lo + hi) / 2);
    if (await dfPing(from, target, mid - PING_OVERHEAD)) lo = mid;
    else hi = mid - 1;
  }
  return lo;
}

export async function checkMtu(from: Workload, target: string, planned: number): Promise<Finding[]> {
  const live = await readMtu(from);
  if (live === undefined) return [];
  // A small packet first: it resolves neighbours (and wakes daemons) before the full-size probe.
  const smallOk = (await dfPing(from, target, 56)) || (await dfPing(from, target, 56));
  const fullOk = smallOk && (await dfPing(from, target, live - PING_OVERHEAD));
  const probe: MtuProbe = { from, target, planned, live, smallOk, fullOk };
  if (!smallOk || fullOk) return judgeMtu(probe);
  // The scheme's MTU is the likely path MTU: two probes confirm it, else a binary search.
  if (planned < live && (await dfPing(from, target, planned - PING_OVERHEAD)) && !(await dfPing(from, target, planned + 1 - PING_OVERHEAD)))
    probe.pathMtu = planned;
  else probe.pathMtu = await searchPathMtu(from, target, 84, live - 1);
  return judgeMtu(probe);
}
