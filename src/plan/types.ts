import type { CniStep } from '../cni/types.js';

export type { CniStep } from '../cni/types.js';

/**
 * A plan is pure data: the ordered steps that build one lab. It can be printed as a shell script
 * (plan/render.ts) or applied (apply/). Steps run inside lab namespaces only.
 *
 * Steps say what they make, in the vocabulary of kernel objects (a link of a type, an address, a
 * route, a qdisc…), never as argv: only src/plan/argv.ts turns them into command lines, for
 * render.ts and apply/. Readers of a plan (the report's packet path, the offloads stage) read the
 * typed fields. A new kind of object is one member here, its argv in argv.ts, and what the report
 * should know of it in report/plan-facts.ts.
 *
 * Stages run in order. Inside a stage, each namespace's steps run in order, and different
 * namespaces may run in parallel: a step that depends on another namespace's step belongs in a
 * later stage. Consecutive steps of one namespace that one iproute2 tool runs (ip, bridge, tc)
 * are applied as one `-batch`, and consecutive sysctls as one `sysctl`.
 */

/** Tunnel device kinds: a device that encapsulates (the report's tunnel hop, the offloads stage). */
export const TUNNEL_TYPES = ['vxlan', 'geneve', 'ipip', 'gre', 'gretap', 'ip6tnl', 'ip6gre', 'sit', 'wireguard', 'fou', 'bareudp'] as const;
/** Devices whose packets a userspace process reads and writes. */
export const TUNTAP_TYPES = ['tun', 'tap'] as const;

export function isTunnelType(type: string): boolean {
  return (TUNNEL_TYPES as readonly string[]).includes(type);
}

/** VXLAN attributes, rendered in this order: id, local, dev, dstport, then the flags. */
export interface VxlanAttrs {
  /** Absent only for a collect-metadata device (`external`), rendered `external dstport P`. */
  id?: number;
  local?: string;
  /** The underlay device (`dev X`): the device's parent. */
  dev?: string;
  dstport: number;
  /** true: `learning`, false: `nolearning`, unset: the kernel's default (learning). */
  learning?: boolean;
  proxy?: boolean;
  l2miss?: boolean;
  l3miss?: boolean;
  /** Flow-based (collect metadata, `external`). */
  external?: boolean;
}

/** Point-to-point IP tunnels (ipip, gre, sit…): `local`, `remote`, `dev`. */
export interface IpTunnelAttrs {
  local?: string;
  remote?: string;
  dev?: string;
}

/** What the link's type adds to `ip link add … type T`. */
export type LinkKind =
  /** A veth pair; the peer end in `peer.ns` (default: the same namespace). */
  | { type: 'veth'; peer: { name: string; mtu?: number; ns?: string } }
  | { type: 'bridge' | 'dummy' | 'wireguard' }
  | { type: 'vxlan'; vxlan: VxlanAttrs }
  | { type: 'ipip' | 'gre' | 'gretap' | 'sit'; tunnel: IpTunnelAttrs }
  /** A child of `parent` (`link PARENT`). */
  | { type: 'macvlan' | 'ipvlan'; parent: string; mode: string }
  /** `ip tuntap add dev NAME mode tun|tap` (a persistent device, no process holds it). */
  | { type: 'tun' | 'tap' };

/**
 * Create a link: `ip -n NS link add NAME [index I] [link P] [mtu M] type T …`. `index` fixes the
 * ifindex (per namespace), so a plan can name the device in a BPF map.
 */
export type LinkStep = { kind: 'link'; ns: string; name: string; index?: number; mtu?: number } & LinkKind;

/** Change a link, in this order: address, mtu, txqueuelen, master/nomaster, netns, up/down. */
export interface LinkSetStep {
  kind: 'link-set';
  ns: string;
  name: string;
  address?: string;
  mtu?: number;
  txqueuelen?: number;
  /** A bridge to enslave it to, or null for `nomaster`. */
  master?: string | null;
  /** Move it to this namespace (it is known there by the same name). */
  netns?: string;
  up?: boolean;
}

export interface AddrStep {
  kind: 'addr';
  ns: string;
  op: 'add' | 'del';
  /** Address with prefix, e.g. 198.19.1.0/32. */
  cidr: string;
  dev: string;
}

/** `ip route add [blackhole] DEST [via GW] [dev D] [scope S] [onlink]`. */
export interface RouteStep {
  kind: 'route';
  ns: string;
  /** A prefix or `default`. */
  dest: string;
  blackhole?: boolean;
  via?: string;
  dev?: string;
  scope?: 'link' | 'host' | 'global';
  onlink?: boolean;
}

/** A static neighbour: `ip neigh add ADDR lladdr MAC dev D nud permanent`. */
export interface NeighStep {
  kind: 'neigh';
  ns: string;
  addr: string;
  lladdr: string;
  dev: string;
}

/** A forwarding-database entry of a VXLAN device or bridge: `bridge fdb add|append MAC dev D [dst IP] self permanent`. */
export interface FdbStep {
  kind: 'fdb';
  ns: string;
  op: 'add' | 'append';
  mac: string;
  dev: string;
  /** The remote VTEP. */
  dst?: string;
}

export interface SysctlStep {
  kind: 'sysctl';
  ns: string;
  key: string;
  value: string;
}

/** `nft -f -` inside NS with this ruleset; `nat` says what it rewrites (declared by the scheme). */
export interface NftStep {
  kind: 'nft';
  ns: string;
  ruleset: string;
  nat?: { snat: boolean; dnat: boolean };
}

