import { dfPing } from '../apply/mtu-check.js';
import type { Workload } from '../lab/types.js';
import { readIn } from './live.js';
import type { Finding } from './types.js';

/**
 * Reachability: a small ping from the source workload to the target, with the source's
 * `ip route get` as evidence. It names a broken path no other check explained, so it ranks last.
 */

/** Pure: whether the ping got a reply, and the route the kernel picked → the finding, or none. */
export function judgeReach(
  from: Pick<Workload, 'node'>,
  to: Pick<Workload, 'node'>,
  target: string,
  ok: boolean,
  route: string | null,
): Finding[] {
  if (ok) return [];
  return [
    {
      check: 'path',
      rank: 90,
      what: `${from.node} → ${to.node} (${target}): no reply to a small ping`,
      evidence: `ip route get ${target} in ${from.node}: ${route?.trim().split('\n')[0] ?? 'no route'}`,
      fix: [],
    },
  ];
}

export async function checkReach(from: Workload, to: Workload, target: string): Promise<Finding[]> {
  const ok = (await dfPing(from, target, 56)) || (await dfPing(from, target, 56));
  const route = ok ? null : await readIn(from.ns, 'ip', ['route', 'get', target]);
  return judgeReach(from, to, target, ok, route);
}
