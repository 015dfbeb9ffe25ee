import { join } from 'node:path';
import type { Requirement } from '../../caps/types.js';
import type { ContainerNode, HostNode, Lab } from '../../lab/types.js';
import type { BuildHost, StandIn } from '../../plan/scheme.js';
import { addr, addrDel, exec, linkSet, up, veth } from '../../plan/steps.js';
import type { OvsOp, Step } from '../../plan/types.js';
import { tuningNote, tuningSteps, UNTUNED, type OvsTuning } from './ovs-tuning.js';
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

/** Labels for every result built on this datapath (the userspace one: with the options that ran). */
export function datapathNotes(dp: Datapath, tuning: OvsTuning = UNTUNED): string[] {
  return dp === 'netdev' ? [USERSPACE_NOTE, tuningNote(tuning)] : [];
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
export function ovsDaemons(o: Ovs, tuning: OvsTuning = UNTUNED): Step[] {
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
    ...tuningSteps(ns, o.db, tuning),
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
 * One ovs-vsctl run of several operations (one transaction); it waits until ovs-vswitchd has
 * applied them, for 30 s at most.
 */
export function vsctl(o: Ovs, ...ops: OvsOp[]): Step {
  return { kind: 'ovs', ns: o.host.ns, db: o.db, ops };
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

/** Add a bridge (with its datapath, fail mode, and its own port's MAC and MTU). */
export function addBridge(b: BridgeSpec): OvsOp {
  return {
    op: 'add-br',
    bridge: b.name,
    datapath: b.datapath,
    failMode: b.failMode,
    ...(b.hwaddr ? { hwaddr: b.hwaddr } : {}),
    ...(b.mtu ? { mtu: b.mtu } : {}),
  };
}

export const addPort = (bridge: string, port: string): OvsOp => ({ op: 'add-port', bridge, port });

/** A VXLAN port (options: remote_ip, key, dst_port…). */
export function addVxlanPort(bridge: string, port: string, options: Record<string, string | number>): OvsOp {
  return { op: 'add-port', bridge, port, type: 'vxlan', options };
}

/** Load flows into a bridge in one ovs-ofctl run (read from standard input). */
export function addFlows(o: Ovs, bridge: string, flows: string[]): Step {
  return { kind: 'ovs-flows', ns: o.host.ns, bridge, mgmt: join(o.dir, `${bridge}.mgmt`), flows };
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
    vsctl(o, addBridge(bridge), addPort(TUNNEL_BRIDGE, h.underlayIf)),
    ...moveAddress(lab, h, TUNNEL_BRIDGE),
    appctl(o, 'tnl/neigh/aging', '3600'),
    ...lab.hosts.filter((p) => p !== h).map((p) => appctl(o, 'tnl/neigh/set', TUNNEL_BRIDGE, p.underlayIp, ovsMac(p.index, 0))),
  ];
}

/** Move the host's underlay address from its port onto a bridge's own port. */
export function moveAddress(lab: Lab, h: HostNode, bridge: string): Step[] {
  const cidr = `${h.underlayIp}/${lab.underlay.prefix}`;
  return [addrDel(h.ns, cidr, h.underlayIf), addr(h.ns, cidr, bridge), up(h.ns, bridge)];
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
export function ovsVeth(h: HostNode, c: ContainerNode, cidr: string, mtu: number): { host: Step[]; container: Step[] } {
  const port = ovsPortName(c);
  return {
    host: [veth(h.ns, port, { name: 'eth0', ns: c.ns }, mtu), up(h.ns, port)],
    container: [up(c.ns, 'lo'), linkSet(c.ns, 'eth0', { address: containerMac(c), mtu, up: true }), addr(c.ns, cidr, 'eth0')],
  };
}

/** Above this many containers on a host, txOff runs them all from one process. */
export const TX_OFF_FANOUT = 16;

/**
 * Userspace datapath only: tx checksum offload off on the containers' eth0, whose frames reach
 * OVS. One ethtool per container; for many, one `xargs nsenter` per host running them all (a
 * process started per namespace costs more the more namespaces exist, as in apply/fanout.ts).
 */
export function txOff(
  h: HostNode,
  containers: ContainerNode[],
  dp: Datapath,
  tuning: OvsTuning = UNTUNED,
  dev: (c: ContainerNode) => string = () => 'eth0',
): Step[] {
  // With userspace TSO, OVS handles partial checksums itself: the containers keep offloads on.
  if (dp === 'system' || tuning.tso) return [];
  const args = (c: ContainerNode) => ['ethtool', '-K', dev(c), 'tx', 'off'];
  if (containers.length <= TX_OFF_FANOUT) return containers.map((c) => exec(c.ns, args(c)));
  const input = containers.map((c) => `--net=/run/netns/${c.ns} ${args(c).join(' ')}\n`).join('');
  return [{ ...exec(h.ns, ['xargs', '-L', '1', 'nsenter']), input }];
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
