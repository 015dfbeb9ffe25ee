import { readSysctls } from './live.js';
import type { Finding } from './types.js';

/**
 * Conntrack table full: each host namespace's entry count against nf_conntrack_max. When the
 * table is full the kernel drops the first packet of every new flow ("nf_conntrack: table full,
 * dropping packet"). The limit is the machine's (read-only inside a namespace), so doctor names
 * it and suggests no command: raising it would change the host's own settings.
 */

/** A table at or above this share of its limit is named (new flows start failing at 100 %). */
export const CONNTRACK_FULL = 0.9;

/** Pure: a namespace's count and limit → the finding, or none. */
export function judgeConntrack(ns: string, count: number | undefined, max: number | undefined): Finding[] {
  if (count === undefined || !max || count < CONNTRACK_FULL * max) return [];
  return [
    {
      check: 'conntrack',
      rank: 16,
      what: `${ns}: the conntrack table holds ${count} of at most ${max} entries: new flows are dropped when it is full`,
      evidence: `sysctl net.netfilter.nf_conntrack_count = ${count}, net.netfilter.nf_conntrack_max = ${max}`,
      fix: [],
    },
  ];
}

export async function checkConntrack(namespaces: readonly string[]): Promise<Finding[]> {
  const keys = ['net.netfilter.nf_conntrack_count', 'net.netfilter.nf_conntrack_max'];
  const all = await Promise.all(
    namespaces.map(async (ns) => {
      const m = await readSysctls(ns, keys);
      const num = (k: string) => (m.has(k) ? Number(m.get(k)) : undefined);
      return judgeConntrack(ns, num(keys[0]), num(keys[1]));
    }),
  );
  return all.flat();
}
