import { join } from 'node:path';
import type { Requirement } from '../../caps/types.js';
import type { ContainerNode, HostNode, Lab } from '../../lab/types.js';
import { ip } from '../../plan/steps.js';
import type { Step } from '../../plan/types.js';
import type { BuildHost, StandIn } from '../types.js';
import { exec } from './exec.js';
import { OVS_USERSPACE } from './stand-ins.js';

/**
 * Open vSwitch pieces shared by ovs, ovs-normal, ovs-linuxbridge, ovs-overlay and weave-fastdp
 * (datapaths.md §18): one ovsdb-server and one ovs-vswitchd per host namespace, each pair with its
 * own run directory in the lab's state (lab.stateDir/ovs-<host>/), started in the foreground as
 * daemon steps so the pids cnlab tracks are the daemons' own; bridges and ports through
 * `ovs-vsctl --db=unix:…`, flows through `ovs-ofctl add-flows unix:<dir>/<bridge>.mgmt -`.
 *
 * Datapath: the kernel one (datapath_type=system) when the openvswitch module is present (the
 * schemes list it in `prefers`, so build() gets `preferred`); otherwise the userspace datapath
 * (datapath_type=netdev), a stand-in every result is labelled with. The userspace datapath needs
 * tx checksum offload off on the container side (TCP fails otherwise: the checksum is never
 * filled in), and tunnel endpoints on a netdev bridge that holds the underlay port.
 */

export type Datapath = 'system' | 'netdev';

export const OVS_SCHEMA = '/usr/share/openvswitch/vswitch.ovsschema';

/** The Open vSwitch programs a plan runs. */
export const OVS_TOOLS: Requirement[] = [
  { kind: 'binary', name: 'ovsdb-tool', pkg: 'openvswitch-common' },
  { kind: 'binary', name: 'ovsdb-server', pkg: 'openvswitch-common' },
  { kind: 'binary', name: 'ovs-vswitchd', pkg: 'openvswitch-switch' },
  { kind: 'binary', name: 'ovs-vsctl', pkg: 'openvswitch-switch' },
  { kind: 'binary', name: 'ovs-ofctl', pkg: 'openvswitch-common' },
];

/** What the userspace datapath (the fallback every OVS scheme can build) needs. */
export const OVS_REQUIRES: Requirement[] = [
  ...OVS_TOOLS,
  { kind: 'binary', name: 'ovs-appctl', pkg: 'openvswitch-common' },
  { kind: 'binary', name: 'ethtool', pkg: 'ethtool' },
  { kind: 'kernel', feature: 'VETH' },
  // A netdev bridge's own port is a tap device.
  { kind: 'kernel', feature: 'TUN' },
];

/** The kernel datapath: preferred whenever the module is there. */
export const OVS_KERNEL: Requirement[] = [{ kind: 'kernel', feature: 'OPENVSWITCH' }];

export const USERSPACE_NOTE = 'userspace datapath stand-in (datapath_type=netdev): no openvswitch kernel module here';

export function datapathOf(host: BuildHost): Datapath {
  return host.preferred ? 'system' : 'netdev';
}

/** Labels for every result built on this datapath. */
export function datapathNotes(dp: Datapath): string[] {
  return dp === 'netdev' ? [USERSPACE_NOTE] : [];
}

/** What stands in on this datapath: the userspace one stands in for OVS's kernel datapath. */
export function datapathStandIn(dp: Datapath): StandIn | undefined {
  return dp === 'netdev' ? OVS_USERSPACE : undefined;
}

/** One host's OVS instance: its run directory and database socket. */
export interface Ovs {
  host: HostNode;
  dir: string;
  db: string;
}

export function ovsOf(lab: Lab, h: HostNode): Ovs {
  const dir = join(lab.stateDir, `ovs-${h.name}`);
  return { host: h, dir, db: `unix:${join(dir, 'db.sock')}` };
}

/** Where the daemons keep their files: everything in the host's own run directory. */
function ovsEnv(o: Ovs): Record<string, string> {
  return { OVS_RUNDIR: o.dir, OVS_LOGDIR: o.dir, OVS_DBDIR: o.dir, OVS_SYSCONFDIR: o.dir };
}

/**
 * Database and daemons for one host: the database file, ovsdb-server (ready when its socket
 * exists), the root record (`init`), ovs-vswitchd (ready when its control socket exists).
 */
