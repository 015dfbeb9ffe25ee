import { addrAt, parseCidr, size, subnetAt } from './ipv4.js';
import { labStateDir } from './paths.js';
import { nsName, type ContainerNode, type HostNode, type Lab, type Topology } from './types.js';

/**
 * Topology → Lab: names every node, namespace and interface, and gives every host its underlay
 * address, pod block and underlay range. Pure. Assumes loadTopology() already validated the input.
 */
export function resolveLab(t: Topology): Lab {
  const under = parseCidr(t.underlay.cidr)!;
  const pods = parseCidr(t.pods.cidr)!;
  const perHostMax = t.containersPerHost + (t.sameHost ? 1 : 0);
  // Underlay addresses after the hosts' own are split evenly between hosts, for schemes whose
  // containers live on the underlay segment (bridge-l2, macvlan).
  const free = size(under) - 2 - t.hosts;
  const chunk = Math.floor(free / t.hosts);

  const hosts: HostNode[] = [];
  for (let i = 1; i <= t.hosts; i++) {
    const count = t.containersPerHost + (t.sameHost && i === 1 ? 1 : 0);
    const containers: ContainerNode[] = [];
    for (let k = 1; k <= count; k++) {
      const name = `h${i}c${k}`;
      // Tenants round-robin within each host, so every host holds members of every tenant (given
      // enough containers): same-host and cross-host pairs exist both within and across tenants.
      const tenant = t.tenants === undefined ? {} : { tenant: ((k - 1) % t.tenants) + 1 };
      containers.push({
        kind: 'container',
        name,
        ns: nsName(t.lab, name),
        hostIndex: i,
        index: k,
        id: nsName(t.lab, name),
        slot: k,
        ...tenant,
      });
    }
    const first = t.hosts + 1 + (i - 1) * chunk;
    hosts.push({
      kind: 'host',
      name: `h${i}`,
      ns: nsName(t.lab, `h${i}`),
      index: i,
      underlayIf: 'eth0',
      underlayIp: addrAt(under, i),
      podBlock: subnetAt(pods, t.pods.blockPrefix, i),
      underlayRange: chunk >= perHostMax ? { start: addrAt(under, first), end: addrAt(under, first + chunk - 1) } : undefined,
      containers,
    });
  }
  return {
    name: t.lab,
    topology: t,
    hosts,
    // A link rate also needs the switch: its ports are where the rate is enforced (plan/base.ts).
    switch: t.hosts > 2 || t.underlay.rate ? { kind: 'switch', name: 'sw', ns: nsName(t.lab, 'sw'), bridge: 'br0' } : undefined,
    underlay: { ...under, mtu: t.underlay.mtu, rate: t.underlay.rate },
    pods,
    stateDir: labStateDir(t.lab),
  };
}

/** Every container of the lab, host by host. */
export function allContainers(lab: Lab): ContainerNode[] {
  return lab.hosts.flatMap((h) => h.containers);
}

export function hostOf(lab: Lab, c: ContainerNode): HostNode {
  return lab.hosts[c.hostIndex - 1];
}

/** The containers of tenant `t` (1-based), host by host; empty when the lab has no tenants. */
export function tenantMembers(lab: Lab, t: number): ContainerNode[] {
  return allContainers(lab).filter((c) => c.tenant === t);
}
