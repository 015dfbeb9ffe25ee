import { VXLAN_OVERHEAD } from './parts/fabric.js';
import { createHash } from 'node:crypto';
import { InputError } from '../errors.js';
import { addrAt, cidrText, ipToInt, overlaps, size, subnetAt } from '../lab/ipv4.js';
import { allContainers, hostOf } from '../lab/resolve.js';
import { nsName, type Cidr, type Lab } from '../lab/types.js';
import { addr, bridge, fdb, linkSet, neigh, up, veth, vxlan } from '../plan/steps.js';
import type { Step } from '../plan/types.js';
import { direct } from './parts/workloads.js';
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
 * 02:42:<IP>; eth1 on docker_gwbridge (external traffic) is not built.
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

export const dockerOverlay: Scheme = {
  name: 'docker-overlay',
  summary:
    'Docker overlay: a namespace per network and host with bridge ov-… and vxlan vx-… (VNI 256, port 4789), peer ARP/FDB per remote endpoint',
  attach: 'direct',
  requires: [
    { kind: 'kernel', feature: 'VETH' },
    { kind: 'kernel', feature: 'BRIDGE' },
    { kind: 'kernel', feature: 'VXLAN' },
  ],
  notes: ['no docker_gwbridge (eth1): containers reach only the overlay subnet'],
  containers: true,
  overhead: VXLAN_OVERHEAD,
  build(lab) {
    const mtu = lab.underlay.mtu - VXLAN_OVERHEAD;
    const subnet = overlaySubnet(lab);
    const id = createHash('sha256').update(`${lab.name}/overlay`).digest('hex').slice(0, 5);
    const vni = VNI.toString(16).padStart(6, '0');
    const br = `ov-${vni}-${id}`;
    const vx = `vx-${vni}-${id}`;
    const containers = allContainers(lab);
    const ipOf = new Map(containers.map((c, k) => [c.name, addrAt(subnet, 2 + k)]));
    const extraNodes = lab.hosts.map((h) => ({ node: overlayNode(h.index), ns: nsName(lab.name, overlayNode(h.index)) }));

    const sandbox: Step[] = [];
    const ports: Step[] = [];
    const neighbours: Step[] = [];
    const fdbs: Step[] = [];
    const containerSide: Step[] = [];
    for (const h of lab.hosts) {
      const ov = extraNodes[h.index - 1].ns;
      sandbox.push(
        bridge(ov, br),
        addr(ov, `${addrAt(subnet, 1)}/${subnet.prefix}`, br),
        vxlan(h.ns, vx, { id: VNI, dstport: PORT, learning: true, proxy: true, l2miss: true, l3miss: true }),
        linkSet(h.ns, vx, { mtu, netns: ov }),
      );
      ports.push(linkSet(ov, vx, { master: br, up: true }), up(ov, br));
      for (const c of h.containers) {
        const port = `veth${c.name}`;
        const ip = ipOf.get(c.name)!;
        ports.push(veth(ov, port, { name: 'eth0', mtu, ns: c.ns }, mtu), linkSet(ov, port, { master: br, up: true }));
        containerSide.push(
          up(c.ns, 'lo'),
          linkSet(c.ns, 'eth0', { address: dockerMac(ip), up: true }),
          addr(c.ns, `${ip}/${subnet.prefix}`, 'eth0'),
        );
      }
      // The peer database: every endpoint on another host.
      for (const c of containers) {
        if (c.hostIndex === h.index) continue;
        const ip = ipOf.get(c.name)!;
        neighbours.push(neigh(ov, ip, dockerMac(ip), vx));
        fdbs.push(fdb(ov, 'add', dockerMac(ip), vx, hostOf(lab, c).underlayIp));
      }
    }
    return {
      stages: [
        {
          title: `overlay namespace per host: bridge ${br} with gateway ${addrAt(subnet, 1)}; ${vx} created in the host namespace, then moved in`,
          steps: sandbox,
        },
        {
          title: `${vx} and container veths as ports of ${br} (MTU ${mtu}); peer database: neighbour and FDB entry per remote endpoint`,
          steps: [...ports, ...neighbours, ...fdbs],
        },
        { title: `containers: eth0 with Docker's MAC and an address of ${cidrText(subnet)}`, steps: containerSide },
      ],
      extraNodes,
      workloads: containers.map((c) => ({ node: c.name, ns: c.ns, hostIndex: c.hostIndex, ip: ipOf.get(c.name)!, ifName: 'eth0' })),
      mtu,
      targetIp: direct,
    };
  },
};