export function ovsDaemons(o: Ovs): Step[] {
  const ns = o.host.ns;
  const env = ovsEnv(o);
  const db = join(o.dir, 'conf.db');
  return [
    exec(ns, ['mkdir', '-p', o.dir]),
    exec(ns, ['ovsdb-tool', 'create', db, OVS_SCHEMA]),
    {
      kind: 'daemon',
      ns,
      name: 'ovsdb-server',
      argv: ['ovsdb-server', db, `--remote=punix:${join(o.dir, 'db.sock')}`, `--unixctl=${join(o.dir, 'ovsdb-server.ctl')}`],
      env,
      log: join(o.dir, 'ovsdb-server.log'),
      readyFile: join(o.dir, 'db.sock'),
    },
    exec(ns, ['ovs-vsctl', `--db=${o.db}`, '--no-wait', 'init']),
    {
      kind: 'daemon',
      ns,
      name: 'ovs-vswitchd',
      argv: ['ovs-vswitchd', o.db, `--unixctl=${join(o.dir, 'ovs-vswitchd.ctl')}`],
      env,
      log: join(o.dir, 'ovs-vswitchd.log'),
      readyFile: join(o.dir, 'ovs-vswitchd.ctl'),
    },
  ];
}

/**
 * One ovs-vsctl run of several commands (joined by `--`, applied as one transaction); it waits
 * until ovs-vswitchd has applied them, for 30 s at most.
 */
export function vsctl(o: Ovs, ...commands: string[][]): Step {
  return exec(o.host.ns, ['ovs-vsctl', `--db=${o.db}`, '--timeout=30', ...commands.flatMap((c, i) => (i ? ['--', ...c] : c))]);
}

export interface BridgeSpec {
  name: string;
  datapath: Datapath;
  /**
   * 'secure': the bridge starts with no flows and forwards only what the plan's flows say;
   * 'standalone': OVS's own NORMAL flow (an L2 learning switch).
   */
  failMode: 'secure' | 'standalone';
  /** A fixed MAC for the bridge's own port (flows address it). */
  hwaddr?: string;
  mtu?: number;
}

/** ovs-vsctl commands that add a bridge. */
export function addBridge(b: BridgeSpec): string[][] {
  const set = ['set', 'bridge', b.name, `datapath_type=${b.datapath}`, `fail_mode=${b.failMode}`];
  if (b.hwaddr) set.push(`other-config:hwaddr=${b.hwaddr}`);
  const cmds = [['add-br', b.name], set];
  if (b.mtu) cmds.push(['set', 'interface', b.name, `mtu_request=${b.mtu}`]);
  return cmds;
}

export const addPort = (bridge: string, port: string): string[] => ['add-port', bridge, port];

/** ovs-vsctl commands for a VXLAN port (options: remote_ip, key, dst_port…). */
export function addVxlanPort(bridge: string, port: string, options: Record<string, string | number>): string[][] {
  return [addPort(bridge, port), ['set', 'interface', port, 'type=vxlan', ...Object.entries(options).map(([k, v]) => `options:${k}=${v}`)]];
}

/** Load flows into a bridge in one ovs-ofctl run (read from standard input). */
export function addFlows(o: Ovs, bridge: string, flows: string[]): Step {
  return { kind: 'exec', ns: o.host.ns, argv: ['ovs-ofctl', 'add-flows', `unix:${join(o.dir, `${bridge}.mgmt`)}`, '-'], input: `${flows.join('\n')}\n` };
}

/** `ovs-appctl` to one host's ovs-vswitchd. */
export function appctl(o: Ovs, ...args: string[]): Step {
  return exec(o.host.ns, ['ovs-appctl', '-t', join(o.dir, 'ovs-vswitchd.ctl'), ...args]);
}

const TUNNEL_BRIDGE = 'br-phy';

/**
 * The userspace datapath's tunnel endpoint: a netdev bridge br-phy holding the underlay port, with
 * the host's underlay address moved onto the bridge's own port (datapaths §18: the VTEP IP must
 * sit on a netdev bridge), its MAC fixed by the plan. Userspace tunnels keep their own ARP cache
 * and drop what they cannot resolve yet, so each peer's endpoint is entered up front (aging at
 * its maximum, an hour; after that OVS resolves them itself). The kernel datapath tunnels through
 * the kernel's routing and neighbours: nothing to do.
 */
export function underlayBridge(lab: Lab, o: Ovs, dp: Datapath): Step[] {
  if (dp === 'system') return [];
  const h = o.host;
  const bridge = { name: TUNNEL_BRIDGE, datapath: dp, failMode: 'standalone' as const, mtu: lab.underlay.mtu, hwaddr: ovsMac(h.index, 0) };
  return [
    vsctl(o, ...addBridge(bridge), addPort(TUNNEL_BRIDGE, h.underlayIf)),
    ...moveAddress(lab, h, TUNNEL_BRIDGE),
    appctl(o, 'tnl/neigh/aging', '3600'),
    ...lab.hosts.filter((p) => p !== h).map((p) => appctl(o, 'tnl/neigh/set', TUNNEL_BRIDGE, p.underlayIp, ovsMac(p.index, 0))),
  ];
}

