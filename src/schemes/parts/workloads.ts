import { allContainers, hostOf } from '../../lab/resolve.js';
import type { ContainerNode, HostNode, Lab } from '../../lab/types.js';
import type { Workload } from '../../plan/scheme.js';

/** The service ports belong to the lab model; re-exported for the schemes that publish them. */
export { SERVICE_PORT, SERVICE_PORT_LAST } from '../../lab/ports.js';

/** One workload per container, its address chosen by the scheme. */
export function containerWorkloads(lab: Lab, ipOf: (h: HostNode, c: ContainerNode) => string): Workload[] {
  return allContainers(lab).map((c) => ({ node: c.name, ns: c.ns, hostIndex: c.hostIndex, ip: ipOf(hostOf(lab, c), c), ifName: 'eth0' }));
}

/** Workloads dial each other's own address: the usual case. */
export const direct = (_from: Workload, to: Workload): string => to.ip;
