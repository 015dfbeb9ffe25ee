import type { Lab } from '../../lab/types.js';
import { addr, blackhole, fdb, linkSet, neigh, route, vxlan } from '../../plan/steps.js';
import type { Stage, Step } from '../../plan/types.js';
import { vtepMac } from './addresses.js';
import { hostBlock } from './routed-veth.js';

/** How hosts reach each other's pod blocks: shared by calico, flannel and canal. */

/** Direct routes: each peer's block via the peer's underlay address (host-gw, calico BGP). */
export function peerRoutes(lab: Lab): Step[] {
  return lab.hosts.flatMap((h) =>
    lab.hosts.filter((o) => o !== h).map((o) => route(h.ns, hostBlock(o), { via: o.underlayIp, dev: h.underlayIf })),
  );
}

/** A blackhole route for every host's own block (BIRD's static route in Calico; Felix in VXLAN mode). */
export function ownBlockBlackholes(lab: Lab): Step[] {
  return lab.hosts.map((h) => blackhole(h.ns, hostBlock(h)));
}

/** What VXLAN takes from the underlay MTU: outer IP 20 + UDP 8 + VXLAN 8 + inner Ethernet 14. */
export const VXLAN_OVERHEAD = 50;

export interface VxlanSpec {
  dev: string;
  vni: number;
  port: number;
  mtu: number;
  /** The VTEP MAC of host i (default vtepMac: 02:00:00:00:<i>:01, flannel-style). */
  mac?: (hostIndex: number) => string;
  /** Add a blackhole route for the own block first (Felix does; flannel does not). */
  blackhole?: boolean;
  /** Route each peer's block via its VTEP (default true; false when a control plane does). */
  routes?: boolean;
}

/**
 * A VXLAN device per host with learning off and, per peer, one route, one permanent neighbour and
 * one FDB entry (flannel vxlan.go / device.go; Felix vxlan_mgr.go uses the same shape).
 * The device holds the block's .0 address; peers are reached via their .0 onlink.
 */
export function vxlanFabric(lab: Lab, v: VxlanSpec): Stage[] {
  const mac = v.mac ?? ((i: number) => vtepMac(i));
  const devices: Step[] = v.blackhole ? ownBlockBlackholes(lab) : [];
  const peers: Step[] = [];
  for (const h of lab.hosts) {
    devices.push(
      vxlan(h.ns, v.dev, { id: v.vni, local: h.underlayIp, dev: h.underlayIf, dstport: v.port, learning: false }),
      linkSet(h.ns, v.dev, { address: mac(h.index), mtu: v.mtu, up: true }),
      addr(h.ns, `${h.podBlock.network}/32`, v.dev),
    );
    for (const o of lab.hosts) {
      if (o === h) continue;
      if (v.routes !== false) peers.push(route(h.ns, hostBlock(o), { via: o.podBlock.network, dev: v.dev, onlink: true }));
      peers.push(neigh(h.ns, o.podBlock.network, mac(o.index), v.dev), fdb(h.ns, 'append', mac(o.index), v.dev, o.underlayIp));
    }
  }
  const title = `VXLAN device ${v.dev} (VNI ${v.vni}, port ${v.port}, MTU ${v.mtu}) on every host${v.blackhole ? ', blackhole for the own block' : ''}`;
  return [
    { title, steps: devices },
    { title: `per peer: ${v.routes === false ? '' : 'route via its VTEP, '}permanent neighbour and FDB entry`, steps: peers },
  ];
}

/**
 * Routes through a point-to-multipoint IP tunnel (IP-in-IP: Calico's tunl0, flannel.ipip): each
 * peer's block via the peer's underlay address on the tunnel device, onlink; the tunnel takes the
 * outer destination from the route's gateway.
 */
export function tunnelRoutes(lab: Lab, dev: string): Step[] {
  return lab.hosts.flatMap((h) =>
    lab.hosts.filter((o) => o !== h).map((o) => route(h.ns, hostBlock(o), { via: o.underlayIp, dev, onlink: true })),
  );
}
