import { PROFILE_REQUIRES } from './parts/calico-profiles.js';
import { podIp } from './parts/addresses.js';
import { VXLAN_OVERHEAD, vxlanFabric } from './parts/fabric.js';
import { routedVethStages } from './parts/routed-veth.js';
import { containerWorkloads, direct } from './parts/workloads.js';
import type { Scheme } from '../plan/scheme.js';

/**
 * Canal (Calico manifests/canal.yaml): Calico's CNI builds the container side — cali* veth, host
 * end without address answering for 169.254.1.1 by proxy_arp, /32 route per container, no cni0
 * bridge (parts/routed-veth.ts) — with flannel's MTU (underlay − 50); flanneld's vxlan backend
 * joins the hosts: flannel.1, VNI 1, port 8472, route, neighbour and FDB entry per peer. IPAM is
 * host-local on flannel's subnet for the host, so there is no blackhole route (Felix does no
 * routing in canal).
 */
export const canal: Scheme = {
  name: 'canal',
  summary: 'Canal: Calico routed veth (169.254.1.1, proxy_arp, /32 routes, no bridge) with flannel.1 VXLAN between hosts',
  tenancy: 'profiles',
  attach: 'direct',
  requires: [
    { kind: 'kernel', feature: 'VETH' },
    { kind: 'kernel', feature: 'VXLAN' },
  ],
  tenantRequires: PROFILE_REQUIRES,
  notes: [],
  containers: true,
  overhead: VXLAN_OVERHEAD,
  build(lab) {
    const mtu = lab.underlay.mtu - VXLAN_OVERHEAD;
    return {
      stages: [...routedVethStages(lab, mtu), ...vxlanFabric(lab, { dev: 'flannel.1', vni: 1, port: 8472, mtu })],
      workloads: containerWorkloads(lab, podIp),
      mtu,
      targetIp: direct,
    };
  },
};
