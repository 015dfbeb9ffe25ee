import type { Requirement } from '../../caps/types.js';
import type { ContainerNode, HostNode, Lab } from '../../lab/types.js';
import { join } from 'node:path';
import type { CniConfList } from '../../cni/types.js';
import type { Step } from '../../plan/types.js';

/**
 * Containers attached through the CNI reference plugins, as a container runtime does it. Every
 * conflist asks host-local for the exact address the plan chose (the "ips" capability), so the
 * plan stays pure and printable, and keeps IPAM state in the lab's own directory.
 */

export interface HostLocal {
  subnet: string;
  rangeStart?: string;
  rangeEnd?: string;
  gateway?: string;
  routes?: Array<{ dst: string; gw?: string }>;
}

export function hostLocal(lab: Lab, ipam: HostLocal): Record<string, unknown> {
  const range: Record<string, unknown> = { subnet: ipam.subnet };
  if (ipam.rangeStart) range.rangeStart = ipam.rangeStart;
  if (ipam.rangeEnd) range.rangeEnd = ipam.rangeEnd;
  if (ipam.gateway) range.gateway = ipam.gateway;
  return { type: 'host-local', ranges: [[range]], routes: ipam.routes ?? [], dataDir: join(lab.stateDir, 'ipam') };
}

/** One main plugin (bridge, macvlan, ptp…) with the ips capability, as a conflist. */
export function conflist(name: string, plugin: Record<string, unknown> & { type: string }): CniConfList {
  return { cniVersion: '1.0.0', name, plugins: [{ ...plugin, capabilities: { ips: true } }] };
}

export function cniAttach(h: HostNode, c: ContainerNode, list: CniConfList, ip: string, prefix: number): Step {
  return {
    kind: 'cni',
    ns: h.ns,
    containerNs: c.ns,
    containerId: c.id,
    ifName: 'eth0',
    conflist: list,
    runtimeConfig: { ips: [`${ip}/${prefix}`] },
  };
}

/** What the CNI bridge plugin with host-local needs. */
export const BRIDGE_PLUGIN: Requirement[] = [
  { kind: 'kernel', feature: 'BRIDGE' },
  { kind: 'cni', plugin: 'bridge' },
  { kind: 'cni', plugin: 'host-local' },
];
