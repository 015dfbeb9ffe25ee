import type { ContainerNode, HostNode, Lab } from '../../lab/types.js';
import { ip, sysctl } from '../../plan/steps.js';
import type { Stage, Step } from '../../plan/types.js';
import { podIp } from './addresses.js';

/**
 * Calico's container side (cni-plugin dataplane_linux.go; Felix endpoint_mgr.go): a veth whose
 * host end has no address and answers ARP for 169.254.1.1 by proxy_arp; the container holds a /32
 * and a default route via 169.254.1.1; the host routes the /32 to the veth.
 * No CNI reference plugin builds this (ptp gives the host end an address), so it is built directly.
 * Shared by calico and canal.
 */
export const CALICO_GATEWAY = '169.254.1.1';
const HOST_MAC = 'ee:ee:ee:ee:ee:ee';

export const caliName = (c: ContainerNode): string => `cali${c.name}`;

export function routedVethStages(lab: Lab, mtu: number): Stage[] {
  const hostSide: Step[] = [];
  const hostSysctls: Step[] = [];
  const containerSide: Step[] = [];
  const routes: Step[] = [];
  for (const h of lab.hosts) {
    // proxy_arp answers for 169.254.1.1 only if the host has a route toward it (datapaths §5).
    routes.push(ip(h.ns, 'route', 'add', 'default', 'dev', h.underlayIf));
    for (const c of h.containers) {
      const veth = caliName(c);
      const addr = podIp(h, c);
      hostSide.push(
        // Both ends take the scheme's MTU: the container's eth0 is the workload interface (issue 16).
        ip(h.ns, 'link', 'add', veth, 'mtu', String(mtu), 'type', 'veth', 'peer', 'name', 'eth0', 'mtu', String(mtu), 'netns', c.ns),
        ip(h.ns, 'link', 'set', veth, 'address', HOST_MAC, 'up'),
      );
      // Sysctls after all links, so each host runs one ip batch and one sysctl, not one per veth.
      hostSysctls.push(
        sysctl(h.ns, `net.ipv4.conf.${veth}.proxy_arp`, 1),
        sysctl(h.ns, `net.ipv4.neigh.${veth}.proxy_delay`, 0),
        sysctl(h.ns, `net.ipv4.conf.${veth}.forwarding`, 1),
        sysctl(h.ns, `net.ipv4.conf.${veth}.route_localnet`, 1),
        sysctl(h.ns, `net.ipv4.conf.${veth}.rp_filter`, 1),
      );
      containerSide.push(
        ip(c.ns, 'link', 'set', 'lo', 'up'),
        ip(c.ns, 'link', 'set', 'eth0', 'up'),
        ip(c.ns, 'addr', 'add', `${addr}/32`, 'dev', 'eth0'),
        ip(c.ns, 'route', 'add', CALICO_GATEWAY, 'dev', 'eth0', 'scope', 'link'),
        ip(c.ns, 'route', 'add', 'default', 'via', CALICO_GATEWAY, 'dev', 'eth0'),
      );
      routes.push(ip(h.ns, 'route', 'add', `${addr}/32`, 'dev', veth, 'scope', 'link'));
    }
  }
  return [
    { title: 'container veths: host end without address, proxy_arp for 169.254.1.1', steps: [...hostSide, ...hostSysctls] },
    { title: 'container side: /32 address, default via 169.254.1.1', steps: containerSide },
    { title: 'host routes: one /32 per local container', steps: routes },
  ];
}

export function hostBlock(h: HostNode): string {
  return `${h.podBlock.network}/${h.podBlock.prefix}`;
}
