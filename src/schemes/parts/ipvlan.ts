import type { Requirement } from '../../caps/types.js';
import type { ContainerNode, HostNode, Lab } from '../../lab/types.js';
import type { Stage, Step } from '../../plan/types.js';
import { podIp, underlayIp } from './addresses.js';
import { cniAttach, conflist, hostLocal } from './cni-attach.js';
import { peerRoutes } from './fabric.js';
import { hostBlock } from './routed-veth.js';
import type { Workload } from '../../plan/scheme.js';
import { containerWorkloads } from './workloads.js';

/**
 * ipvlan children of the host's underlay port, attached by the CNI ipvlan plugin (as a runtime
 * using it does). L2: containers share the underlay subnet and its broadcast domain, like
 * macvlan but with the parent's MAC. L3: the children do no ARP; the parent's namespace routes
 * their traffic, so containers take pod-block addresses and every host routes each peer's block
 * via the peer (datapaths §4). Either way a child cannot reach its parent's host.
 */

export const IPVLAN_REQUIRES: Requirement[] = [
  { kind: 'kernel', feature: 'IPVLAN' },
  { kind: 'cni', plugin: 'ipvlan' },
  { kind: 'cni', plugin: 'host-local' },
];

export function ipvlanBuild(lab: Lab, mode: 'l2' | 'l3'): { stages: Stage[]; workloads: Workload[] } {
  const ipOf: (h: HostNode, c: ContainerNode) => string = mode === 'l2' ? underlayIp(lab, 'ipvlan-l2') : podIp;
  const attach: Step[] = [];
  for (const h of lab.hosts) {
    const ipam =
      mode === 'l2'
        ? hostLocal(lab, {
            subnet: `${lab.underlay.network}/${lab.underlay.prefix}`,
            rangeStart: h.underlayRange!.start,
            rangeEnd: h.underlayRange!.end,
          })
        : hostLocal(lab, { subnet: hostBlock(h), routes: [{ dst: '0.0.0.0/0' }] });
    const list = conflist(`ipvlan-${mode}`, { type: 'ipvlan', master: h.underlayIf, mode, mtu: lab.underlay.mtu, ipam });
    const prefix = mode === 'l2' ? lab.underlay.prefix : h.podBlock.prefix;
    for (const c of h.containers) attach.push(cniAttach(h, c, list, ipOf(h, c), prefix));
  }
  const stages: Stage[] = [
    { title: `containers on ipvlan ${mode.toUpperCase()} children of ${lab.hosts[0].underlayIf} (CNI ipvlan plugin)`, steps: attach },
  ];
  if (mode === 'l3') stages.push({ title: 'inter-host routes: each peer block via the peer', steps: peerRoutes(lab) });
  return { stages, workloads: containerWorkloads(lab, ipOf) };
}
