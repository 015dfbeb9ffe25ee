import type {
  AddrStep,
  ExecStep,
  FdbStep,
  FileStep,
  FilterStep,
  IpTunnelAttrs,
  LinkKind,
  LinkSetStep,
  LinkStep,
  NeighStep,
  NftStep,
  QdiscSpec,
  QdiscStep,
  RouteStep,
  SysctlStep,
  VxlanAttrs,
} from './types.js';

/** Small constructors so scheme files read like the commands they stand for (plan/types.ts). */

/** `ip link add NAME [mtu M] type …`. */
export const link = (ns: string, name: string, kind: LinkKind, mtu?: number): LinkStep =>
  ({ kind: 'link', ns, name, ...(mtu === undefined ? {} : { mtu }), ...kind }) as LinkStep;

/** `ip link add NAME [mtu M] type veth peer name P [mtu M] [netns NS]`. */
export const veth = (ns: string, name: string, peer: { name: string; mtu?: number; ns?: string }, mtu?: number): LinkStep =>
  link(ns, name, { type: 'veth', peer }, mtu);

/** `ip link add NAME type bridge`. */
export const bridge = (ns: string, name: string): LinkStep => link(ns, name, { type: 'bridge' });

export const vxlan = (ns: string, name: string, attrs: VxlanAttrs, mtu?: number): LinkStep =>
  link(ns, name, { type: 'vxlan', vxlan: attrs }, mtu);

export const ipTunnel = (
  ns: string,
  name: string,
  type: 'ipip' | 'gre' | 'gretap' | 'sit',
  tunnel: IpTunnelAttrs,
  mtu?: number,
): LinkStep => link(ns, name, { type, tunnel }, mtu);

/** `ip link set NAME [address A] [mtu M] [txqueuelen Q] [master B|nomaster] [netns NS] [up|down]`. */
export const linkSet = (ns: string, name: string, change: Omit<LinkSetStep, 'kind' | 'ns' | 'name'>): LinkSetStep => ({
  kind: 'link-set',
  ns,
  name,
  ...change,
});

/** `ip link set NAME up`. */
export const up = (ns: string, name: string): LinkSetStep => linkSet(ns, name, { up: true });

export const addr = (ns: string, cidr: string, dev: string): AddrStep => ({ kind: 'addr', ns, op: 'add', cidr, dev });
export const addrDel = (ns: string, cidr: string, dev: string): AddrStep => ({ kind: 'addr', ns, op: 'del', cidr, dev });

/** `ip route add DEST [via GW] [dev D] [scope S] [onlink]`. */
export const route = (ns: string, dest: string, how: Omit<RouteStep, 'kind' | 'ns' | 'dest' | 'blackhole'>): RouteStep => ({
  kind: 'route',
  ns,
  dest,
  ...how,
});
export const blackhole = (ns: string, dest: string): RouteStep => ({ kind: 'route', ns, dest, blackhole: true });

/** `ip neigh add ADDR lladdr MAC dev D nud permanent`. */
export const neigh = (ns: string, address: string, lladdr: string, dev: string): NeighStep => ({
  kind: 'neigh',
  ns,
  addr: address,
  lladdr,
  dev,
});

/** `bridge fdb add|append MAC dev D dst IP self permanent`. */
export const fdb = (ns: string, op: 'add' | 'append', mac: string, dev: string, dst?: string): FdbStep => ({
  kind: 'fdb',
  ns,
  op,
  mac,
  dev,
  ...(dst ? { dst } : {}),
});

export const sysctl = (ns: string, key: string, value: string | number): SysctlStep => ({ kind: 'sysctl', ns, key, value: String(value) });

/** An nftables ruleset; `nat` declares the address rewriting it does. */
export const nft = (ns: string, ruleset: string, nat?: { snat: boolean; dnat: boolean }): NftStep => ({
  kind: 'nft',
  ns,
  ruleset,
  ...(nat ? { nat } : {}),
});

/** `tc qdisc add dev D …`. */
export const qdisc = (ns: string, dev: string, spec: QdiscSpec): QdiscStep => ({ kind: 'qdisc', ns, dev, qdisc: spec });

/** `tc filter add dev D ingress|egress [prio N] bpf [da] obj O sec S`. */
export const bpfFilter = (ns: string, dev: string, hook: 'ingress' | 'egress', bpf: FilterStep['bpf'], prio?: number): FilterStep => ({
  kind: 'filter',
  ns,
  dev,
  hook,
  ...(prio === undefined ? {} : { prio }),
  bpf,
});

/** A configuration file in the lab's state directory. */
export const file = (ns: string, path: string, content: string, mode?: number): FileStep => ({
  kind: 'file',
  ns,
  path,
  content,
  ...(mode === undefined ? {} : { mode }),
});

/** A one-shot program in the namespace that makes nothing the report needs (ethtool, mkdir, keys). */
export const exec = (ns: string, argv: string[], env?: Record<string, string>): ExecStep =>
  env ? { kind: 'exec', ns, argv, env } : { kind: 'exec', ns, argv };
