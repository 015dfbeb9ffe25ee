import { join } from 'node:path';
import type { Requirement } from '../../caps/types.js';
import { PROJECT_ROOT } from '../../encap/paths.js';
import { ipToInt } from '../../lab/ipv4.js';
import { labStateDir } from '../../lab/paths.js';
import type { HostNode, Lab } from '../../lab/types.js';
import { bpfFilter, exec, qdisc } from '../../plan/steps.js';
import type { MountStep, Step } from '../../plan/types.js';

/**
 * Every plan step the BPF datapath needs, built in this one place: a bpffs per host (a typed
 * `mount` step), the clsact hook, `tc filter … bpf da obj … sec …` loading a program of
 * bpf/cilium.c (a typed `filter` step with the host's pin root), and `bpftool map update pinned …`
 * filling its maps (exec steps: the report reads the datapath's mode from the measured counters). Values are the C structs' bytes (little-endian host order,
 * addresses in network order), as a person would type them.
 *
 * tc pins the object's maps (LIBBPF_PIN_BY_NAME) under $TC_BPF_MNT/tc/globals, so the programs of
 * one host share them; TC_BPF_MNT points tc at the host's own bpffs (inside the lab's state
 * directory), which keeps each emulated host's maps apart.
 */

/** The compiled object (`make build`: clang -target bpf bpf/cilium.c). */
export const BPF_OBJECT = join(PROJECT_ROOT, 'build', 'bpf', 'cilium.o');

export const BPF_REQUIRES: Requirement[] = [
  { kind: 'kernel', feature: 'BPF_SYSCALL' },
  { kind: 'kernel', feature: 'NET_SCH_INGRESS' },
  { kind: 'kernel', feature: 'NET_CLS_BPF' },
  { kind: 'binary', name: 'tc', pkg: 'iproute2' },
  { kind: 'binary', name: 'bpftool', pkg: 'bpftool' },
  { kind: 'binary', name: 'mount', pkg: 'mount' },
  { kind: 'file', path: BPF_OBJECT, phrase: 'needs clang (BPF objects not built: apt-get install clang libbpf-dev, then make build)' },
];

export type BpfProgram = 'from-container' | 'from-netdev';
/** Pinned map names (the C file's map variables). */
export type BpfMap = 'endpoints' | 'tunnels' | 'config' | 'stats_container' | 'stats_netdev';
/** The stats map each program counts its verdicts in. */
export const STATS_MAP: Record<BpfProgram, BpfMap> = { 'from-container': 'stats_container', 'from-netdev': 'stats_netdev' };

/** config.mode (MODE_* in bpf/cilium.c). */
export const BPF_MODE = { redirect: 0, legacy: 1, tunnel: 2 } as const;
export type BpfMode = keyof typeof BPF_MODE;

/** Host h's bpffs, inside the lab's state directory. */
export const bpffsPath = (lab: Lab, h: HostNode): string => join(labStateDir(lab.name), 'bpffs', h.name);
export const pinnedMap = (lab: Lab, h: HostNode, map: BpfMap): string => join(bpffsPath(lab, h), 'tc', 'globals', map);

export function mountBpffs(lab: Lab, h: HostNode): MountStep {
  return { kind: 'mount', ns: h.ns, fstype: 'bpf', path: bpffsPath(lab, h) };
}

/** clsact on `dev`, then `prog` on its ingress in direct-action mode. */
export function attachIngress(lab: Lab, h: HostNode, dev: string, prog: BpfProgram): Step[] {
  return [
    qdisc(h.ns, dev, { type: 'clsact' }),
    bpfFilter(h.ns, dev, 'ingress', { obj: BPF_OBJECT, sec: prog, da: true, pinRoot: bpffsPath(lab, h) }),
  ];
}

export function mapUpdate(lab: Lab, h: HostNode, map: BpfMap, key: number[], value: number[]): Step {
  return exec(h.ns, [
    'bpftool',
    'map',
    'update',
    'pinned',
    pinnedMap(lab, h, map),
    'key',
    'hex',
    ...hex(key),
    'value',
    'hex',
    ...hex(value),
  ]);
}

// ---------------------------------------------------------------- the C structs, as bytes

const hex = (bytes: number[]): string[] => bytes.map((b) => b.toString(16).padStart(2, '0'));
const u32le = (n: number): number[] => [n & 0xff, (n >>> 8) & 0xff, (n >>> 16) & 0xff, (n >>> 24) & 0xff];
const ipv4 = (ip: string): number[] => {
  const n = ipToInt(ip);
  return [(n >>> 24) & 0xff, (n >>> 16) & 0xff, (n >>> 8) & 0xff, n & 0xff];
};
const mac = (m: string): number[] => m.split(':').map((x) => parseInt(x, 16));

/** endpoints: IPv4 (network order) → struct endpoint { ifindex; mac[6]; node_mac[6] }. */
export const endpointKey = (ip: string): number[] => ipv4(ip);
export const endpointValue = (ifindex: number, containerMac: string, nodeMac: string): number[] => [
  ...u32le(ifindex),
  ...mac(containerMac),
  ...mac(nodeMac),
];

/** tunnels: LPM key { prefixlen; addr } → struct tunnel { vtep; mac[6]; pad }. */
export const tunnelKey = (network: string, prefix: number): number[] => [...u32le(prefix), ...ipv4(network)];
export const tunnelValue = (vtep: string, vtepMac: string): number[] => [...ipv4(vtep), ...mac(vtepMac), 0, 0];

/** config[0]: struct config { mode; vxlan_ifindex; vni; vxlan_mac[6]; pad }. */
export const configValue = (mode: BpfMode, vxlanIfindex = 0, vni = 0, vxlanMac = '00:00:00:00:00:00'): number[] => [
  ...u32le(BPF_MODE[mode]),
  ...u32le(vxlanIfindex),
  ...u32le(vni),
  ...mac(vxlanMac),
  0,
  0,
];

export function setMode(lab: Lab, h: HostNode, mode: BpfMode, vxlan?: { ifindex: number; vni: number; mac: string }): Step {
  return mapUpdate(lab, h, 'config', u32le(0), configValue(mode, vxlan?.ifindex, vxlan?.vni, vxlan?.mac));
}