/** A queueing discipline (`tc qdisc add dev D root|clsact|ingress …`). */
export type QdiscSpec =
  /** Token bucket: rate (e.g. 1gbit), burst in bytes, latency (e.g. 50ms). */
  | { type: 'tbf'; rate: string; burst: string; latency: string }
  /** Hierarchical token bucket root; classes go unclassified to `default`. */
  | { type: 'htb'; handle?: string; default?: string }
  /** The hook for tc BPF programs at ingress and egress (no parent, no handle). */
  | { type: 'clsact' };

export interface QdiscStep {
  kind: 'qdisc';
  ns: string;
  dev: string;
  qdisc: QdiscSpec;
}

/**
 * A tc filter: today the BPF form, `tc filter add dev D ingress|egress [prio N] bpf [da] obj O sec S`
 * (needs a clsact qdisc on the device first). `obj` is an ELF file (e.g. in the lab's directory,
 * written by a `file` step or built beforehand); `da` is direct-action. `pinRoot`: the bpffs tc
 * pins the object's maps under (`TC_BPF_MNT=ROOT`, maps in ROOT/tc/globals); such a filter runs
 * alone inside the namespace (`ip netns exec NS env TC_BPF_MNT=ROOT tc filter add …`), not batched.
 */
export interface FilterStep {
  kind: 'filter';
  ns: string;
  dev: string;
  hook: 'ingress' | 'egress';
  prio?: number;
  bpf: { obj: string; sec: string; da?: boolean; pinRoot?: string };
}

/**
 * A bpffs instance for host namespace NS, mounted at `path` (inside the lab's state directory)
 * in cnlab's own mount namespace, so pinned BPF maps outlive the commands that create them and
 * each emulated host has its own: `mount -t bpf bpf PATH`. Recorded in the state file before it
 * is made; unmounted at teardown.
 */
export interface MountStep {
  kind: 'mount';
  ns: string;
  fstype: 'bpf';
  path: string;
}

/**
 * A configuration file written into the lab's state directory (a daemon's config, e.g. BIRD's):
 * rendered as a heredoc, written by apply with `mode` (default 0600). `ns` is the node it belongs
 * to (for ordering in a stage); the path must lie under the lab's state directory.
 */
export interface FileStep {
  kind: 'file';
  ns: string;
  path: string;
  content: string;
  mode?: number;
}

/** One Open vSwitch database change inside an ovs-vsctl transaction. */
export type OvsOp =
  | {
      op: 'add-br';
      bridge: string;
      datapath: 'system' | 'netdev';
      /** 'secure': only the plan's flows forward; 'standalone': OVS's own NORMAL flow. */
      failMode: 'secure' | 'standalone';
      hwaddr?: string;
      mtu?: number;
    }
  /**
   * A port; with `type` an OVS interface of that type (vxlan…, or `internal`: a device
   * ovs-vswitchd makes) and its options; `mtuRequest` asks ovs-vswitchd for the interface's MTU.
   */
  | {
      op: 'add-port';
      bridge: string;
      port: string;
      type?: 'vxlan' | 'geneve' | 'gre' | 'internal';
      options?: Record<string, string | number>;
      mtuRequest?: number;
    };

/** One `ovs-vsctl --db=DB --timeout=30 …` transaction (commands joined by `--`). */
export interface OvsStep {
  kind: 'ovs';
  ns: string;
  db: string;
  ops: OvsOp[];
}

/** OpenFlow flows loaded into a bridge in one `ovs-ofctl add-flows unix:MGMT -`. */
export interface OvsFlowsStep {
  kind: 'ovs-flows';
  ns: string;
  bridge: string;
  /** The bridge's management socket. */
  mgmt: string;
  flows: string[];
}

/**
 * A one-shot program inside NS (`ip netns exec NS env K=V argv…`) that makes no object the
 * report needs (ethtool, key generation, mkdir, ovsdb-tool): the escape hatch. `input`, when
 * given, is its standard input.
 */
export interface ExecStep {
  kind: 'exec';
  ns: string;
  argv: string[];
  env?: Record<string, string>;
  input?: string;
}

/**
 * A long-running process inside NS, started in the foreground (never self-daemonizing, so the
 * pid cnlab tracks is the daemon's), logging to `log`, and considered ready once `readyFile`
 * exists (or at once without one). Stopped by pid at teardown. `devices` declares the TUN/TAP
 * devices it creates and holds (the report's userspace hop).
 */
export interface DaemonStep {
  kind: 'daemon';
  ns: string;
  name: string;
  argv: string[];
  env?: Record<string, string>;
  log: string;
  readyFile?: string;
  devices?: Array<{ name: string; type: 'tun' | 'tap' }>;
}

export type Step =
  | LinkStep
  | LinkSetStep
  | AddrStep
  | RouteStep
  | NeighStep
  | FdbStep
  | SysctlStep
  | NftStep
  | QdiscStep
  | FilterStep
  | MountStep
  | FileStep
  | OvsStep
  | OvsFlowsStep
  | ExecStep
  | DaemonStep
  | CniStep;

export interface Stage {
  /** Shown as a comment in the script and in progress output. */
  title: string;
  steps: Step[];
}

export interface Plan {
  lab: string;
  scheme: string;
  /** Every namespace the lab creates, in creation order. */
  namespaces: string[];
  stages: Stage[];
}

/**
 * A scheme (or one build of it) that runs something else in place of the product's own component:
 * what stands in and why. Carried in every result; reports mark such figures and rank them apart.
 */
export interface StandIn {
  what: string;
  why: string;
}
