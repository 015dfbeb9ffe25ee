import type { Topology } from '../lab/types.js';
import type { SchemeRecord } from '../result/types.js';
import { deviceNamed, devicesIn, isTunnel, planFacts, tcOn, type Device, type PlanFacts } from './plan-facts.js';

/**
 * Pure: the path a packet takes through a scheme, derived from the plan recorded in the result
 * (never from the scheme's name), and the properties verdicts reason with: how hosts reach each
 * other (fabric), how a container is attached, encapsulation bytes, NAT, userspace hops.
 */

export type Fabric = 'host' | 'overlay' | 'routed' | 'l2' | 'nat' | 'unknown';
export type AttachKind = 'none' | 'bridge' | 'routed-veth' | 'macvlan' | 'ipvlan' | 'ovs' | 'other';

export interface Hop {
  kind: 'container' | 'bridge' | 'ovs' | 'routing' | 'bpf' | 'nat' | 'tunnel' | 'userspace' | 'underlay' | 'macvlan' | 'peer' | 'other';
  label: string;
  detail?: string;
  /** Encapsulation bytes this hop adds. */
  bytes?: number;
}

export interface PacketPath {
  /** Container on host 1 → container on host 2 (or host 1 → host 2 for the baseline). */
  cross: Hop[];
  /** Two containers on host 1, when the scheme has them. */
  same?: Hop[];
  fabric: Fabric;
  attach: AttachKind;
  /** Encapsulation bytes per packet on the underlay. */
  encapBytes: number;
  workloadMtu?: number;
  underlayMtu: number;
  /** Container traffic is routed by the host's IP stack (forwarding, netfilter) on the way. */
  hostStack: boolean;
  nat: boolean;
  /** A userspace process or datapath handles every packet. */
  userspace: boolean;
  /** A BGP daemon distributes the routes. */
  bgp: boolean;
  /** Containers take addresses on the underlay's L2 segment. */
  containersOnUnderlay: boolean;
  /** Each container has its own L3 interface on its host: a per-workload policy point. */
  perWorkloadRoutedIf: boolean;
  tunnel?: { dev: string; type: string };
}

const TUNNEL_NAME: Record<string, string> = {
  vxlan: 'VXLAN',
  ipip: 'IP-in-IP',
  gre: 'GRE',
  gretap: 'GRETAP',
  geneve: 'Geneve',
  wireguard: 'WireGuard',
  sit: 'SIT',
};
/** Bytes each tunnel type adds, used only when the scheme does not state its overhead. */
const TUNNEL_BYTES: Record<string, number> = { vxlan: 50, ipip: 20, gre: 24, gretap: 38, geneve: 50, wireguard: 60, sit: 20 };

function tunnelHop(d: Device, bytes: number): Hop {
  const base = d.type.replace(/^ovs-/, '');
  const name = TUNNEL_NAME[base] ?? base;
  const parts = [
    (d.attrs.id ?? d.attrs.key) ? `VNI ${d.attrs.id ?? d.attrs.key}` : '',
    (d.attrs.dstport ?? d.attrs.dst_port) ? `UDP ${d.attrs.dstport ?? d.attrs.dst_port}` : '',
    d.type.startsWith('ovs-') ? 'OVS tunnel port' : '',
  ];
  return { kind: 'tunnel', label: `${name} ${d.name}`, detail: [...parts.filter(Boolean), `+${bytes} B`].join(', '), bytes };
}

/** The host's underlay device: a veth in `ns` whose peer is in another host or a switch. */
function underlayOf(f: PlanFacts, ns: string, containers: Set<string>): Device | undefined {
  return devicesIn(f, ns, ['veth']).find((d) => d.peer && d.peer.ns !== ns && !containers.has(d.peer.ns) && !d.origin);
}

