import { podIp } from './parts/addresses.js';
import { peerRoutes } from './parts/fabric.js';
import { BRIDGE_PLUGIN } from './parts/cni-attach.js';
import { flannelAttach } from './parts/flannel-cni.js';
import { ETCD_REQUIRES, flannelControl } from './parts/flannel-etcd.js';
import { containerWorkloads, direct } from './parts/workloads.js';
import type { Scheme } from '../plan/scheme.js';

/**
 * Flannel host-gw: cni0 per host and a route to each peer's subnet via the peer (flannel hostgw.go),
 * programmed by cnlab's flannel agent from the leases in etcd, or by the plan with --control-plane static.
 */
export const flannelHostgw: Scheme = {
  name: 'flannel-hostgw',
  summary: 'Flannel host-gw: cni0 bridge, routes to each peer subnet via the peer host (needs L2 adjacency)',
  tenancy: 'flat',
  attach: 'cni',
  requires: BRIDGE_PLUGIN,
  controlRequires: ETCD_REQUIRES,
  notes: [],
  containers: true,
  overhead: 0,
  build(lab) {
    const control = flannelControl(lab, { backend: 'host-gw', dev: lab.hosts[0].underlayIf, mtu: lab.underlay.mtu }, () => [
      { title: 'routes to each peer subnet via the peer host', steps: peerRoutes(lab) },
    ]);
    return {
      stages: [...control.stages, flannelAttach(lab, lab.underlay.mtu)],
      notes: control.notes,
      control: control.control,
      extraNodes: control.extraNodes,
      workloads: containerWorkloads(lab, podIp),
      mtu: lab.underlay.mtu,
      targetIp: direct,
    };
  },
};
