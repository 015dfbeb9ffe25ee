import { podIp } from './parts/addresses.js';
import { peerRoutes } from './parts/fabric.js';
import { BRIDGE_PLUGIN } from './parts/cni-attach.js';
import { flannelAttach } from './parts/flannel-cni.js';
import { containerWorkloads, direct } from './parts/workloads.js';
import type { Scheme } from '../plan/scheme.js';

/** Flannel host-gw: cni0 per host and a route to each peer's subnet via the peer (flannel hostgw.go). */
export const flannelHostgw: Scheme = {
  name: 'flannel-hostgw',
  summary: 'Flannel host-gw: cni0 bridge, routes to each peer subnet via the peer host (needs L2 adjacency)',
  attach: 'cni',
  requires: BRIDGE_PLUGIN,
  notes: [],
  containers: true,
  overhead: 0,
  build(lab) {
    return {
      stages: [{ title: 'routes to each peer subnet via the peer host', steps: peerRoutes(lab) }, flannelAttach(lab, lab.underlay.mtu)],
      workloads: containerWorkloads(lab, podIp),
      mtu: lab.underlay.mtu,
      targetIp: direct,
    };
  },
};
