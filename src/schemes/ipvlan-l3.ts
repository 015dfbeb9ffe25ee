import { IPVLAN_REQUIRES, ipvlanBuild } from './parts/ipvlan.js';
import { direct } from './parts/workloads.js';
import type { Scheme } from '../plan/scheme.js';

/** ipvlan in L3 mode on the underlay port (CNI ipvlan plugin); pod blocks routed via the peer hosts. */
export const ipvlanL3: Scheme = {
  name: 'ipvlan-l3',
  summary: 'ipvlan L3 children of the underlay port (CNI ipvlan plugin), no ARP; routes to peer blocks via peer hosts',
  attach: 'cni',
  requires: IPVLAN_REQUIRES,
  notes: [],
  containers: true,
  overhead: 0,
  build(lab) {
    return { ...ipvlanBuild(lab, 'l3'), mtu: lab.underlay.mtu, targetIp: direct };
  },
};
