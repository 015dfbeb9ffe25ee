import { VXLAN_OVERHEAD } from './parts/fabric.js';
import { createHash } from 'node:crypto';
import { InputError } from '../errors.js';
import { addrAt, cidrText, ipToInt, overlaps, size, subnetAt } from '../lab/ipv4.js';
import { allContainers, hostOf } from '../lab/resolve.js';
import { nsName, type Cidr, type ContainerNode, type Lab } from '../lab/types.js';
import { tenantSubnet } from './parts/addresses.js';
import { addr, bridge, fdb, linkSet, neigh, up, veth, vxlan } from '../plan/steps.js';
import type { Step } from '../plan/types.js';
import { direct } from './parts/workloads.js';
import { gwbridgeStages, gwbridgeSubnet } from './parts/docker-gwbridge.js';
import type { Scheme } from '../plan/scheme.js';

/**
 * Docker's overlay network driver (moby libnetwork drivers/overlay: ov_network.go, ov_utils.go,
 * peerdb.go). Each host has one namespace for the network holding the bridge `ov-<vni>-<id>` with
 * the subnet's gateway and the VXLAN device `vx-<vni>-<id>` (VNI 256, the first the driver hands
 * out; port 4789; learning, proxy, l2miss, l3miss as createVxlan sets them). The VXLAN device is
 * created in the host namespace and then moved, so its UDP socket stays in the host namespace.
 * Containers' veths are ports of that bridge. For every remote endpoint the driver's peer
 * database adds a permanent neighbour (IP → MAC) and an FDB entry (MAC → remote VTEP) on the
 * VXLAN device. Containers take addresses from one subnet shared by all hosts and Docker's MAC
 * 02:42:<IP>. Each container also gets eth1 on the host's docker_gwbridge with its default route
 * and masquerade on the way out (parts/docker-gwbridge.ts): traffic to anything outside the
 * overlay leaves through the host's own address.
 */

const VNI = 256;
const PORT = 4789;

/** The overlay namespace's node name on host i (node names have no hyphens). */
export const overlayNode = (hostIndex: number): string => `h${hostIndex}ov`;

/**
 * The overlay network's subnet: the top of the pod network, /24 or as large as all containers
 * need, outside every host's pod block.
 */
export function overlaySubnet(lab: Lab): Cidr {
  const needed = allContainers(lab).length + 3; // network, gateway, broadcast
  let prefix = 24;
  while (prefix > lab.pods.prefix && 2 ** (32 - prefix) < needed) prefix--;
  const count = 2 ** (Math.max(prefix, lab.pods.prefix) - lab.pods.prefix);
  const subnet = subnetAt(lab.pods, Math.max(prefix, lab.pods.prefix), count - 1);
  const clash = lab.hosts.find((h) => overlaps(subnet, h.podBlock));
  if (size(subnet) < needed || clash) {
    throw new InputError(
      `docker-overlay needs a subnet for ${needed - 3} containers outside every host's pod block; ${cidrText(lab.pods)} has none left`,
      'use a larger --pods or fewer hosts',
    );
  }
  return subnet;
}

/** Docker derives a container's MAC from its IPv4 address: 02:42 followed by the four bytes. */
export function dockerMac(addr: string): string {
  const n = ipToInt(addr);
  return ['02', '42', ...[24, 16, 8, 0].map((s) => ((n >>> s) & 255).toString(16).padStart(2, '0'))].join(':');
}

interface Network {
  vni: number;
  br: string;
  vx: string;
  subnet: Cidr;
  member(c: ContainerNode): boolean;
  /** The network's namespace node on host i. */
  node(hostIndex: number): string;
}

/** Overlay network `t` (a tenant's; undefined: the one network without tenants): VNI 256, 257…, names as the driver's. */
function network(lab: Lab, t: number | undefined, subnet: Cidr, member: (c: ContainerNode) => boolean): Network {
  const vniNumber = VNI + (t ?? 1) - 1;
  const id = createHash('sha256')
    .update(`${lab.name}/overlay${t === undefined ? '' : t}`)
    .digest('hex')
    .slice(0, 5);
  const vni = vniNumber.toString(16).padStart(6, '0');
  const node = (i: number) => (t === undefined ? overlayNode(i) : `${overlayNode(i)}${t}`);
  return { vni: vniNumber, br: `ov-${vni}-${id}`, vx: `vx-${vni}-${id}`, subnet, member, node };
}

/**
 * --overlap: every tenant's network has the same subnet, and its containers take the same
 * addresses host by host: on each host, tenant t's k-th container gets the same address as every
 * other tenant's k-th there (the host's range starts after the previous host's largest tenant).
 */
function overlapAddresses(lab: Lab, networks: Network[]): Map<string, string> {
  const ipOf = new Map<string, string>();
  const subnet = networks[0].subnet;
  let next = 2;
  for (const h of lab.hosts) {
    const members = networks.map((n) => h.containers.filter(n.member));
    members.forEach((cs) => cs.forEach((c, k) => ipOf.set(c.name, addrAt(subnet, next + k))));
    next += Math.max(0, ...members.map((cs) => cs.length));
  }
  if (next > size(subnet) - 1) {
    throw new InputError(`the overlapping tenants' containers do not fit ${cidrText(subnet)}`, 'use a shorter --pod-block');
  }
  return ipOf;
}

