import { BPF_REQUIRES } from './parts/bpf.js';
import { ciliumBuild } from './parts/cilium.js';
import { STATIC_ROUTES } from './parts/stand-ins.js';
import type { Scheme } from '../plan/scheme.js';

/**
 * Cilium's "legacy host routing": the same programs and maps as `cilium`, configured to return
 * every packet to the host's IP stack (TC_ACT_OK), which routes and forwards it. The pair shows
 * what BPF host routing buys.
 */
export const ciliumLegacy: Scheme = {
  name: 'cilium-legacy',
  summary: 'Cilium native routing, legacy host routing: the same tc programs hand every packet to the host stack',
  attach: 'direct',
  requires: [{ kind: 'kernel', feature: 'VETH' }, ...BPF_REQUIRES],
  notes: ['peer routes static (no BGP daemon yet)'],
  standIn: STATIC_ROUTES,
  containers: true,
  overhead: 0,
  build: (lab) => ciliumBuild(lab, 'legacy'),
};
