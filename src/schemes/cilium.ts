import { BPF_REQUIRES } from './parts/bpf.js';
import { ciliumBuild } from './parts/cilium.js';
import { STATIC_ROUTES } from './parts/stand-ins.js';
import type { Scheme } from '../plan/scheme.js';

/**
 * Cilium, native routing with BPF host routing: tc programs forward between a workload's veth and
 * the wire (bpf_fib_lookup + bpf_redirect/bpf_redirect_neigh) or another local workload
 * (bpf_redirect_peer) without the host's IP stack. Peer block routes are static for now.
 */
export const cilium: Scheme = {
  name: 'cilium',
  summary: 'Cilium native routing, BPF host routing: tc programs redirect veth↔wire and veth↔veth past the host stack',
  attach: 'direct',
  requires: [{ kind: 'kernel', feature: 'VETH' }, ...BPF_REQUIRES],
  notes: ['peer routes static (no BGP daemon yet)'],
  standIn: STATIC_ROUTES,
  containers: true,
  overhead: 0,
  build: (lab) => ciliumBuild(lab, 'redirect'),
};
