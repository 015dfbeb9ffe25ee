import { isTunnelType, type CniStep, type LinkStep, type Plan, type QdiscSpec, type Step } from '../plan/types.js';

/**
 * Pure: what a scheme's plan built, read from its typed steps (plan/types.ts) — devices and their
 * kinds, bridge ports, veth peers, routes, NAT, daemons, OVS bridges and ports, qdiscs and tc
 * filters. The report derives the packet's path and the scheme's family from these facts, never
 * from the scheme's name. No argv is parsed here: a new step kind is read by adding its case.
 */

export interface Device {
  ns: string;
  name: string;
  /** veth, bridge, vxlan, macvlan, ipvlan, ipip, gre, geneve, wireguard, tun, tap, ovs-bridge, ovs-port… */
  type: string;
  /** Type attributes as text (e.g. vxlan id, dstport; macvlan mode; an OVS interface's options). */
  attrs: Record<string, string>;
  master?: string;
  mtu?: number;
  /** For a veth end: the other end. */
  peer?: { ns: string; name: string };
  /** The parent device (macvlan/ipvlan `link PARENT`, vxlan `dev X`). */
  parent?: string;
  /** The namespace it was created in, when it was moved since. */
  origin?: string;
}

export interface Route {
  ns: string;
  dest: string;
  via?: string;
  dev?: string;
  blackhole: boolean;
}

export interface CniAttachment {
  ns: string;
  containerNs: string;
  ifName: string;
  /** Plugin types in chain order, e.g. ["bridge", "portmap", "bandwidth"]. */
  chain: string[];
  main: Record<string, unknown> & { type: string };
}

/** A queueing discipline on a device, and what it is in one phrase (e.g. "tbf 1gbit"). */
export interface Qdisc {
  ns: string;
  dev: string;
  type: QdiscSpec['type'];
  text: string;
}

/** A tc filter on a device's hook (a BPF program: object and section). */
export interface Filter {
  ns: string;
  dev: string;
  hook: 'ingress' | 'egress';
  text: string;
}

export interface PlanFacts {
  devices: Device[];
  routes: Route[];
  cni: CniAttachment[];
  /** Namespaces whose nftables rules masquerade/SNAT or DNAT. */
  nat: Array<{ ns: string; snat: boolean; dnat: boolean }>;
  daemons: Array<{ ns: string; name: string; argv: string[] }>;
  /** Namespaces where an OVS bridge uses the userspace (netdev) datapath. */
  ovsUserspace: string[];
  /** Addresses added to devices. */
  addresses: Array<{ ns: string; dev: string; cidr: string }>;
  qdiscs: Qdisc[];
  filters: Filter[];
}

function find(f: PlanFacts, ns: string, name: string): Device | undefined {
  return f.devices.find((d) => d.ns === ns && d.name === name);
}

/** Move a device to another namespace, keeping a veth peer's view of it in step. */
function moveDevice(f: PlanFacts, d: Device, ns: string): void {
  for (const o of f.devices) if (o.peer && o.peer.ns === d.ns && o.peer.name === d.name) o.peer = { ns, name: d.name };
  d.origin ??= d.ns;
  d.ns = ns;
}

/** Devices the kernel creates in every namespace when the tunnel module loads. */
const FALLBACK_TUNNELS: Record<string, string> = { tunl0: 'ipip', gre0: 'gre', gretap0: 'gretap', sit0: 'sit' };

const text = (o: Record<string, unknown>): Record<string, string> =>
  Object.fromEntries(Object.entries(o).flatMap(([k, v]) => (v === undefined || v === false ? [] : [[k, v === true ? 'on' : String(v)]])));

function linkStep(f: PlanFacts, s: LinkStep): void {
  const dev: Device = { ns: s.ns, name: s.name, type: s.type, attrs: {}, mtu: s.mtu };
  if (s.type === 'vxlan') {
    const { learning, ...rest } = s.vxlan;
    dev.attrs = text({ ...rest, ...(learning === false ? { nolearning: true } : learning ? { learning: true } : {}) });
    dev.parent = s.vxlan.dev;
  } else if (s.type === 'ipip' || s.type === 'gre' || s.type === 'gretap' || s.type === 'sit') {
    dev.attrs = text({ ...s.tunnel });
    dev.parent = s.tunnel.dev;
  } else if (s.type === 'macvlan' || s.type === 'ipvlan') {
    dev.attrs = { mode: s.mode };
    dev.parent = s.parent;
  }
  f.devices.push(dev);
  if (s.type === 'veth') {
    const peer: Device = {
      ns: s.peer.ns ?? s.ns,
      name: s.peer.name,
      type: 'veth',
      attrs: {},
      mtu: s.peer.mtu ?? s.mtu,
      peer: { ns: s.ns, name: s.name },
    };
    dev.peer = { ns: peer.ns, name: peer.name };
    f.devices.push(peer);
  }
}