/** The bridges a packet crosses from `first`, following veth patches between bridges. */
function bridgeChain(f: PlanFacts, first: Device): Device[] {
  const chain = [first];
  for (let i = 0; i < 4; i++) {
    const b = chain[chain.length - 1];
    const patch = f.devices.find(
      (d) => d.master === b.name && d.ns === b.ns && d.type === 'veth' && d.peer?.ns === b.ns && deviceNamed(f, b.ns, d.peer.name)?.master,
    );
    const next = patch && deviceNamed(f, b.ns, deviceNamed(f, b.ns, patch.peer!.name)!.master!);
    if (!next || chain.includes(next)) break;
    chain.push(next);
  }
  return chain;
}

/** A TUN/TAP device whose packets a userspace process encapsulates. */
function userspaceHop(f: PlanFacts, d: Device, bytes: number): Hop {
  const daemon = d.attrs.daemon ?? f.daemons.find((x) => x.ns === d.ns)?.name;
  return {
    kind: 'userspace',
    label: `${d.type.toUpperCase()} ${d.name}`,
    detail: `UDP encapsulation in userspace${daemon ? ` (${daemon})` : ''}${bytes ? `, +${bytes} B` : ''}`,
    bytes: bytes || undefined,
  };
}

function bridgeHop(b: Device, gateway: boolean): Hop {
  const ovs = b.type === 'ovs-bridge';
  return {
    kind: ovs ? 'ovs' : 'bridge',
    label: b.name,
    detail: `${ovs ? 'Open vSwitch bridge' : 'Linux bridge'}${gateway ? ', container gateway' : ''}`,
  };
}

