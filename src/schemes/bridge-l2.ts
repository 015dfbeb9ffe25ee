import { addr, addrDel, bridge, linkSet } from '../plan/steps.js';
import type { Step } from '../plan/types.js';
import { underlayIp } from './parts/addresses.js';
import { BRIDGE_PLUGIN, cniAttach, conflist, hostLocal } from './parts/cni-attach.js';
import { containerWorkloads, direct } from './parts/workloads.js';
import type { Scheme } from '../plan/scheme.js';

/**
 * Flat L2: a Linux bridge on each host holds the underlay port, and containers take addresses of
 * the underlay subnet (the PPTV production choice in studies S2: docker0 replaced by a bridge on
 * the physical segment). The host's own address moves from the port to the bridge.
 */
const BRIDGE = 'br0';

export const bridgeL2: Scheme = {
  name: 'bridge-l2',
  summary: 'flat L2: a host bridge holds the underlay port; containers take underlay addresses',
  attach: 'cni',
  requires: BRIDGE_PLUGIN,
  notes: [],
  containers: true,
  overhead: 0,
  build(lab) {
    const ipOf = underlayIp(lab, 'bridge-l2');
    const subnet = `${lab.underlay.network}/${lab.underlay.prefix}`;
    const hostSteps: Step[] = [];
    const attach: Step[] = [];
    for (const h of lab.hosts) {
      const cidr = `${h.underlayIp}/${lab.underlay.prefix}`;
      hostSteps.push(
        bridge(h.ns, BRIDGE),
        linkSet(h.ns, BRIDGE, { mtu: lab.underlay.mtu, up: true }),
        addrDel(h.ns, cidr, h.underlayIf),
        linkSet(h.ns, h.underlayIf, { master: BRIDGE }),
        addr(h.ns, cidr, BRIDGE),
      );
      const list = conflist('bridge-l2', {
        type: 'bridge',
        bridge: BRIDGE,
        isGateway: false,
        ipMasq: false,
        mtu: lab.underlay.mtu,
        ipam: hostLocal(lab, { subnet, rangeStart: h.underlayRange!.start, rangeEnd: h.underlayRange!.end }),
      });
      for (const c of h.containers) attach.push(cniAttach(h, c, list, ipOf(h, c), lab.underlay.prefix));
    }
    return {
      stages: [
        { title: 'host bridge br0 takes the underlay port and the host address', steps: hostSteps },
        { title: 'containers on br0 with underlay addresses (CNI bridge plugin)', steps: attach },
      ],
      workloads: containerWorkloads(lab, ipOf),
      mtu: lab.underlay.mtu,
      targetIp: direct,
    };
  },
};