function cniStep(f: PlanFacts, s: CniStep): void {
  const plugins = s.conflist?.plugins ?? [];
  if (!plugins.length) return;
  const main = plugins[0];
  f.cni.push({ ns: s.ns, containerNs: s.containerNs, ifName: s.ifName, chain: plugins.map((p) => String(p.type)), main });
  // What the main plugin creates on the host side, as devices.
  if (main.type === 'bridge' && typeof main.bridge === 'string' && !find(f, s.ns, main.bridge)) {
    f.devices.push({ ns: s.ns, name: main.bridge, type: 'bridge', attrs: {}, mtu: typeof main.mtu === 'number' ? main.mtu : undefined });
  }
  if (plugins.some((p) => p.type === 'portmap') || (main.type === 'bridge' && main.ipMasq === true)) {
    f.nat.push({ ns: s.ns, snat: main.ipMasq === true, dnat: plugins.some((p) => p.type === 'portmap') });
  }
}

function qdiscText(q: QdiscSpec): string {
  switch (q.type) {
    case 'tbf':
      return `tbf ${q.rate}`;
    case 'htb':
      return 'htb';
    case 'clsact':
      return 'clsact';
  }
}

function step(f: PlanFacts, s: Step): void {
  switch (s.kind) {
    case 'link':
      return linkStep(f, s);
    case 'link-set': {
      let d = find(f, s.ns, s.name);
      // The kernel's fallback tunnel devices exist once their module loads, without a link step.
      if (!d && FALLBACK_TUNNELS[s.name]) f.devices.push((d = { ns: s.ns, name: s.name, type: FALLBACK_TUNNELS[s.name], attrs: {} }));
      if (!d) return;
      if (s.master) d.master = s.master;
      if (s.master === null) d.master = undefined;
      if (s.mtu !== undefined) d.mtu = s.mtu;
      if (s.netns) moveDevice(f, d, s.netns);
      return;
    }
    case 'addr':
      if (s.op === 'add') f.addresses.push({ ns: s.ns, dev: s.dev, cidr: s.cidr });
      return;
    case 'route':
      f.routes.push({ ns: s.ns, dest: s.dest, via: s.via, dev: s.dev, blackhole: s.blackhole === true });
      return;
    case 'nft':
      if (s.nat && (s.nat.snat || s.nat.dnat)) f.nat.push({ ns: s.ns, snat: s.nat.snat, dnat: s.nat.dnat });
      return;
    case 'cni':
      return cniStep(f, s);
    case 'ovs':
      for (const op of s.ops) {
        if (op.op === 'add-br') {
          if (!find(f, s.ns, op.bridge)) f.devices.push({ ns: s.ns, name: op.bridge, type: 'ovs-bridge', attrs: {}, mtu: op.mtu });
          if (op.datapath === 'netdev' && !f.ovsUserspace.includes(s.ns)) f.ovsUserspace.push(s.ns);
        } else {
          const type = op.type ? `ovs-${op.type}` : undefined;
          const existing = find(f, s.ns, op.port);
          if (existing) {
            existing.master = op.bridge;
            if (type) existing.type = type;
          } else f.devices.push({ ns: s.ns, name: op.port, type: type ?? 'ovs-port', attrs: text(op.options ?? {}), master: op.bridge });
        }
      }
      return;
    case 'daemon':
      f.daemons.push({ ns: s.ns, name: s.name, argv: s.argv });
      for (const d of s.devices ?? [])
        if (!find(f, s.ns, d.name)) f.devices.push({ ns: s.ns, name: d.name, type: d.type, attrs: { daemon: s.name } });
      return;
    case 'qdisc':
      f.qdiscs.push({ ns: s.ns, dev: s.dev, type: s.qdisc.type, text: qdiscText(s.qdisc) });
      return;
    case 'filter':
      f.filters.push({ ns: s.ns, dev: s.dev, hook: s.hook, text: `bpf ${s.bpf.obj}:${s.bpf.sec}${s.bpf.da ? ' (direct action)' : ''}` });
      return;
    default:
      // neigh, fdb, sysctl, file, ovs-flows, exec: nothing the path needs.
      return;
  }
}

export function planFacts(plan: Plan | undefined): PlanFacts {
  const f: PlanFacts = { devices: [], routes: [], cni: [], nat: [], daemons: [], ovsUserspace: [], addresses: [], qdiscs: [], filters: [] };
  for (const stage of plan?.stages ?? []) for (const s of stage.steps) step(f, s);
  return f;
}

/** A device that encapsulates in the kernel or in OVS (plan/types.ts TUNNEL_TYPES, ovs-<type>). */
export function isTunnel(d: Device): boolean {
  return isTunnelType(d.type.replace(/^ovs-/, ''));
}

/** Devices in `ns` (optionally of `types`). */
export function devicesIn(f: PlanFacts, ns: string, types?: string[]): Device[] {
  return f.devices.filter((d) => d.ns === ns && (!types || types.includes(d.type)));
}

export function deviceNamed(f: PlanFacts, ns: string, name: string): Device | undefined {
  return find(f, ns, name);
}

/** What tc does on a device: its qdiscs and filters, e.g. ["tbf 1gbit", "ingress bpf prog.o:tc"]. */
export function tcOn(f: PlanFacts, ns: string, dev: string): string[] {
  return [
    ...f.qdiscs.filter((q) => q.ns === ns && q.dev === dev).map((q) => q.text),
    ...f.filters.filter((x) => x.ns === ns && x.dev === dev).map((x) => `${x.hook} ${x.text}`),
  ];
}
