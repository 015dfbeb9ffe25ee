/**
 * The lab model. Topology is the validated user input; Lab is the resolved, fully named and
 * addressed model every planner reads. Both are plain data (mininet's rule: topology is data).
 */

/** Validated input: what the user asked for. */
export interface Topology {
  /** Lab name: namespaces are cnl-<lab>-<node>. */
  lab: string;
  hosts: number;
  /** Containers on every host. */
  containersPerHost: number;
  /** Add one more container on host 1 so that same-host tests have a peer. */
  sameHost: boolean;
  underlay: {
    cidr: string;
    mtu: number;
    /** Optional link rate for a tbf qdisc on every underlay port, e.g. "1gbit". */
    rate?: string;
  };
  pods: {
    cidr: string;
    /** Prefix length of each host's pod block, e.g. 24 → 198.19.<host>.0/24. */
    blockPrefix: number;
  };
  /** Allow addresses outside 198.18.0.0/15 (off by default). */
  allowAddresses: boolean;
  /**
   * ethtool -K tso/gso/gro/tx/rx on|off for every underlay, tunnel and workload device the plan
   * knows (plan/offloads.ts); absent: the kernel's defaults are left alone.
   */
  offloads?: 'on' | 'off';
  /**
   * Schemes with a control plane (Calico's BGP, flannel's etcd): 'real' runs its daemons (the
   * default when absent), 'static' writes the routes they would program up front.
   */
  controlPlane?: 'static' | 'real';
  /** Calico's BGP topology: a full mesh (default when absent) or host 1 as route reflector. */
  bgp?: 'mesh' | 'rr';
  /** Flannel's etcd: one member (default when absent) or a 3-member cluster. */
  etcd?: 1 | 3;
  /**
   * Split the containers into this many tenants (groups isolated from each other where the
   * scheme can): round-robin by container index within each host (lab/resolve.ts). Absent: one
   * group, no isolation asked for.
   */
  tenants?: number;
  /**
   * Every tenant gets the same container addresses (tenant 1's, host by host): IP overlap, for
   * schemes with a network per tenant (Scheme.overlap). Needs tenants ≥ 2.
   */
  overlap?: boolean;
}

export interface Cidr {
  /** Network address, dotted quad. */
  network: string;
  prefix: number;
}

export interface ContainerNode {
  kind: 'container';
  /** Short node name, e.g. "h1c2" (host 1, container 2). */
  name: string;
  ns: string;
  hostIndex: number;
  /** 1-based within its host. */
  index: number;
  /** A stable id, used as CNI_CONTAINERID. */
  id: string;
  /** 1-based index over all containers of its host: the offset used for addresses. */
  slot: number;
  /** 1-based tenant, present when the topology asks for tenants. */
  tenant?: number;
}

export interface HostNode {
  kind: 'host';
  name: string;
  ns: string;
  /** 1-based. */
  index: number;
  /** The host's underlay interface inside its namespace. */
  underlayIf: string;
  underlayIp: string;
  /** This host's pod block, e.g. 198.19.1.0/24. */
  podBlock: Cidr;
  /**
   * Addresses of the underlay subnet reserved for this host's containers, for schemes that put
   * containers on the underlay L2 segment (bridge-l2, macvlan).
   */
  underlayRange?: { start: string; end: string };
  containers: ContainerNode[];
}

export interface SwitchNode {
  kind: 'switch';
  name: string;
  ns: string;
  bridge: string;
}

export interface Lab {
  name: string;
  topology: Topology;
  hosts: HostNode[];
  /** Present when more than two hosts share the underlay through a bridge. */
  switch?: SwitchNode;
  underlay: Cidr & { mtu: number; rate?: string };
  pods: Cidr;
  /** Directory for this lab's runtime state (IPAM data, logs, keys). */
  stateDir: string;
}

export const NS_PREFIX = 'cnl-';

export function nsName(lab: string, node: string): string {
  return `${NS_PREFIX}${lab}-${node}`;
}

/** The control plane a lab runs (see Topology.controlPlane). */
export function controlPlaneOf(t: Pick<Topology, 'controlPlane'>): 'static' | 'real' {
  return t.controlPlane ?? 'real';
}

/** A measured endpoint of a built lab (where a benchmark process runs and the address it owns). */
export interface Workload {
  /** Node name: a container ("h1c1") or, for the host baseline, a host ("h1"). */
  node: string;
  ns: string;
  hostIndex: number;
  ip: string;
  /** The workload's interface toward the network (for MTU and offload readings). */
  ifName: string;
}
