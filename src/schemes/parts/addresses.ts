import { InputError } from '../../errors.js';
import { addrAt, cidrText, ipToInt, intToIp, size, subnetAt } from '../../lab/ipv4.js';
import { allContainers } from '../../lab/resolve.js';
import type { Cidr, ContainerNode, HostNode, Lab } from '../../lab/types.js';

/** Pod addressing: the host's block, gateway at .1, containers from .2 on. */
export const podGateway = (h: HostNode): string => addrAt(h.podBlock, 1);
export const podIp = (h: HostNode, c: ContainerNode): string => addrAt(h.podBlock, 1 + c.slot);

/** Underlay addressing for containers on the hosts' L2 segment (bridge-l2, macvlan). */
export function underlayIp(lab: Lab, scheme: string): (h: HostNode, c: ContainerNode) => string {
  if (lab.hosts.some((h) => !h.underlayRange)) {
    throw new InputError(
      `${scheme} puts containers on the underlay ${lab.topology.underlay.cidr}, which has no room for them`,
      'use a larger --underlay, e.g. 198.18.0.0/20',
    );
  }
  return (h, c) => intToIp(ipToInt(h.underlayRange!.start) + c.slot - 1);
}

/** A deterministic locally administered MAC for host i's tunnel endpoint. */
export function vtepMac(hostIndex: number, tag = 1): string {
  const hex = (n: number) => n.toString(16).padStart(2, '0');
  return `02:00:00:00:${hex(hostIndex)}:${hex(tag)}`;
}

/**
 * CIDR isolation (Weave's `weave attach net:…`, Docker's network per tenant): tenant t's subnet,
 * spanning every host, is the pod block after the hosts' own: block hosts + t of the pod network.
 */
export function tenantSubnet(lab: Lab, t: number): Cidr {
  const blocks = 2 ** (lab.topology.pods.blockPrefix - lab.pods.prefix);
  const tenants = lab.topology.tenants ?? 0;
  if (lab.hosts.length + tenants > blocks - 1) {
    throw new InputError(
      `${tenants} tenant subnets of /${lab.topology.pods.blockPrefix} do not fit ${cidrText(lab.pods)} beside ${lab.hosts.length} host blocks`,
      'use a larger --pods or a longer --pod-block',
    );
  }
  return subnetAt(lab.pods, lab.topology.pods.blockPrefix, lab.hosts.length + t);
}

/** A container's address in its tenant's subnet: members in host then container order, from .2 on. */
export function tenantIp(lab: Lab): (h: HostNode, c: ContainerNode) => string {
  return (_h, c) => {
    const subnet = tenantSubnet(lab, c.tenant!);
    const members = allContainers(lab).filter((m) => m.tenant === c.tenant);
    if (members.length + 3 > size(subnet)) {
      throw new InputError(`tenant ${c.tenant}'s ${members.length} containers do not fit ${cidrText(subnet)}`, 'use a shorter --pod-block');
    }
    return addrAt(subnet, 2 + members.indexOf(c));
  };
}
