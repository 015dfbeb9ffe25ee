import type { Lab } from '../../lab/types.js';
import type { Stage, Step } from '../../plan/types.js';
import { podGateway, podIp } from './addresses.js';
import { cniAttach, conflist, hostLocal } from './cni-attach.js';
import { hostBlock } from './routed-veth.js';

/**
 * Flannel's CNI plugin delegates to the bridge plugin with what flanneld wrote to subnet.env:
 * bridge cni0 as gateway, hairpin mode, the backend's MTU, host-local on the host's subnet with
 * a route to the whole pod network (flannel cni plugin flannel_linux.go).
 */
export function flannelAttach(lab: Lab, mtu: number): Stage {
  const steps: Step[] = [];
  const network = `${lab.pods.network}/${lab.pods.prefix}`;
  for (const h of lab.hosts) {
    const list = conflist('cbr0', {
      type: 'bridge',
      bridge: 'cni0',
      isGateway: true,
      hairpinMode: true,
      ipMasq: false,
      mtu,
      ipam: hostLocal(lab, { subnet: hostBlock(h), gateway: podGateway(h), routes: [{ dst: network }] }),
    });
    for (const c of h.containers) steps.push(cniAttach(h, c, list, podIp(h, c), h.podBlock.prefix));
  }
  return { title: `containers on cni0, MTU ${mtu} (CNI bridge plugin, as flannel delegates)`, steps };
}