/** Move the host's underlay address from its port onto a bridge's own port. */
export function moveAddress(lab: Lab, h: HostNode, bridge: string): Step[] {
  const cidr = `${h.underlayIp}/${lab.underlay.prefix}`;
  return [ip(h.ns, 'addr', 'del', cidr, 'dev', h.underlayIf), ip(h.ns, 'addr', 'add', cidr, 'dev', bridge), ip(h.ns, 'link', 'set', bridge, 'up')];
}

/** A deterministic locally administered MAC: slot 0 is host i's bridge, slot k its k-th container. */
export function ovsMac(hostIndex: number, slot: number): string {
  const hex = (n: number) => n.toString(16).padStart(2, '0');
  return `02:00:0c:${hex(hostIndex)}:${hex(slot >> 8)}:${hex(slot & 255)}`;
}

export const containerMac = (c: ContainerNode): string => ovsMac(c.hostIndex, c.slot);

/** The host-side name of a container's veth when it is an OVS port. */
export const ovsPortName = (c: ContainerNode): string => `vc-${c.name}`;

/**
 * A container's veth, built directly (no CNI reference plugin attaches to an OVS bridge): the
 * host end (to be added as an OVS port) and the container end with its MAC, MTU and address.
 */
export function ovsVeth(h: HostNode, c: ContainerNode, addr: string, mtu: number): { host: Step[]; container: Step[] } {
  const port = ovsPortName(c);
  return {
    host: [ip(h.ns, 'link', 'add', port, 'mtu', String(mtu), 'type', 'veth', 'peer', 'name', 'eth0', 'netns', c.ns), ip(h.ns, 'link', 'set', port, 'up')],
    container: [
      ip(c.ns, 'link', 'set', 'lo', 'up'),
      ip(c.ns, 'link', 'set', 'eth0', 'address', containerMac(c), 'mtu', String(mtu), 'up'),
      ip(c.ns, 'addr', 'add', addr, 'dev', 'eth0'),
    ],
  };
}

/** Above this many containers on a host, txOff runs them all from one process. */
export const TX_OFF_FANOUT = 16;

/**
 * Userspace datapath only: tx checksum offload off on the containers' eth0, whose frames reach
 * OVS. One ethtool per container; for many, one `xargs nsenter` per host running them all (a
 * process started per namespace costs more the more namespaces exist, as in apply/fanout.ts).
 */
export function txOff(h: HostNode, containers: ContainerNode[], dp: Datapath): Step[] {
  if (dp === 'system') return [];
  const args = ['ethtool', '-K', 'eth0', 'tx', 'off'];
  if (containers.length <= TX_OFF_FANOUT) return containers.map((c) => exec(c.ns, args));
  const input = containers.map((c) => `--net=/run/netns/${c.ns} ${args.join(' ')}\n`).join('');
  return [{ kind: 'exec', ns: h.ns, argv: ['xargs', '-L', '1', 'nsenter'], input }];
}

// ---------------------------------------------------------------- flows

const MULTICAST = 'dl_dst=01:00:00:00:00:00/01:00:00:00:00:00';
const output = (port: string): string => (port === 'LOCAL' ? 'LOCAL' : `output:${port}`);

/** A MAC reachable through a port of the bridge ('LOCAL' is the bridge's own port). */
export interface MacPort {
  mac: string;
  port: string;
}

/**
 * Explicit flows for a bridge whose uplink is the underlay port (S3's ovs, ovs + Linux bridge):
 * each known local MAC to its port, broadcast and multicast flooded, and anything else a local
 * port sends goes out the uplink. Frames from the uplink for no local MAC are dropped (table miss
 * on a secure bridge).
 */
export function uplinkFlows(local: MacPort[], uplink: string): string[] {
  const ports = [...new Set(local.map((l) => l.port))];
  return [
    ...local.map((l) => `priority=100,dl_dst=${l.mac},actions=${output(l.port)}`),
    `priority=50,${MULTICAST},actions=FLOOD`,
    ...ports.map((p) => `priority=10,in_port=${p},actions=output:${uplink}`),
  ];
}

/**
 * Explicit flows for a bridge joined to its peers by one tunnel port per peer (S4's OVS overlay):
 * every container MAC of the lab to its local port or to its host's tunnel; broadcast and
 * multicast from a local port to every other local port and every tunnel, from a tunnel (with
 * the VNI) to the local ports only, so that a full mesh never loops.
 */
export function tunnelFlows(known: MacPort[], localPorts: string[], tunnels: string[], vni: number): string[] {
  const toLocal = localPorts.map(output).join(',');
  return [
    ...known.map((k) => `priority=100,dl_dst=${k.mac},actions=${output(k.port)}`),
    ...tunnels.map((t) => `priority=60,in_port=${t},tun_id=${vni},${MULTICAST},actions=${toLocal}`),
    `priority=50,${MULTICAST},actions=${[...localPorts, ...tunnels].map(output).join(',')}`,
  ];
}
