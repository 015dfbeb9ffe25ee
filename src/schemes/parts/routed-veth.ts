import type { ContainerNode, HostNode, Lab } from '../../lab/types.js';
import { addr, linkSet, route, sysctl, up, veth } from '../../plan/steps.js';
import type { Stage, Step } from '../../plan/types.js';
import { podIp } from './addresses.js';
import { profileStages } from './calico-profiles.js';

/**
 * Calico's container side (cni-plugin dataplane_linux.go; Felix endpoint_mgr.go): a veth whose
 * host end has no address and answers ARP for 169.254.1.1 by proxy_arp; the container holds a /32
 * and a default route via 169.254.1.1; the host routes the /32 to the veth.
 * No CNI reference plugin builds this (ptp gives the host end an address), so it is built directly.
 * Shared by calico and canal. With tenants, Felix's profiles guard the host ends (calico-profiles.ts).
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
    routes.push(route(h.ns, 'default', { dev: h.underlayIf }));
    for (const c of h.containers) {
      const hostEnd = caliName(c);
      const ip = podIp(h, c);
      hostSide.push(
        // Both ends at the scheme's MTU: a container eth0 left at 1500 behind a 1450 tunnel is a black hole.
        veth(h.ns, hostEnd, { name: 'eth0', mtu, ns: c.ns }, mtu),
        linkSet(h.ns, hostEnd, { address: HOST_MAC, up: true }),
      );
      // Sysctls after all links, so each host runs one ip batch and one sysctl, not one per veth.
      hostSysctls.push(
        sysctl(h.ns, `net.ipv4.conf.${hostEnd}.proxy_arp`, 1),
        sysctl(h.ns, `net.ipv4.neigh.${hostEnd}.proxy_delay`, 0),
        sysctl(h.ns, `net.ipv4.conf.${hostEnd}.forwarding`, 1),
        sysctl(h.ns, `net.ipv4.conf.${hostEnd}.route_localnet`, 1),
        sysctl(h.ns, `net.ipv4.conf.${hostEnd}.rp_filter`, 1),
      );
      containerSide.push(
        up(c.ns, 'lo'),
        up(c.ns, 'eth0'),
        addr(c.ns, `${ip}/32`, 'eth0'),
        route(c.ns, CALICO_GATEWAY, { dev: 'eth0', scope: 'link' }),
        route(c.ns, 'default', { via: CALICO_GATEWAY, dev: 'eth0' }),
      );
      routes.push(route(h.ns, `${ip}/32`, { dev: hostEnd, scope: 'link' }));
    }
  }
  return [
    { title: 'container veths: host end without address, proxy_arp for 169.254.1.1', steps: [...hostSide, ...hostSysctls] },
    { title: 'container side: /32 address, default via 169.254.1.1', steps: containerSide },
    { title: 'host routes: one /32 per local container', steps: routes },
    ...profileStages(lab, caliName),
  ];
}

export function hostBlock(h: HostNode): string {
  return `${h.podBlock.network}/${h.podBlock.prefix}`;
}
