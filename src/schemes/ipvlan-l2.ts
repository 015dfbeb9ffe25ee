import { IPVLAN_REQUIRES, ipvlanBuild } from './parts/ipvlan.js';
import { direct } from './parts/workloads.js';
import type { Scheme } from '../plan/scheme.js';

/** ipvlan in L2 mode on the underlay port (CNI ipvlan plugin); containers take underlay addresses. */
export const ipvlanL2: Scheme = {
  name: 'ipvlan-l2',
  summary: 'ipvlan L2 children of the underlay port (CNI ipvlan plugin); containers take underlay addresses',
  attach: 'cni',
  requires: IPVLAN_REQUIRES,
  notes: [],
  containers: true,
  overhead: 0,
  build(lab) {
    return { ...ipvlanBuild(lab, 'l2'), mtu: lab.underlay.mtu, targetIp: direct };
  },
};
