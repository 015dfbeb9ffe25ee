import { allContainers, hostOf } from '../../lab/resolve.js';
import type { ContainerNode, HostNode, Lab } from '../../lab/types.js';
import type { Workload } from '../../plan/scheme.js';

/** The port benchmark servers listen on inside a workload. */
export const SERVICE_PORT = 5201;
/**
 * Every port the benchmark tools use (SERVICE_PORT and the two after it: qperf's TCP data port and
 * sockperf's TCP port, kept apart from iperf3's so its TIME_WAIT sockets never block a bind).
 * docker-bridge publishes them all.
 */
export const SERVICE_PORT_LAST = SERVICE_PORT + 2;

/** One workload per container, its address chosen by the scheme. */
export function containerWorkloads(lab: Lab, ipOf: (h: HostNode, c: ContainerNode) => string): Workload[] {
  return allContainers(lab).map((c) => ({ node: c.name, ns: c.ns, hostIndex: c.hostIndex, ip: ipOf(hostOf(lab, c), c), ifName: 'eth0' }));
}

/** Workloads dial each other's own address: the usual case. */
export const direct = (_from: Workload, to: Workload): string => to.ip;
