import { InputError } from '../../errors.js';
import { addrAt, ipToInt, intToIp } from '../../lab/ipv4.js';
import type { ContainerNode, HostNode, Lab } from '../../lab/types.js';

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
