import { PROFILE_REQUIRES } from './parts/calico-profiles.js';
import { podIp } from './parts/addresses.js';
import { ownBlockBlackholes, tunnelRoutes } from './parts/fabric.js';
import { BIRD_REQUIRES, calicoRouting } from './parts/calico-bgp.js';
import { routedVethStages } from './parts/routed-veth.js';
import { containerWorkloads, direct } from './parts/workloads.js';
import { addr, exec, linkSet } from '../plan/steps.js';
import type { Step } from '../plan/types.js';
import type { Scheme } from '../plan/scheme.js';

const OVERHEAD = 20; // outer IPv4 header

/**
 * Felix's get-or-create of tunl0 (ipip_mgr.go: LinkByName, else LinkAdd of an Iptun named tunl0).
 * Where the ipip module is loaded the kernel's fallback tunl0 already exists in every namespace
 * (unless net.core.fb_tunnels_only_for_init_net says otherwise) and adding it again fails, so the
 * check must happen on the machine. A constant script: nothing from input is spliced into it.
 */
const ENSURE_TUNL0 = 'ip link show dev tunl0 >/dev/null 2>&1 || ip link add name tunl0 type ipip';

/**
 * Calico in IP-in-IP mode (Felix ipip_mgr.go; routes as BIRD programs them): Calico's routed
 * container side (parts/routed-veth.ts) with veth MTU underlay − 20; tunl0 up with MTU underlay −
 * 20 and the block's tunnel address; a blackhole for the own block; each peer's block via the
 * peer's underlay address on tunl0, onlink (tunl0 has no remote: the outer destination is the
 * route's gateway). BIRD programs the blackhole and the peer routes (parts/calico-bgp.ts; not
 * tried here: this kernel has no ipip); with --control-plane static the plan writes them.
 */
export const calicoIpip: Scheme = {
  name: 'calico-ipip',
  summary: "Calico IP-in-IP: routed veth, tunl0 (MTU 1480) with the block's tunnel address, peer blocks via peers on tunl0 onlink",
  tenancy: 'profiles',
  attach: 'direct',
  requires: [
    { kind: 'kernel', feature: 'VETH' },
    { kind: 'kernel', feature: 'NET_IPIP' },
  ],
  tenantRequires: PROFILE_REQUIRES,
  controlRequires: BIRD_REQUIRES,
  notes: [],
  containers: true,
  overhead: OVERHEAD,
  build(lab) {
    const mtu = lab.underlay.mtu - OVERHEAD;
    const routing = calicoRouting(
      lab,
      () => [{ title: 'inter-host routes: each peer block via the peer on tunl0, onlink', steps: tunnelRoutes(lab, 'tunl0') }],
      { kind: 'ipip', dev: 'tunl0' },
    );
    const tunnel: Step[] = routing.control ? [] : [...ownBlockBlackholes(lab)];
    const ensure: Step[] = [];
    for (const h of lab.hosts) {
      ensure.push(exec(h.ns, ['sh', '-c', ENSURE_TUNL0]));
      tunnel.push(linkSet(h.ns, 'tunl0', { mtu, up: true }), addr(h.ns, `${h.podBlock.network}/32`, 'tunl0'));
    }
    return {
      stages: [
        ...routedVethStages(lab, mtu),
        { title: 'tunl0 on every host (Felix: get or create)', steps: ensure },
        {
          title: `tunl0 up, MTU ${mtu}, the block's tunnel address${routing.control ? '' : '; blackhole for the own block'}`,
          steps: tunnel,
        },
        ...routing.stages,
      ],
      notes: routing.notes,
      control: routing.control,
      standIn: routing.standIn,
      workloads: containerWorkloads(lab, podIp),
      mtu,
      targetIp: direct,
    };
  },
};
