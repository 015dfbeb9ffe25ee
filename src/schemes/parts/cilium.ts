import type { ContainerNode, Lab } from '../../lab/types.js';
import type { SchemeBuild } from '../../plan/scheme.js';
import { addr, link, linkSet, neigh, route, up, vxlan } from '../../plan/steps.js';
import type { Stage, Step } from '../../plan/types.js';
import { podIp } from './addresses.js';
import { attachIngress, endpointKey, endpointValue, mapUpdate, mountBpffs, setMode, tunnelKey, tunnelValue, type BpfMode } from './bpf.js';
import { VXLAN_OVERHEAD, peerRoutes } from './fabric.js';
import { containerWorkloads, direct } from './workloads.js';

/**
 * What the three cilium schemes share (Cilium's pkg/datapath, cni plugin): a veth per workload
 * (`lxc…` on the host, eth0 inside) whose container end holds a /32, routes by default via a
 * link-local gateway and knows the gateway's MAC from a permanent neighbour entry — no ARP, no
 * proxy_arp; the host end has no address. The host keeps a /32 route and a permanent neighbour per
 * endpoint for the stack's own path (legacy host routing, traffic from the host itself).
 * The BPF programs of bpf/cilium.c go on every lxc ingress and on the underlay ingress (and the
 * VXLAN device's in tunnel mode); the endpoint map lists the host's local containers.
 *
 * Devices get fixed ifindexes (`ip link add … index N`, per host namespace), so the endpoint map
 * can be written in the plan itself.
 */
export const CILIUM_GATEWAY = '169.254.1.1';
/** Cilium's default tunnel port and device name. */
export const CILIUM_VXLAN = { dev: 'cilium_vxlan', port: 8472, vni: 2, ifindex: 900 } as const;
const LXC_INDEX_BASE = 1000;

const hex2 = (n: number) => (n & 0xff).toString(16).padStart(2, '0');
/** host end (tag 1) and container end (tag 2) of a workload's veth. */
export const lxcMac = (c: ContainerNode, tag: 1 | 2): string => `02:ce:${hex2(c.hostIndex)}:${hex2(c.slot >> 8)}:${hex2(c.slot)}:0${tag}`;
export const vxlanMac = (hostIndex: number): string => `02:ce:${hex2(hostIndex)}:00:00:fe`;
export const lxcName = (c: ContainerNode): string => `lxc${c.name}`;
export const lxcIndex = (c: ContainerNode): number => LXC_INDEX_BASE + c.slot;

function endpoints(lab: Lab, mtu: number): Stage[] {
  const hostSide: Step[] = [];
  const containerSide: Step[] = [];
  for (const h of lab.hosts) {
    for (const c of h.containers) {
      const dev = lxcName(c);
      hostSide.push(
        { ...link(h.ns, dev, { type: 'veth', peer: { name: 'eth0', ns: c.ns } }, mtu), index: lxcIndex(c) },
        linkSet(h.ns, dev, { address: lxcMac(c, 1), up: true }),
        route(h.ns, `${podIp(h, c)}/32`, { dev, scope: 'link' }),
        neigh(h.ns, podIp(h, c), lxcMac(c, 2), dev),
      );
      containerSide.push(
        up(c.ns, 'lo'),
        linkSet(c.ns, 'eth0', { address: lxcMac(c, 2), mtu, up: true }),
        addr(c.ns, `${podIp(h, c)}/32`, 'eth0'),
        route(c.ns, CILIUM_GATEWAY, { dev: 'eth0', scope: 'link' }),
        route(c.ns, 'default', { via: CILIUM_GATEWAY, dev: 'eth0' }),
        neigh(c.ns, CILIUM_GATEWAY, lxcMac(c, 1), 'eth0'),
      );
    }
  }
  return [
    { title: 'endpoint veths (lxc…, fixed ifindex and MACs), /32 route and permanent neighbour per endpoint', steps: hostSide },
    { title: `container side: /32, default via ${CILIUM_GATEWAY} with a permanent neighbour entry`, steps: containerSide },
  ];
}

function vxlanDevices(lab: Lab, mtu: number): Step[] {
  const v = CILIUM_VXLAN;
  return lab.hosts.flatMap((h) => [
    { ...vxlan(h.ns, v.dev, { dstport: v.port, external: true }), index: v.ifindex },
    linkSet(h.ns, v.dev, { address: vxlanMac(h.index), mtu, up: true }),
  ]);
}

/** Per host: its bpffs, the programs on every hook, then the maps (which tc created on load). */
function loader(lab: Lab, mode: BpfMode): Stage[] {
  const load: Step[] = [];
  const maps: Step[] = [];
  for (const h of lab.hosts) {
    load.push(mountBpffs(lab, h));
    for (const c of h.containers) load.push(...attachIngress(lab, h, lxcName(c), 'from-container'));
    load.push(...attachIngress(lab, h, h.underlayIf, 'from-netdev'));
    if (mode === 'tunnel') load.push(...attachIngress(lab, h, CILIUM_VXLAN.dev, 'from-netdev'));
    maps.push(
      setMode(
        lab,
        h,
        mode,
        mode === 'tunnel' ? { ifindex: CILIUM_VXLAN.ifindex, vni: CILIUM_VXLAN.vni, mac: vxlanMac(h.index) } : undefined,
      ),
    );
    for (const c of h.containers)
      maps.push(mapUpdate(lab, h, 'endpoints', endpointKey(podIp(h, c)), endpointValue(lxcIndex(c), lxcMac(c, 2), lxcMac(c, 1))));
    if (mode === 'tunnel') {
      for (const o of lab.hosts.filter((x) => x !== h))
        maps.push(
          mapUpdate(lab, h, 'tunnels', tunnelKey(o.podBlock.network, o.podBlock.prefix), tunnelValue(o.underlayIp, vxlanMac(o.index))),
        );
    }
  }
  return [
    {
      title: 'BPF: a bpffs per host; from-container on every lxc ingress, from-netdev on the underlay ingress (tc clsact, direct action)',
      steps: load,
    },
    { title: `BPF maps: mode ${mode}, the host's endpoints${mode === 'tunnel' ? ", each peer block's VTEP" : ''}`, steps: maps },
  ];
}

export function ciliumBuild(lab: Lab, mode: BpfMode): SchemeBuild {
  const mtu = mode === 'tunnel' ? lab.underlay.mtu - VXLAN_OVERHEAD : lab.underlay.mtu;
  const fabric: Stage =
    mode === 'tunnel'
      ? {
          title: `${CILIUM_VXLAN.dev}: one collect-metadata VXLAN device per host (port ${CILIUM_VXLAN.port}), peers from the tunnel map`,
          steps: vxlanDevices(lab, mtu),
        }
      : { title: 'inter-host routes: each peer block via the peer (static for now; BGP later)', steps: peerRoutes(lab) };
  return {
    stages: [...endpoints(lab, mtu), fabric, ...loader(lab, mode)],
    workloads: containerWorkloads(lab, podIp),
    mtu,
    targetIp: direct,
  };
}
