import type { Lab } from '../../lab/types.js';
import { linkSet, neigh } from '../../plan/steps.js';
import type { Stage, Step } from '../../plan/types.js';

/**
 * A lab-emulation choice for labs whose hosts meet at a switch and run a control plane: every
 * host's underlay port gets a fixed MAC and every host a permanent neighbour entry for each peer's
 * underlay address. Real hosts resolve each other by ARP, each in a table of its own; here every
 * emulated host shares the one kernel table (net.ipv4.neigh.default.gc_thresh3, 1024 entries by
 * default, the whole machine), and a BGP full mesh of 50 hosts alone needs 2,450 dynamic entries.
 * Permanent entries are not counted against that limit (Linux ≥ 4.20), so the pinned underlay
 * leaves the table to what a real host's own would hold: its containers and its gateway.
 */

const hex = (n: number) => n.toString(16).padStart(2, '0');

/** The fixed, locally administered MAC of host i's underlay port. */
export const underlayMac = (hostIndex: number): string => `02:00:0d:00:${hex(hostIndex >> 8)}:${hex(hostIndex & 255)}`;

/** Whether the lab pins its underlay neighbours: hosts at a switch (3 or more). */
export const pinsUnderlay = (lab: Pick<Lab, 'switch'>): boolean => Boolean(lab.switch);

export const PINNED_NOTE =
  'underlay neighbours pinned (a fixed MAC per host, a permanent ARP entry per peer): a lab choice, as all emulated hosts share one kernel ARP table; real hosts resolve each other by ARP';

/** The stage that pins them, or none for two hosts on one veth pair. */
export function pinnedUnderlayStages(lab: Lab): Stage[] {
  if (!pinsUnderlay(lab)) return [];
  const steps: Step[] = lab.hosts.map((h) => linkSet(h.ns, h.underlayIf, { address: underlayMac(h.index) }));
  for (const h of lab.hosts)
    for (const o of lab.hosts) if (o !== h) steps.push(neigh(h.ns, o.underlayIp, underlayMac(o.index), h.underlayIf));
  return [
    {
      title: `underlay neighbours pinned: a fixed MAC per host port, a permanent ARP entry per peer (${lab.hosts.length * (lab.hosts.length - 1)} entries, outside the kernel's shared ARP limit)`,
      steps,
    },
  ];
}
