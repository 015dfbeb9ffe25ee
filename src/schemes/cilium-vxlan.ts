import { BPF_REQUIRES } from './parts/bpf.js';
import { VXLAN_OVERHEAD } from './parts/fabric.js';
import { ciliumBuild } from './parts/cilium.js';
import type { Scheme } from '../plan/scheme.js';

/**
 * Cilium's tunnel mode: from-container sets the tunnel key (bpf_skb_set_tunnel_key, the peer's VTEP
 * from the tunnel map) and redirects to one collect-metadata VXLAN device for all peers; on the
 * receiving host from-netdev on that device redirects into the workload.
 */
export const ciliumVxlan: Scheme = {
  name: 'cilium-vxlan',
  summary: 'Cilium tunnel mode: BPF sets the tunnel key and redirects to one collect-metadata VXLAN device (port 8472)',
  attach: 'direct',
  requires: [{ kind: 'kernel', feature: 'VETH' }, { kind: 'kernel', feature: 'VXLAN' }, ...BPF_REQUIRES],
  notes: [],
  containers: true,
  overhead: VXLAN_OVERHEAD,
  build: (lab) => ciliumBuild(lab, 'tunnel'),
};
