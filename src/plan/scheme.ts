import type { Requirement } from '../caps/types.js';
import type { Lab, Workload } from '../lab/types.js';
import type { StandIn, Stage } from './types.js';

/** Where a benchmark process runs and the address it owns: part of the lab model, re-exported. */
export type { Workload } from '../lab/types.js';

export type { StandIn } from './types.js';

export interface SchemeBuild {
  /** Stages that follow the shared base (namespaces, underlay). */
  stages: Stage[];
  /**
   * Namespaces the scheme needs beyond hosts and containers (e.g. Docker overlay's namespace per
   * network). Named with nsName(lab, node) like every other; `cnlab exec` reaches them by node.
   */
  extraNodes?: Array<{ node: string; ns: string }>;
  /** One per container (for the baseline: one per host), in host then container order. */
  workloads: Workload[];
  /** MTU of the workloads' interfaces. */
  mtu: number;
  /**
   * The address `from` dials to reach `to`. Usually `to.ip`; docker-bridge dials the peer host's
   * published port because container addresses are not routable across hosts.
   */
  targetIp(from: Workload, to: Workload): string;
  /**
   * Labels decided by the build (e.g. which datapath it chose), carried with every result after
   * the scheme's own `notes`.
   */
  notes?: string[];
  /** The control plane the build runs (absent: none, or --control-plane static). */
  control?: ControlPlane;
  /** This build stands in for the product (e.g. OVS without its kernel module); overrides the scheme's. */
  standIn?: StandIn;
}

/**
 * A scheme's running control plane: what it is (shown on results), the programs whose versions
 * results record, and the handles other features use to query it (sockets, endpoints), kept in
 * the lab's state file.
 */
export interface ControlPlane {
  /** e.g. "BIRD (BGP, full mesh)". */
  label: string;
  /** Programs whose `--version` the result records, e.g. ["bird"], ["etcd"]. */
  daemons: string[];
  /** BIRD control sockets by host; the etcd client URL. */
  handles: { birdSockets?: Record<string, string>; etcdEndpoint?: string };
}

/** What the machine offers a scheme's build, decided by src/caps before planning (plain data). */
export interface BuildHost {
  /** The machine also meets the scheme's `prefers`: build the preferred variant. */
  preferred: boolean;
}

export interface Scheme {
  name: string;
  /** One line for `cnlab schemes`. */
  summary: string;
  /**
   * How containers are attached: through CNI reference plugins, built directly, or not at all.
   * A 'direct' scheme brings each container's lo up itself (see plan/base.ts).
   */
  attach: 'cni' | 'direct' | 'none';
  requires: Requirement[];
  /** What the real control plane needs beyond `requires` (not needed with --control-plane static). */
  controlRequires?: Requirement[];
  /**
   * How the scheme builds --tenants: Felix's profiles, a subnet per tenant on one segment, or one
   * flat network where nothing isolates them. Absent: tenants are not built (the isolation probe skips it).
   */
  tenancy?: 'profiles' | 'subnets' | 'flat';
  /** Tenants may share container addresses (--overlap): a network, and an address space, per tenant. */
  overlap?: boolean;
  /** What isolating tenants needs beyond `requires` (e.g. nftables for Calico's profiles); only with --tenants. */
  tenantRequires?: Requirement[];
  /**
   * What a better variant needs beyond `requires` (e.g. Open vSwitch's kernel datapath). Never
   * needed: build() gets `preferred: true` when it is met, and builds the fallback otherwise.
   */
  prefers?: Requirement[];
  /** Labels carried with every result of this scheme (e.g. "userspace stand-in"). */
  notes: string[];
  /** What stands in for the product's own component in every build (see StandIn). */
  standIn?: StandIn;
  /** False for the host baseline, which has no container namespaces. */
  containers: boolean;
  /** Encapsulation bytes taken from the underlay MTU. */
  overhead: number;
  /** Pure: the scheme's stages and workloads for a resolved lab on a host offering `host`. */
  build(lab: Lab, host: BuildHost): SchemeBuild;
}

/** Pure: what building a scheme needs: its own requirements, its control plane's when real, its tenants' when built. */
export function schemeRequires(
  scheme: Pick<Scheme, 'requires' | 'controlRequires' | 'tenantRequires'>,
  controlPlane: 'static' | 'real' = 'real',
  tenants = false,
): Requirement[] {
  return [
    ...scheme.requires,
    ...(controlPlane === 'real' ? (scheme.controlRequires ?? []) : []),
    ...(tenants ? (scheme.tenantRequires ?? []) : []),
  ];
}
