/** What a scheme or tool needs from this machine. */

/** Kernel features by their CONFIG_ name (without the prefix). */
export const KERNEL_FEATURES = [
  'VETH',
  'BRIDGE',
  'VXLAN',
  'MACVLAN',
  'IPVLAN',
  'NET_IPIP',
  'WIREGUARD',
  'OPENVSWITCH',
  'TUN',
  'NF_TABLES',
  'NFT_NAT',
  'NFT_MASQ',
  'NFT_FIB',
  'NET_SCH_TBF',
  'BPF_SYSCALL',
  /** tc's clsact qdisc (the hook BPF programs attach to) comes with the ingress qdisc. */
  'NET_SCH_INGRESS',
  'NET_CLS_BPF',
] as const;
export type KernelFeature = (typeof KERNEL_FEATURES)[number];

export type Requirement =
  | { kind: 'kernel'; feature: KernelFeature }
  | { kind: 'binary'; name: string; pkg: string }
  | { kind: 'cni'; plugin: string }
  /** A file cnlab builds itself (e.g. BPF objects); `phrase` says what is missing when it is absent. */
  | { kind: 'file'; path: string; phrase: string };

export interface Capabilities {
  root: boolean;
  linux: boolean;
  /** Binary name → absolute path, or null when not installed. */
  binaries: Record<string, string | null>;
  /** Feature → present. */
  kernel: Record<KernelFeature, boolean>;
  /** How each kernel feature was decided ("config" from /proc/config.gz or "probe"). */
  kernelSource: 'config' | 'probe';
  cniPath: string;
  /** Plugin names found in cniPath. */
  cniPlugins: string[];
}
