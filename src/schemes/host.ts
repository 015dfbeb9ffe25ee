import type { Scheme } from '../plan/scheme.js';
import { direct } from './parts/workloads.js';

/** hostNetwork: nothing is built; benchmark processes run in the host namespaces themselves. */
export const host: Scheme = {
  name: 'host',
  summary: 'host network: the baseline every other scheme is compared against',
  attach: 'none',
  requires: [{ kind: 'kernel', feature: 'VETH' }],
  notes: [],
  containers: false,
  overhead: 0,
  build(lab) {
    return {
      stages: [],
      workloads: lab.hosts.map((h) => ({ node: h.name, ns: h.ns, hostIndex: h.index, ip: h.underlayIp, ifName: h.underlayIf })),
      mtu: lab.underlay.mtu,
      targetIp: direct,
    };
  },
};
