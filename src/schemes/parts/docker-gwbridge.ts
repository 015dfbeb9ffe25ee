import { InputError } from '../../errors.js';
import { addrAt, cidrText, containsIp, overlaps, size, subnetAt } from '../../lab/ipv4.js';
import type { Cidr, Lab } from '../../lab/types.js';
import { addr, bridge, linkSet, nft, route, up, veth } from '../../plan/steps.js';
import type { Stage, Step } from '../../plan/types.js';

/**
 * Docker's docker_gwbridge (moby libnetwork drivers/overlay joinGateway / the bridge driver's
 * `docker_gwbridge` network): every container on an overlay network also gets `eth1`, a veth to the
 * host's bridge docker_gwbridge, its default route through that bridge's gateway, and traffic
 * leaving the bridge is masqueraded to the host's address (`-s <subnet> ! -o docker_gwbridge -j
 * MASQUERADE`, written here in nftables). The overlay subnets stay on eth0. The subnet is the same
 * on every host, as Docker's (172.18.0.0/16 on each): it never leaves a host un-NATed. Docker picks
 * a pool that no host route uses; here it is the first block of the pod network (block 0 by
 * default) that no host's block, no overlay subnet and no host's underlay address falls in — a pod
 * network inside the underlay subnet (verify's subnet-restriction probe) must not give eth1 a
 * host's address.
 */

export const GWBRIDGE = 'docker_gwbridge';

/** The docker_gwbridge subnet: the first free block of the pod network (see above). */
export function gwbridgeSubnet(lab: Lab, overlays: readonly Cidr[]): Cidr {
  const prefix = lab.topology.pods.blockPrefix;
  const most = Math.max(...lab.hosts.map((h) => h.containers.length));
  const taken = [...overlays, ...lab.hosts.map((h) => h.podBlock)];
  const blocks = prefix >= lab.pods.prefix ? 2 ** (prefix - lab.pods.prefix) : 0;
  for (let n = 0; n < blocks; n++) {
    const subnet = subnetAt(lab.pods, prefix, n);
    if (taken.some((c) => overlaps(c, subnet)) || lab.hosts.some((h) => containsIp(subnet, h.underlayIp))) continue;
    if (size(subnet) >= most + 3) return subnet;
  }
  throw new InputError(
    `docker-overlay needs a docker_gwbridge subnet for ${most} containers: no free /${prefix} block in ${cidrText(lab.pods)} beside the overlay subnets, the hosts' blocks and underlay addresses`,
    'use a larger --pods or a longer --pod-block',
  );
}

function masquerade(subnet: Cidr): string {
  return `table ip docker-gwbridge {
 chain nat-POSTROUTING { type nat hook postrouting priority srcnat; policy accept;
  ip saddr ${cidrText(subnet)} oifname != "${GWBRIDGE}" counter masquerade
 }
}
`;
}

/**
 * The stages building docker_gwbridge on every host and eth1 in each container; `mac` is Docker's
 * MAC of an address. Two stages: namespaces of one stage are configured in parallel, and eth1
 * exists in a container only once its host made the veth.
 */
export function gwbridgeStages(lab: Lab, subnet: Cidr, mac: (ip: string) => string): Stage[] {
  const gw = addrAt(subnet, 1);
  const mtu = lab.underlay.mtu;
  const hostSide: Step[] = [];
  const containerSide: Step[] = [];
  for (const h of lab.hosts) {
    hostSide.push(bridge(h.ns, GWBRIDGE), addr(h.ns, `${gw}/${subnet.prefix}`, GWBRIDGE), up(h.ns, GWBRIDGE));
    for (const c of h.containers) {
      const ip = addrAt(subnet, 1 + c.slot);
      const port = `gw${c.name}`;
      hostSide.push(veth(h.ns, port, { name: 'eth1', mtu, ns: c.ns }, mtu), linkSet(h.ns, port, { master: GWBRIDGE, up: true }));
      containerSide.push(
        linkSet(c.ns, 'eth1', { address: mac(ip), up: true }),
        addr(c.ns, `${ip}/${subnet.prefix}`, 'eth1'),
        route(c.ns, 'default', { via: gw, dev: 'eth1' }),
      );
    }
    hostSide.push(nft(h.ns, masquerade(subnet), { snat: true, dnat: false }));
  }
  return [
    {
      title: `${GWBRIDGE} ${cidrText(subnet)} (gateway ${gw}) on every host, a veth per container to it, MASQUERADE for traffic leaving the bridge`,
      steps: hostSide,
    },
    { title: `containers: eth1 on ${GWBRIDGE} with Docker's MAC, the default route via ${gw}`, steps: containerSide },
  ];
}