export const dockerOverlay: Scheme = {
  name: 'docker-overlay',
  summary:
    'Docker overlay: a namespace per network and host with bridge ov-… and vxlan vx-… (VNI 256, port 4789), peer ARP/FDB per remote endpoint',
  tenancy: 'subnets',
  overlap: true,
  attach: 'direct',
  requires: [
    { kind: 'kernel', feature: 'VETH' },
    { kind: 'kernel', feature: 'BRIDGE' },
    { kind: 'kernel', feature: 'VXLAN' },
    { kind: 'kernel', feature: 'NFT_NAT' },
    { kind: 'kernel', feature: 'NFT_MASQ' },
    { kind: 'binary', name: 'nft', pkg: 'nftables' },
  ],
  notes: [
    "eth1 on docker_gwbridge: the default route, masqueraded to the host's address",
    "docker_gwbridge's icc=false (no container-to-container traffic over the bridge) is not built",
  ],
  containers: true,
  overhead: VXLAN_OVERHEAD,
  build(lab) {
    const mtu = lab.underlay.mtu - VXLAN_OVERHEAD;
    const containers = allContainers(lab);
    // With tenants, one overlay network per tenant (`docker network create -d overlay` twice): its
    // own VNI, subnet and namespace per host; a container joins its tenant's network only. With
    // --overlap every network gets tenant 1's subnet: same addresses, separate segments.
    const count = lab.topology.tenants;
    const subnetOf = (t: number) => tenantSubnet(lab, lab.topology.overlap ? 1 : t);
    const networks: Network[] = count
      ? Array.from({ length: count }, (_, k) => network(lab, k + 1, subnetOf(k + 1), (c) => c.tenant === k + 1))
      : [network(lab, undefined, overlaySubnet(lab), () => true)];
    const ipOf = lab.topology.overlap ? overlapAddresses(lab, networks) : new Map<string, string>();
    if (!lab.topology.overlap)
      for (const n of networks) containers.filter(n.member).forEach((c, k) => ipOf.set(c.name, addrAt(n.subnet, 2 + k)));
    const extraNodes = networks.flatMap((n) => lab.hosts.map((h) => ({ node: n.node(h.index), ns: nsName(lab.name, n.node(h.index)) })));

    const sandbox: Step[] = [];
    const ports: Step[] = [];
    const neighbours: Step[] = [];
    const fdbs: Step[] = [];
    const containerSide: Step[] = [];
    for (const n of networks) {
      for (const h of lab.hosts) {
        const ov = nsName(lab.name, n.node(h.index));
        sandbox.push(
          bridge(ov, n.br),
          addr(ov, `${addrAt(n.subnet, 1)}/${n.subnet.prefix}`, n.br),
          vxlan(h.ns, n.vx, { id: n.vni, dstport: PORT, learning: true, proxy: true, l2miss: true, l3miss: true }),
          linkSet(h.ns, n.vx, { mtu, netns: ov }),
        );
        ports.push(linkSet(ov, n.vx, { master: n.br, up: true }), up(ov, n.br));
        for (const c of h.containers.filter(n.member)) {
          const port = `veth${c.name}`;
          const ip = ipOf.get(c.name)!;
          ports.push(veth(ov, port, { name: 'eth0', mtu, ns: c.ns }, mtu), linkSet(ov, port, { master: n.br, up: true }));
          containerSide.push(
            up(c.ns, 'lo'),
            linkSet(c.ns, 'eth0', { address: dockerMac(ip), up: true }),
            addr(c.ns, `${ip}/${n.subnet.prefix}`, 'eth0'),
          );
        }
        // The peer database: every endpoint of this network on another host.
        for (const c of containers.filter(n.member)) {
          if (c.hostIndex === h.index) continue;
          const ip = ipOf.get(c.name)!;
          neighbours.push(neigh(ov, ip, dockerMac(ip), n.vx));
          fdbs.push(fdb(ov, 'add', dockerMac(ip), n.vx, hostOf(lab, c).underlayIp));
        }
      }
    }
    const gwbridge = gwbridgeStages(
      lab,
      gwbridgeSubnet(
        lab,
        networks.map((n) => n.subnet),
      ),
      dockerMac,
    );
    const names = networks.map((n) => n.br).join(', ');
    const vxs = networks.map((n) => n.vx).join(', ');
    const gateways = networks.map((n) => addrAt(n.subnet, 1)).join(', ');
    return {
      stages: [
        {
          title: `overlay namespace per host${count ? ' and network' : ''}: bridge ${names} with gateway ${gateways}; ${vxs} created in the host namespace, then moved in`,
          steps: sandbox,
        },
        {
          title: `${vxs} and container veths as ports of ${names} (MTU ${mtu}); peer database: neighbour and FDB entry per remote endpoint`,
          steps: [...ports, ...neighbours, ...fdbs],
        },
        {
          title: `containers: eth0 with Docker's MAC and an address of ${networks.map((n) => cidrText(n.subnet)).join(', ')}`,
          steps: containerSide,
        },
        ...gwbridge,
      ],
      extraNodes,
      workloads: containers.map((c) => ({ node: c.name, ns: c.ns, hostIndex: c.hostIndex, ip: ipOf.get(c.name)!, ifName: 'eth0' })),
      mtu,
      targetIp: direct,
    };
  },
};
