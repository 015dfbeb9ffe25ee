import type { Step } from '../plan/types.js';
import { underlayIp } from './parts/addresses.js';
import { cniAttach, conflist, hostLocal } from './parts/cni-attach.js';
import { containerWorkloads, direct } from './parts/workloads.js';
import type { Scheme } from '../plan/scheme.js';

/**
 * macvlan in bridge mode: each container gets a macvlan child of the host's underlay port and an
 * address of the underlay subnet (CNI macvlan plugin). A container cannot reach its own host
 * through the parent: that is macvlan's design, not a fault.
 */
export const macvlan: Scheme = {
  name: 'macvlan',
  summary: 'macvlan (bridge mode) on the underlay port; containers take underlay addresses',
  attach: 'cni',
  requires: [
    { kind: 'kernel', feature: 'MACVLAN' },
    { kind: 'cni', plugin: 'macvlan' },
    { kind: 'cni', plugin: 'host-local' },
  ],
  notes: [],
  containers: true,
  overhead: 0,
  build(lab) {
    const ipOf = underlayIp(lab, 'macvlan');
    const subnet = `${lab.underlay.network}/${lab.underlay.prefix}`;
    const attach: Step[] = [];
    for (const h of lab.hosts) {
      const list = conflist('macvlan', {
        type: 'macvlan',
        master: h.underlayIf,
        mode: 'bridge',
        mtu: lab.underlay.mtu,
        ipam: hostLocal(lab, { subnet, rangeStart: h.underlayRange!.start, rangeEnd: h.underlayRange!.end }),
      });
      for (const c of h.containers) attach.push(cniAttach(h, c, list, ipOf(h, c), lab.underlay.prefix));
    }
    return {
      stages: [{ title: 'containers on macvlan children of eth0 (CNI macvlan plugin)', steps: attach }],
      workloads: containerWorkloads(lab, ipOf),
      mtu: lab.underlay.mtu,
      targetIp: direct,
    };
  },
};