export function packetPath(s: SchemeRecord, topo: Topology): PacketPath {
  const f = planFacts(s.plan);
  const underlayMtu = topo.underlay.mtu;
  const out: PacketPath = {
    cross: [],
    fabric: 'unknown',
    attach: 'other',
    encapBytes: s.overhead,
    workloadMtu: s.mtu,
    underlayMtu,
    hostStack: false,
    nat: false,
    userspace: false,
    bgp: false,
    containersOnUnderlay: false,
    perWorkloadRoutedIf: false,
  };
  const cross = s.tests.find((t) => t.placement === 'cross');
  const wl = s.workloads?.find((w) => w.ns === cross?.client.ns) ?? s.workloads?.[0];
  const containers = new Set(s.attach === 'none' ? [] : (s.workloads ?? []).map((w) => w.ns));
  const ifMtu = (ns: string, name: string) => s.interfaces?.find((i) => i.ns === ns && i.ifName === name)?.mtu || undefined;
  if (!s.plan || !wl) {
    out.cross = [{ kind: 'other', label: s.status === 'ok' ? 'no plan recorded' : `not built (${s.status})` }];
    return out;
  }
  const underlayHop = (ns: string): Hop => {
    const u = underlayOf(f, ns, containers);
    const rate = topo.underlay.rate ? `, shaped to ${topo.underlay.rate}` : '';
    const via = topo.hosts > 2 ? ', through the switch' : '';
    // tc on the port beyond the link-rate emulation (which `rate` already says).
    const tc = u ? tcOn(f, u.ns, u.name).filter((t) => !(topo.underlay.rate && t === `tbf ${topo.underlay.rate}`)) : [];
    return {
      kind: 'underlay',
      label: u?.name ?? 'underlay',
      detail: `underlay, MTU ${underlayMtu}${rate}${via}${tc.map((t) => `, tc ${t}`).join('')}`,
    };
  };
  const peerHop: Hop = { kind: 'peer', label: 'host 2', detail: 'the same path in reverse to the peer' };

  if (s.attach === 'none') {
    out.fabric = 'host';
    out.attach = 'none';
    out.cross = [{ kind: 'container', label: `${wl.node}`, detail: 'benchmark in the host namespace' }, underlayHop(wl.ns), peerHop];
    if (s.tests.some((t) => t.placement === 'same'))
      out.same = [
        { kind: 'container', label: `${wl.node}`, detail: 'host namespace' },
        { kind: 'routing', label: 'loopback', detail: 'same namespace' },
      ];
    return out;
  }

  // The container's interface and the host namespace it hangs off.
  const cni = f.cni.find((c) => c.containerNs === wl.ns && c.ifName === wl.ifName) ?? f.cni.find((c) => c.containerNs === wl.ns);
  const own = deviceNamed(f, wl.ns, wl.ifName);
  const hostNs = cni?.ns ?? (own?.type === 'veth' ? own.peer?.ns : own?.origin) ?? `cnl-${s.plan.lab}-h${wl.hostIndex}`;
  const mtu = ifMtu(wl.ns, wl.ifName) ?? own?.mtu ?? s.mtu;
  const kind = cni ? String(cni.main.type) : (own?.type ?? 'unknown');
  out.workloadMtu = mtu;
  const wlTc = tcOn(f, wl.ns, wl.ifName)
    .map((t) => `, tc ${t}`)
    .join('');
  const hops: Hop[] = [
    {
      kind: 'container',
      label: `${wl.node} ${wl.ifName}`,
      detail: `${kind === 'bridge' || kind === 'ptp' ? 'veth' : kind}${mtu ? `, MTU ${mtu}` : ''}${wlTc}`,
    },
  ];
  const same: Hop[] = [hops[0]];

  const underlay = underlayOf(f, hostNs, containers);
  let bridges: Device[] = [];
  let gateway = false;
  /** A tc BPF program forwards past the host's IP stack (Cilium's BPF host routing). */
  let bpfRedirect = false;
  if (cni?.main.type === 'bridge' && typeof cni.main.bridge === 'string') {
    const b = deviceNamed(f, hostNs, cni.main.bridge);
    bridges = b ? bridgeChain(f, b) : [];
    gateway = cni.main.isGateway === true;
    out.attach = 'bridge';
  } else if ((cni && ['macvlan', 'ipvlan'].includes(String(cni.main.type))) || (own && ['macvlan', 'ipvlan'].includes(own.type))) {
    const mode = String(cni?.main.mode ?? own?.attrs.mode ?? 'bridge');
    const parent = String(cni?.main.master ?? own?.parent ?? underlay?.name ?? '?');
    out.attach = kind === 'ipvlan' ? 'ipvlan' : 'macvlan';
    // ipvlan L3: the parent's namespace routes the children's traffic; otherwise L2 on the parent.
    out.containersOnUnderlay = parent === underlay?.name && !/^l3/.test(mode);
    hops.push({ kind: 'macvlan', label: `${kind} on ${parent}`, detail: `${mode} mode: bypasses the host's IP stack` });
    same.push({ kind: 'macvlan', label: `${kind} on ${parent}`, detail: `${mode} mode: switched inside the parent device` });
  } else if (own?.type === 'ovs-internal' && own.master && own.origin) {
    // An OVS internal port moved into the container (ovs-internal): its bridge is in the namespace it came from.
    const master = deviceNamed(f, own.origin, own.master);
    bridges = master ? bridgeChain(f, master) : [];
    out.attach = 'ovs';
  } else if (own?.type === 'veth' && own.peer) {
    const hostEnd = deviceNamed(f, own.peer.ns, own.peer.name);
    const master = hostEnd?.master ? deviceNamed(f, own.peer.ns, hostEnd.master) : undefined;
    if (master) {
      bridges = bridgeChain(f, master);
      out.attach = master.type === 'ovs-bridge' ? 'ovs' : 'bridge';
      gateway = f.addresses.some((a) => a.ns === master.ns && a.dev === master.name);
    } else {
      out.attach = 'routed-veth';
      out.perWorkloadRoutedIf = true;
      out.hostStack = true;
      const r32 = f.routes.some((r) => r.ns === own.peer!.ns && r.dev === own.peer!.name);
      const prog = f.filters.find(
        (x) => x.ns === own.peer!.ns && x.dev === own.peer!.name && x.hook === 'ingress' && x.text.startsWith('bpf '),
      );
      if (prog) {
        // A tc BPF program on the host end (Cilium's from-container); the measured verdict
        // counters say whether it redirects or, configured for legacy host routing, hands on.
        bpfRedirect = !s.tests.some((t) => t.bpfCounters?.mode === 'legacy');
        out.hostStack = !bpfRedirect;
        const what = bpfRedirect
          ? 'redirects to the wire or the peer veth past the host IP stack'
          : 'hands every packet to the host IP stack (legacy host routing)';
        const hop: Hop = { kind: 'bpf', label: `tc BPF on ${own.peer.name}`, detail: `${prog.hook} ${prog.text}: ${what}` };
        hops.push(hop);
        same.push(hop);
      } else {
        const hop: Hop = {
          kind: 'routing',
          label: `veth ${own.peer.name}`,
          detail: `routed by the host${r32 ? ' (/32 route to the container)' : ''}, no bridge`,
        };
        hops.push(hop);
        same.push(hop);
      }
    }
  } else if (cni?.main.type === 'ptp') {
    out.attach = 'routed-veth';
    out.perWorkloadRoutedIf = true;
    out.hostStack = true;
    hops.push({ kind: 'routing', label: 'veth (ptp)', detail: 'routed by the host, no bridge' });
  } else {
    hops.push({ kind: 'other', label: cni ? `CNI ${kind}` : 'interface', detail: 'attachment not recognised in the plan' });
  }

  // Bridges on the way; a tunnel port or the underlay port in one of them means L2 all the way.
  for (const b of bridges) {
    const hop = bridgeHop(b, gateway && b === bridges[0]);
    hops.push(hop);
    same.push(hop);
  }
  const ports = f.devices.filter((d) => bridges.some((b) => d.master === b.name && d.ns === b.ns));
  const bridgedTunnel = ports.find(isTunnel);
  const bridgedTap = ports.find((d) => d.type === 'tap' || d.type === 'tun');
  const bridgedUnderlay = underlay && ports.includes(underlay);
  if (bridges.some((b) => f.ovsUserspace.includes(b.ns) && b.type === 'ovs-bridge')) {
    out.userspace = true;
    hops.push({ kind: 'userspace', label: 'ovs-vswitchd', detail: 'userspace (netdev) datapath: every packet through a daemon' });
  }
  if (bridgedTunnel) {
    out.fabric = 'overlay';
    out.tunnel = { dev: bridgedTunnel.name, type: bridgedTunnel.type };
    hops.push(tunnelHop(bridgedTunnel, s.overhead || TUNNEL_BYTES[bridgedTunnel.type.replace(/^ovs-/, '')] || 0));
  } else if (bridgedTap) {
    out.fabric = 'overlay';
    out.userspace = true;
    out.tunnel = { dev: bridgedTap.name, type: bridgedTap.type };
    hops.push(userspaceHop(f, bridgedTap, s.overhead));
  } else if (bridgedUnderlay) {
    out.fabric = 'l2';
    out.containersOnUnderlay = true;
  } else if (out.containersOnUnderlay) {
    out.fabric = 'l2';
  } else {
    // Routed by the host (or by a BPF program's FIB lookup): NAT, a tunnel device, a userspace
    // TUN/TAP, or routes via peer hosts.
    out.hostStack = !bpfRedirect;
    if (gateway || out.attach === 'ipvlan')
      hops.push({ kind: 'routing', label: 'host IP stack', detail: 'forwarding and netfilter on the host' });
    const nat = f.nat.find((n) => n.ns === hostNs);
    const peerRoutes = f.routes.filter((r) => r.ns === hostNs && !r.blackhole && r.dest !== 'default' && !r.dest.endsWith('/32') && r.dev);
    // A collect-metadata tunnel (Cilium's cilium_vxlan) has no routes: BPF programs steer into it.
    const tunnelRoute =
      peerRoutes.map((r) => deviceNamed(f, hostNs, r.dev!)).find((d) => d && isTunnel(d)) ??
      f.devices.find((d) => d.ns === hostNs && d.type === 'vxlan' && d.attrs.external === 'on');
    const tunRoute = peerRoutes.map((r) => deviceNamed(f, hostNs, r.dev!)).find((d) => d && (d.type === 'tun' || d.type === 'tap'));
    const viaUnderlay = peerRoutes.find((r) => r.via && r.dev === underlay?.name);
    if (nat) {
      out.nat = true;
      out.fabric = 'nat';
      hops.push({
        kind: 'nat',
        label: 'NAT',
        detail: [nat.snat ? 'masquerade to the host address' : '', nat.dnat ? 'the peer DNATs its published port' : '']
          .filter(Boolean)
          .join('; '),
      });
    }
    if (tunnelRoute) {
      out.fabric = 'overlay';
      out.tunnel = { dev: tunnelRoute.name, type: tunnelRoute.type };
      hops.push(tunnelHop(tunnelRoute, s.overhead || TUNNEL_BYTES[tunnelRoute.type] || 0));
    } else if (tunRoute) {
      out.fabric = 'overlay';
      out.userspace = true;
      out.tunnel = { dev: tunRoute.name, type: tunRoute.type };
      hops.push(userspaceHop(f, tunRoute, s.overhead));
    } else if (viaUnderlay && !nat) {
      out.fabric = 'routed';
      hops.push({ kind: 'routing', label: `route ${viaUnderlay.dest}`, detail: `via the peer host ${viaUnderlay.via}, no encapsulation` });
    } else if (!nat) {
      // No peer routes in the plan: a control-plane daemon in the host (BIRD, cnlab's flannel agent)
      // programs them at run time, through the host's tunnel device if it has one, else the underlay.
      const tunnel = f.devices.find((d) => d.ns === hostNs && isTunnel(d));
      if (!f.daemons.some((d) => d.ns === hostNs)) out.fabric = 'unknown';
      else if (tunnel) {
        out.fabric = 'overlay';
        out.tunnel = { dev: tunnel.name, type: tunnel.type };
        hops.push(tunnelHop(tunnel, s.overhead || TUNNEL_BYTES[tunnel.type] || 0));
      } else {
        out.fabric = 'routed';
        hops.push({
          kind: 'routing',
          label: 'routes from the control plane',
          detail: 'each peer block via the peer host, no encapsulation',
        });
      }
    }
  }
  out.bgp = f.daemons.some((d) => d.ns === hostNs && /\b(bird|bird6|gobgpd?|bgpd|frr)\b/.test(`${d.name} ${d.argv[0] ?? ''}`));
  if (out.tunnel && !out.encapBytes) out.encapBytes = hops.reduce((n, h) => n + (h.bytes ?? 0), 0);
  // Bridged onto the underlay, or macvlan: the underlay port is the container's own segment.
  const tunnelDev = out.tunnel && f.devices.find((d) => d.name === out.tunnel!.dev && d.type === out.tunnel!.type);
  hops.push(underlayHop(tunnelDev?.origin ?? hostNs), peerHop);
  out.cross = hops;
  if (s.tests.some((t) => t.placement === 'same'))
    out.same = [...same, { kind: 'container', label: 'second container', detail: 'on the same host' }];
  return out;
}

/** One line: "eth0 → cni0 → flannel.1 VXLAN (+50 B) → eth0". */
export function pathText(hops: Hop[]): string {
  return hops.map((h) => (h.bytes ? `${h.label} (+${h.bytes} B)` : h.label)).join(' → ');
}

/** Short names for badges and tables. */
export const FABRIC_SHORT: Record<Fabric, string> = {
  host: 'baseline',
  overlay: 'overlay',
  routed: 'routed',
  l2: 'flat L2',
  nat: 'NAT',
  unknown: 'unrecognised',
};

export const FABRIC_TEXT: Record<Fabric, string> = {
  host: 'host network (baseline)',
  overlay: 'overlay (encapsulation)',
  routed: 'routed, no encapsulation',
  l2: 'flat L2 on the underlay',
  nat: 'NAT to host addresses',
  unknown: 'unrecognised layout',
};
