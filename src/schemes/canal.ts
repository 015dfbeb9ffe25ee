import { PROFILE_REQUIRES } from './parts/calico-profiles.js';
import { podIp } from './parts/addresses.js';
import { VXLAN_OVERHEAD, vxlanFabric } from './parts/fabric.js';
import { ETCD_REQUIRES, flannelControl } from './parts/flannel-etcd.js';
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
 *
 * Control plane: flannel's half is real — etcd and cnlab's flannel agent per host program each
 * peer's route, neighbour and FDB entry from its lease (parts/flannel-etcd.ts), or the plan writes
 * them with --control-plane static. Calico's half never routes in canal (no BIRD, no BGP): Felix
 * only programs policy, which the plan writes (Calico profiles with --tenants).
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
  controlRequires: ETCD_REQUIRES,
  notes: [],
  containers: true,
  overhead: VXLAN_OVERHEAD,
  build(lab) {
    const mtu = lab.underlay.mtu - VXLAN_OVERHEAD;
    const [devices, peers] = vxlanFabric(lab, { dev: 'flannel.1', vni: 1, port: 8472, mtu });
    const control = flannelControl(lab, { backend: 'vxlan', dev: 'flannel.1', mtu }, () => [peers]);
    return {
      stages: [...routedVethStages(lab, mtu), devices, ...control.stages],
      notes: [...control.notes, "Calico's half routes nothing in canal (no BIRD): Felix programs policy only"],
      control: control.control,
      extraNodes: control.extraNodes,
      workloads: containerWorkloads(lab, podIp),
      mtu,
      targetIp: direct,
    };
  },
};
