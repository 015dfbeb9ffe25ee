import { PROFILE_REQUIRES } from './parts/calico-profiles.js';
import { blackhole } from '../plan/steps.js';
import type { Step } from '../plan/types.js';
import { podIp } from './parts/addresses.js';
import { peerRoutes } from './parts/fabric.js';
import { BIRD_REQUIRES, calicoRouting } from './parts/calico-bgp.js';
import { hostBlock, routedVethStages } from './parts/routed-veth.js';
import { containerWorkloads, direct } from './parts/workloads.js';
import type { Scheme } from '../plan/scheme.js';

/**
 * Calico with BGP routing, no encapsulation: routed veths (see parts/routed-veth.ts) and, between
 * hosts, one route per peer's block via the peer's underlay address, installed by BIRD from BGP
 * (parts/calico-bgp.ts), with BIRD's static blackhole for the own block. With --control-plane
 * static the plan writes those routes itself.
 */
export const calico: Scheme = {
  name: 'calico',
  summary: 'Calico: routed veth, proxy_arp 169.254.1.1 gateway, /32 routes, peer block routes from BGP (BIRD)',
  tenancy: 'profiles',
  attach: 'direct',
  requires: [{ kind: 'kernel', feature: 'VETH' }],
  tenantRequires: PROFILE_REQUIRES,
  controlRequires: BIRD_REQUIRES,
  notes: [],
  containers: true,
  overhead: 0,
  build(lab) {
    const peers: Step[] = [...lab.hosts.map((h) => blackhole(h.ns, hostBlock(h))), ...peerRoutes(lab)];
    const routing = calicoRouting(lab, () => [{ title: 'inter-host routes: each peer block via the peer', steps: peers }]);
    return {
      stages: [...routedVethStages(lab, lab.underlay.mtu), ...routing.stages],
      notes: routing.notes,
      control: routing.control,
      standIn: routing.standIn,
      workloads: containerWorkloads(lab, podIp),
      mtu: lab.underlay.mtu,
      targetIp: direct,
    };
  },
};
