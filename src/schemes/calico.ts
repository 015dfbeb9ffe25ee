import { blackhole } from '../plan/steps.js';
import type { Step } from '../plan/types.js';
import { podIp } from './parts/addresses.js';
import { peerRoutes } from './parts/fabric.js';
import { hostBlock, routedVethStages } from './parts/routed-veth.js';
import { containerWorkloads, direct } from './parts/workloads.js';
import type { Scheme } from '../plan/scheme.js';
import { STATIC_ROUTES } from './parts/stand-ins.js';

/**
 * Calico with BGP routing, no encapsulation: routed veths (see parts/routed-veth.ts) and, between
 * hosts, one route per peer's block via the peer's underlay address — what BIRD installs from BGP.
 * For now the peer routes are static; the blackhole for the own block is BIRD's static route.
 */
export const calico: Scheme = {
  name: 'calico',
  summary: 'Calico: routed veth, proxy_arp 169.254.1.1 gateway, /32 routes, peer block routes (static for now, BGP later)',
  attach: 'direct',
  requires: [{ kind: 'kernel', feature: 'VETH' }],
  notes: ['peer routes static (no BGP daemon yet)'],
  standIn: STATIC_ROUTES,
  containers: true,
  overhead: 0,
  build(lab) {
    const peers: Step[] = [...lab.hosts.map((h) => blackhole(h.ns, hostBlock(h))), ...peerRoutes(lab)];
    return {
      stages: [...routedVethStages(lab, lab.underlay.mtu), { title: 'inter-host routes: each peer block via the peer', steps: peers }],
      workloads: containerWorkloads(lab, podIp),
      mtu: lab.underlay.mtu,
      targetIp: direct,
    };
  },
};
