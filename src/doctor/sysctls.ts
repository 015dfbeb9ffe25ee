import type { Step, SysctlStep } from '../plan/types.js';
import { readSysctls } from './live.js';
import { inNs, type Finding } from './types.js';

/**
 * Sysctls: every value the plan sets (ip_forward, a Calico veth's proxy_arp, rp_filter…) read back
 * live. The fix writes the plan's value again.
 */

/** How likely a wrong value is the cause of a broken path: forwarding first, then ARP, then filters. */
function rankOf(key: string): number {
  if (/\.ip_forward$|\.forwarding$/.test(key)) return 10;
  if (/\.proxy_arp$/.test(key)) return 12;
  if (/\.rp_filter$/.test(key)) return 14;
  return 40;
}

const EXPLAIN: Record<string, string> = {
  ip_forward: 'the host does not forward packets',
  forwarding: 'the device does not forward packets',
  proxy_arp: 'the host does not answer ARP for the workload gateway',
  rp_filter: 'reverse-path filtering drops packets arriving on an unexpected device',
};

/** Pure: the plan's sysctls against live values (key → value per namespace) → findings. */
export function judgeSysctls(planned: readonly SysctlStep[], live: ReadonlyMap<string, ReadonlyMap<string, string>>): Finding[] {
  const want = new Map<string, SysctlStep>();
  for (const s of planned) want.set(`${s.ns} ${s.key}`, s); // the last write wins, as when applied
  const out: Finding[] = [];
  for (const s of want.values()) {
    const got = live.get(s.ns)?.get(s.key);
    if (got === undefined || got === s.value) continue;
    const leaf = s.key.slice(s.key.lastIndexOf('.') + 1);
    out.push({
      check: 'sysctl',
      rank: rankOf(s.key),
      what: `${s.ns}: ${s.key} is ${got}, the plan sets ${s.value}${EXPLAIN[leaf] ? ` (${EXPLAIN[leaf]})` : ''}`,
      evidence: `sysctl ${s.key} = ${got}`,
      fix: [inNs(s.ns, ['sysctl', '-w', `${s.key}=${s.value}`])],
    });
  }
  return out;
}

export function plannedSysctls(steps: readonly Step[]): SysctlStep[] {
  return steps.filter((s): s is SysctlStep => s.kind === 'sysctl');
}

export async function checkSysctls(steps: readonly Step[]): Promise<Finding[]> {
  const planned = plannedSysctls(steps);
  const byNs = new Map<string, string[]>();
  for (const s of planned) byNs.set(s.ns, [...new Set([...(byNs.get(s.ns) ?? []), s.key])]);
  const live = new Map<string, Map<string, string>>();
  await Promise.all([...byNs].map(async ([ns, keys]) => live.set(ns, await readSysctls(ns, keys))));
  return judgeSysctls(planned, live);
}
