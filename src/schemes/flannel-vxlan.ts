import { podIp } from './parts/addresses.js';
import { VXLAN_OVERHEAD, vxlanFabric } from './parts/fabric.js';
import { BRIDGE_PLUGIN } from './parts/cni-attach.js';
import { flannelAttach } from './parts/flannel-cni.js';
import { ETCD_REQUIRES, flannelControl } from './parts/flannel-etcd.js';
import { containerWorkloads, direct } from './parts/workloads.js';
import type { Scheme } from '../plan/scheme.js';

/**
 * Flannel vxlan: cni0 plus flannel.1 (VNI 1, port 8472, learning off) and per peer a route,
 * neighbour and FDB entry, programmed by cnlab's flannel agent from the leases in etcd
 * (parts/flannel-etcd.ts), or written by the plan with --control-plane static.
 */
export const flannelVxlan: Scheme = {
  name: 'flannel-vxlan',
  summary: 'Flannel VXLAN: cni0 bridge plus flannel.1 (VNI 1, port 8472), neighbour and FDB per peer from etcd leases',
  tenancy: 'flat',
  attach: 'cni',
  requires: [...BRIDGE_PLUGIN, { kind: 'kernel', feature: 'VXLAN' }],
  controlRequires: ETCD_REQUIRES,
  notes: [],
  containers: true,
  overhead: VXLAN_OVERHEAD,
  build(lab) {
    const mtu = lab.underlay.mtu - VXLAN_OVERHEAD;
    const [devices, peers] = vxlanFabric(lab, { dev: 'flannel.1', vni: 1, port: 8472, mtu });
    const control = flannelControl(lab, { backend: 'vxlan', dev: 'flannel.1', mtu }, () => [peers]);
    return {
      stages: [devices, ...control.stages, flannelAttach(lab, mtu)],
      notes: control.notes,
      control: control.control,
      extraNodes: control.extraNodes,
      workloads: containerWorkloads(lab, podIp),
      mtu,
      targetIp: direct,
    };
  },
};
