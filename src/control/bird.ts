import { join } from 'node:path';
import { ipToInt } from '../lab/ipv4.js';
import type { HostNode, Lab } from '../lab/types.js';

/**
 * Calico's BGP control plane as BIRD 2 configuration, one file per emulated host (pure).
 *
 * A translation of calico-node's confd templates (confd/etc/calico/confd/templates/bird.cfg.template,
 * bird_ipam.cfg.template; BIRD 1.x syntax, Calico's fork) into BIRD 2 syntax (datapaths §5):
 * - router id = the host's underlay address;
 * - `device`; `direct` on every interface but the workload veths (cali*);
 * - `kernel`: learns alien routes, programs every route it has into the FIB (tagged `proto bird`),
 *   persists them across a restart, graceful restart, ECMP merged;
 * - `static`: a blackhole for the host's own block (Calico's IPAM block);
 * - one BGP session per peer from a template: local AS 64512 (Calico's default), import all,
 *   export the own block only (and, on a route reflector, what it reflects). Workload /32s stay on
 *   the host. Full mesh by default: Calico makes the mesh unidirectional, the side whose address
 *   is the lower one is passive and waits for the other to connect;
 * - `rr`: host 1 is a route reflector and every other host its client (Calico's choice for large
 *   clusters), clients peer with host 1 only.
 *
 * Tunnel modes program peer blocks through the tunnel rather than the underlay: for VXLAN, via the
 * block's tunnel address (its network address, as Felix assigns it) on the VXLAN device, onlink;
 * for IP-in-IP, via the originating host's underlay address on tunl0, onlink (Calico's fork does
 * this with krt_tunnel; BIRD 2.0.12 has the `onlink` attribute instead).
 */

export const CALICO_AS = 64512;

export type BgpTopology = 'mesh' | 'rr';

export interface BirdSpec {
  bgp: BgpTopology;
  /** Program learned peer blocks through this tunnel device instead of the underlay. */
  tunnel?: { kind: 'vxlan' | 'ipip'; dev: string };
  /** BGP keepalive / hold times, seconds (BIRD's defaults otherwise: 80 / 240). */
  keepalive?: number;
  hold?: number;
}

/** Where one host's BIRD keeps its files: all in the lab's state directory. */
export interface BirdPaths {
  dir: string;
  config: string;
  socket: string;
  log: string;
}

export function birdPaths(lab: Pick<Lab, 'stateDir'>, h: Pick<HostNode, 'name'>): BirdPaths {
  const dir = join(lab.stateDir, `bird-${h.name}`);
  return { dir, config: join(dir, 'bird.conf'), socket: join(dir, 'bird.ctl'), log: join(dir, 'bird.log') };
}

export const blockOf = (h: HostNode): string => `${h.podBlock.network}/${h.podBlock.prefix}`;

/** The protocol name of the session with a peer (Calico: Mesh_<ip with underscores>; Node_ for RR peers). */
export function sessionName(peer: HostNode, rr: boolean): string {
  return `${rr ? 'Node' : 'Mesh'}_${peer.underlayIp.replace(/\./g, '_')}`;
}

/** The peers a host has a BGP session with. */
export function peersOf(lab: Lab, h: HostNode, bgp: BgpTopology): HostNode[] {
  if (bgp === 'mesh') return lab.hosts.filter((o) => o !== h);
  return h.index === 1 ? lab.hosts.slice(1) : [lab.hosts[0]];
}

/** Number of BGP sessions in the whole lab. */
export function sessionCount(lab: Lab, bgp: BgpTopology): number {
  const n = lab.hosts.length;
  return bgp === 'mesh' ? (n * (n - 1)) / 2 : n - 1;
}

