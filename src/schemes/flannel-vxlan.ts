import { podIp } from './parts/addresses.js';
import { VXLAN_OVERHEAD, vxlanFabric } from './parts/fabric.js';
import { BRIDGE_PLUGIN } from './parts/cni-attach.js';
import { flannelAttach } from './parts/flannel-cni.js';
import { containerWorkloads, direct } from './parts/workloads.js';
import type { Scheme } from '../plan/scheme.js';


/** Flannel vxlan: cni0 plus flannel.1 (VNI 1, port 8472, learning off, static neighbour/FDB per peer). */
export const flannelVxlan: Scheme = {
  name: 'flannel-vxlan',
  summary: 'Flannel VXLAN: cni0 bridge plus flannel.1 (VNI 1, port 8472), static neighbour and FDB per peer',
  attach: 'cni',
  requires: [...BRIDGE_PLUGIN, { kind: 'kernel', feature: 'VXLAN' }],
  notes: [],
  containers: true,
  overhead: VXLAN_OVERHEAD,
  build(lab) {
    const mtu = lab.underlay.mtu - VXLAN_OVERHEAD;
    return {
      stages: [...vxlanFabric(lab, { dev: 'flannel.1', vni: 1, port: 8472, mtu }), flannelAttach(lab, mtu)],
      workloads: containerWorkloads(lab, podIp),
      mtu,
      targetIp: direct,
    };
  },
};