/** How a host programs peer blocks learned from BGP (the kernel protocol's export filter). */
function kernelFilter(spec: BirdSpec): string[] {
  // Interface routes (protocol direct) are the kernel's own already.
  const lines = ['filter calico_kernel_programming {', '  if source = RTS_DEVICE then reject;'];
  if (spec.tunnel?.kind === 'vxlan') {
    lines.push(
      "  # Peer blocks through the VXLAN device: via the block's tunnel address, onlink (Felix's shape).",
      `  if source = RTS_BGP then { ifname = "${spec.tunnel.dev}"; onlink = true; gw = net.ip; }`,
    );
  } else if (spec.tunnel?.kind === 'ipip') {
    lines.push(
      "  # Peer blocks through tunl0: via the originating host's address, onlink (Calico's krt_tunnel).",
      '  if source = RTS_BGP then { ip nh = bgp_next_hop; ifname = "' + spec.tunnel.dev + '"; onlink = true; gw = nh; }',
    );
  }
  lines.push('  accept;', '}');
  return lines;
}

/** One host's bird.conf. */
export function birdConfig(lab: Lab, h: HostNode, spec: BirdSpec): string {
  const rr = spec.bgp === 'rr';
  const isReflector = rr && h.index === 1;
  const block = blockOf(h);
  const pool = `${lab.pods.network}/${lab.pods.prefix}`;
  const out: string[] = [
    `# cnlab: Calico's BGP control plane for ${h.name} (BIRD 2 translation of calico-node's bird.cfg.template)`,
    `router id ${h.underlayIp};`,
    'log stderr all;',
    '',
    ...kernelFilter(spec),
    '',
    '# Announce the own block (and, on a route reflector, what it reflects); never workload /32s.',
    'filter calico_export_to_bgp_peers {',
    `  if net = ${block} then accept;`,
    ...(isReflector ? [`  if source = RTS_BGP && net ~ ${pool} then accept;`] : []),
    '  reject;',
    '}',
    '',
    'protocol kernel {',
    '  ipv4 { import all; export filter calico_kernel_programming; };',
    '  learn;          # learn alien routes from the kernel',
    '  persist;        # keep routes in the FIB when BIRD stops',
    '  scan time 2;',
    '  graceful restart;',
    '  merge paths on;',
    '}',
    '',
    'protocol device { scan time 2; }',
    '',
    '# Every interface but the workload veths.',
    'protocol direct { ipv4; interface -"cali*", "*"; }',
    '',
    '# The own IPAM block: a blackhole, so traffic to an unused address in it goes nowhere.',
    `protocol static { ipv4; route ${block} blackhole; }`,
    '',
    'template bgp bgp_template {',
    `  local as ${CALICO_AS};`,
    '  multihop;',
    '  graceful restart;',
    '  connect delay time 1;',
    '  connect retry time 3;',
    '  error wait time 5, 60;',
    ...(spec.hold ? [`  hold time ${spec.hold};`] : []),
    ...(spec.keepalive ? [`  keepalive time ${spec.keepalive};`] : []),
    '  ipv4 { import all; export filter calico_export_to_bgp_peers; gateway recursive; add paths on; };',
    '}',
  ];
  for (const p of peersOf(lab, h, spec.bgp)) {
    const body = [`  neighbor ${p.underlayIp} as ${CALICO_AS};`, `  source address ${h.underlayIp};`];
    if (rr) {
      // The reflector's clients connect to it; the reflector waits.
      if (isReflector) body.push('  rr client;', `  rr cluster id ${h.underlayIp};`, '  passive on;');
    } else if (ipToInt(p.underlayIp) > ipToInt(h.underlayIp)) {
      body.push('  passive on;  # the mesh is unidirectional: the peer connects to us');
    }
    out.push('', `protocol bgp ${sessionName(p, rr)} from bgp_template {`, ...body, '}');
  }
  return `${out.join('\n')}\n`;
}

/**
 * Pure: a host's bird.conf (as birdConfig wrote it) holding one more block, as Calico's IPAM gives a
 * host a further block when its first is full: the block's blackhole and its announcement. A
 * running BIRD takes it with `birdc configure`.
 */
export function withExtraBlock(config: string, own: string, extra: string): string {
  const announce = `  if net = ${own} then accept;`;
  const hole = `route ${own} blackhole;`;
  if (!config.includes(announce) || !config.includes(hole)) throw new Error(`bird.conf does not hold the block ${own}`);
  return config.replace(announce, `${announce}\n  if net = ${extra} then accept;`).replace(hole, `${hole} route ${extra} blackhole;`);
}
