import { join } from 'node:path';
import type { Requirement } from '../../caps/types.js';
import { InputError } from '../../errors.js';
import { AGENT_LABEL, FLANNEL_PREFIX, networkConfig, type Backend } from '../../flannel/lease.js';
import { AGENT_SCRIPT } from '../../flannel/paths.js';
import { addrAt, size } from '../../lab/ipv4.js';
import { controlPlaneOf, nsName, type HostNode, type Lab } from '../../lab/types.js';
import { addr, exec, route, up, veth } from '../../plan/steps.js';
import type { Stage, Step } from '../../plan/types.js';
import type { ControlPlane } from '../../plan/scheme.js';
import { activeTable } from '../../encap/table-file.js';
import { vtepMac } from './addresses.js';
import { PINNED_NOTE, pinnedUnderlayStages, pinsUnderlay } from './pinned-underlay.js';
import { hostBlock } from './routed-veth.js';

/**
 * Flannel's control plane in a plan: one etcd for the lab in its own namespace `ctl` (or with
 * `--etcd 3` a 3-member cluster in `ctl1`…`ctl3`, joined to each other), joined to every host by a
 * veth of its own and reached at an underlay address (the underlay's last ones), with a lab's
 * heartbeat and election timeouts and its data in the lab's state directory; flannel's
 * network config written once; then cnlab's flannel agent per host (src/flannel/), which leases the
 * host's subnet and programs every peer's; then a wait until every host has a route to each peer.
 */

export const ETCD_REQUIRES: Requirement[] = [
  { kind: 'binary', name: 'etcd', pkg: 'etcd-server' },
  { kind: 'binary', name: 'etcdctl', pkg: 'etcd-client' },
];
export const CTL_NODE = 'ctl';
export const ETCD_CLIENT_PORT = 2379;
const ETCD_PEER_PORT = 2380;
/** Lease TTL, seconds: long enough to ride out a busy machine, short enough to see it expire. */
export const LEASE_TTL = 30;
const WAIT_SECONDS = 60;

/** One etcd member: its node (namespace `cnl-<lab>-<node>`), its daemon's role, its address. */
export interface EtcdMember {
  node: string;
  role: string;
  ip: string;
  /** Its data and log, in the lab's state directory. */
  dir: string;
  /** The link to it inside each host's namespace. */
  hostIf: string;
}

/**
 * The lab's etcd members: one in `ctl` at the underlay's last usable address (the default), or with
 * `--etcd 3` three in `ctl1`…`ctl3` at the last three. None may be a host's address.
 */
export function etcdMembers(lab: Lab): EtcdMember[] {
  const n = lab.topology.etcd ?? 1;
  const out: EtcdMember[] = [];
  for (let i = 1; i <= n; i++) {
    const ip = addrAt(lab.underlay, size(lab.underlay) - 1 - i);
    if (lab.hosts.some((h) => h.underlayIp === ip) || size(lab.underlay) - 1 - i <= 0) {
      throw new InputError(
        `flannel's etcd needs ${n} free underlay address${n === 1 ? '' : 'es'} and ${lab.topology.underlay.cidr} has none left`,
        'use a larger --underlay or fewer --hosts',
      );
    }
    out.push(
      n === 1
        ? { node: CTL_NODE, role: 'etcd', ip, dir: join(lab.stateDir, 'etcd'), hostIf: 'ctl0' }
        : {
            node: `${CTL_NODE}${i}`,
            role: `etcd-${CTL_NODE}${i}`,
            ip,
            dir: join(lab.stateDir, `etcd-${CTL_NODE}${i}`),
            hostIf: `${CTL_NODE}${i}`,
          },
    );
  }
  return out;
}

/** Every member's client URL, comma-separated (as etcdctl's --endpoints and the agent's --etcd take them). */
export const etcdEndpoint = (lab: Lab): string =>
  etcdMembers(lab)
    .map((m) => `http://${m.ip}:${ETCD_CLIENT_PORT}`)
    .join(',');
export const agentDir = (lab: Lab, h: HostNode): string => join(lab.stateDir, `flannel-${h.name}`);

/**
 * Heartbeat and election timeouts (ms) for a lab: one member never elects, so it can be quick; a
 * cluster on a busy 2-core machine needs room before a follower calls an election (etcd's
 * defaults are 100 / 1000, for machines across a network).
 */
export const ETCD_TIMING = { single: { heartbeat: 50, election: 500 }, cluster: { heartbeat: 100, election: 1000 } };

/** Waits until the etcd at $1 answers, then writes $3 at key $2 (a constant script). */
const PUT_CONFIG =
  'i=0; until etcdctl --endpoints="$1" --dial-timeout=1s put "$2" "$3" >/dev/null 2>&1; do i=$((i+1)); ' +
  'if [ $i -ge 300 ]; then echo "etcd did not answer at $1" >&2; exit 1; fi; sleep 0.1; done';
/** Waits until the FIB holds at least $1 routes via a gateway inside the pod network $3. */
const WAIT_ROUTES =
  'n=$1; t=$2; i=0; while c=$(ip -4 route show root "$3" | grep -c " via "); [ "$c" -lt "$n" ]; do ' +
  'i=$((i+1)); if [ $i -gt $((t*20)) ]; then echo "flannel agent programmed $c of $n peer subnets in $t s" >&2; exit 1; fi; sleep 0.05; done';

/** Waits until the encapsulation daemon's applied table $3 holds at least $1 routes (udp). */
const WAIT_TABLE =
  'n=$1; t=$2; i=0; while c=$(grep -c = "$3" 2>/dev/null); [ "${c:-0}" -lt "$n" ]; do ' +
  'i=$((i+1)); if [ $i -gt $((t*20)) ]; then echo "the encapsulation daemon applied ${c:-0} of $n peer subnets in $t s" >&2; exit 1; fi; sleep 0.05; done';

export interface FlannelSpec {
  backend: Backend;
  /** udp: the encapsulation daemon's peer table file of a host, which the agent writes. */
  table?: (h: HostNode) => string;
  /** The VXLAN device (vxlan) or the underlay port (host-gw). */
  dev: string;
  mtu: number;
}

/** One member's etcd daemon, listening on its lab address only. */
function memberDaemon(lab: Lab, m: EtcdMember, all: EtcdMember[]): Step {
  const url = (ip: string, port: number) => `http://${ip}:${port}`;
  const t = all.length === 1 ? ETCD_TIMING.single : ETCD_TIMING.cluster;
  return {
    kind: 'daemon',
    ns: nsName(lab.name, m.node),
    name: m.role,
    argv: [
      'etcd',
      '--name',
      m.node,
      '--data-dir',
      join(m.dir, 'data'),
      '--listen-client-urls',
      url(m.ip, ETCD_CLIENT_PORT),
      '--advertise-client-urls',
      url(m.ip, ETCD_CLIENT_PORT),
      '--listen-peer-urls',
      url(m.ip, ETCD_PEER_PORT),
      '--initial-advertise-peer-urls',
      url(m.ip, ETCD_PEER_PORT),
      '--initial-cluster',
      all.map((o) => `${o.node}=${url(o.ip, ETCD_PEER_PORT)}`).join(','),
      '--initial-cluster-state',
      'new',
      ...(all.length > 1 ? ['--initial-cluster-token', nsName(lab.name, CTL_NODE)] : []),
      '--heartbeat-interval',
      String(t.heartbeat),
      '--election-timeout',
      String(t.election),
      '--logger',
      'zap',
      '--log-outputs',
      'stderr',
    ],
    log: join(m.dir, 'etcd.log'),
  };
}

/**
 * The control network: each member's namespace joined to every host by a veth of its own (and,
 * in a cluster, to each other member), its address on lo, a /32 route each way.
 */
function controlNetwork(lab: Lab, members: EtcdMember[]): { links: Step[]; peerSide: Step[] } {
  const links: Step[] = [];
  const peerSide: Step[] = [];
  for (const m of members) {
    const ns = nsName(lab.name, m.node);
    links.push(addr(ns, `${m.ip}/32`, 'lo'));
    for (const h of lab.hosts) {
      links.push(veth(ns, h.name, { name: m.hostIf, ns: h.ns }), up(ns, h.name), route(ns, `${h.underlayIp}/32`, { dev: h.name }));
    }
  }
  for (const h of lab.hosts) for (const m of members) peerSide.push(up(h.ns, m.hostIf), route(h.ns, `${m.ip}/32`, { dev: m.hostIf }));
  // Members reach each other directly (raft's peer traffic never crosses a host).
  members.forEach((m, i) => {
    for (const o of members.slice(i + 1)) {
      const [mns, ons] = [nsName(lab.name, m.node), nsName(lab.name, o.node)];
      links.push(veth(mns, o.node, { name: m.node, ns: ons }), up(mns, o.node), route(mns, `${o.ip}/32`, { dev: o.node }));
      peerSide.push(up(ons, m.node), route(ons, `${m.ip}/32`, { dev: m.node }));
    }
  });
  return { links, peerSide };
}

export function etcdStages(lab: Lab, spec: FlannelSpec): Stage[] {
  const members = etcdMembers(lab);
  const first = nsName(lab.name, members[0].node);
  const endpoints = etcdEndpoint(lab);
  const { links, peerSide } = controlNetwork(lab, members);
  const etcd: Step[] = [
    ...members.flatMap((m) => [exec(nsName(lab.name, m.node), ['mkdir', '-p', '-m', '0700', m.dir]), memberDaemon(lab, m, members)]),
    exec(first, [
      'sh',
      '-c',
      PUT_CONFIG,
      'sh',
      endpoints,
      `${FLANNEL_PREFIX}/config`,
      JSON.stringify(networkConfig(`${lab.pods.network}/${lab.pods.prefix}`, lab.topology.pods.blockPrefix, spec.backend)),
    ]),
  ];
  const agents: Step[] = [];
  const waits: Step[] = [];
  for (const h of lab.hosts) {
    const d = agentDir(lab, h);
    const args = [
      '--etcd',
      endpoints,
      '--public-ip',
      h.underlayIp,
      '--subnet',
      hostBlock(h),
      '--network',
      `${lab.pods.network}/${lab.pods.prefix}`,
      '--backend',
      spec.backend,
      '--dev',
      spec.dev,
    ];
    if (spec.backend === 'vxlan') args.push('--vni', '1', '--vtep-mac', vtepMac(h.index));
    if (spec.table) args.push('--table', spec.table(h));
    args.push('--mtu', String(spec.mtu), '--ttl', String(LEASE_TTL), '--dir', d);
    agents.push(exec(h.ns, ['mkdir', '-p', '-m', '0700', d]), {
      kind: 'daemon',
      ns: h.ns,
      name: `flannel-${h.name}`,
      argv: [process.execPath, AGENT_SCRIPT, ...args],
      log: join(d, 'agent.log'),
      readyFile: join(d, 'ready'),
    });
    const peers = String(lab.hosts.length - 1);
    waits.push(
      spec.table
        ? exec(h.ns, ['sh', '-c', WAIT_TABLE, 'sh', peers, String(WAIT_SECONDS), activeTable(spec.table(h))])
        : exec(h.ns, ['sh', '-c', WAIT_ROUTES, 'sh', peers, String(WAIT_SECONDS), `${lab.pods.network}/${lab.pods.prefix}`]),
    );
  }
  const where = members.length === 1 ? `etcd at ${members[0].ip}` : `etcd members at ${members.map((m) => m.ip).join(', ')}`;
  const nodes = members.map((m) => m.node).join(', ');
  return [
    {
      title: `control network: ${nodes} joined to every host${members.length > 1 ? ' and to each other' : ''} by a veth, ${where}`,
      steps: links,
    },
    { title: `every host reaches ${where} through its ${members.map((m) => m.hostIf).join(', ')}`, steps: peerSide },
    {
      title:
        members.length === 1
          ? "etcd for the lab (data in the lab's state directory), flannel's network config written once"
          : `a ${members.length}-member etcd cluster for the lab (each member's data in the lab's state directory), flannel's network config written once`,
      steps: etcd,
    },
    { title: `${AGENT_LABEL} per host: lease the host's subnet, follow every peer's`, steps: agents },
    {
      title: spec.table
        ? "wait until every host's encapsulation daemon has applied each peer subnet"
        : 'wait until every host has a route to each peer subnet',
      steps: waits,
    },
  ];
}

/**
 * How a flannel scheme's hosts learn each other's subnets: from etcd through the agents (the
 * default), or with `--control-plane static` what they would program, from `staticStages`.
 */
export function flannelControl(
  lab: Lab,
  spec: FlannelSpec,
  staticStages: () => Stage[],
): { stages: Stage[]; notes: string[]; control?: ControlPlane; extraNodes?: Array<{ node: string; ns: string }> } {
  const pinned = pinnedUnderlayStages(lab);
  const pinNote = pinsUnderlay(lab) ? [PINNED_NOTE] : [];
  if (controlPlaneOf(lab.topology) === 'static')
    return {
      stages: [...pinned, ...staticStages()],
      notes: ['peer routes static (--control-plane static: no etcd, no agent)', ...pinNote],
    };
  const members = etcdMembers(lab);
  const store =
    members.length === 1
      ? `one etcd in ${CTL_NODE}`
      : `a ${members.length}-member etcd cluster in ${members.map((m) => m.node).join(', ')}`;
  return {
    stages: [...pinned, ...etcdStages(lab, spec)],
    notes: [`peer subnets from etcd: ${AGENT_LABEL}, ${store}, lease TTL ${LEASE_TTL} s`, ...pinNote],
    control: {
      label: `etcd${members.length === 1 ? '' : ` (${members.length} members)`} + ${AGENT_LABEL}`,
      daemons: ['etcd'],
      handles: { etcdEndpoint: etcdEndpoint(lab) },
    },
    extraNodes: members.map((m) => ({ node: m.node, ns: nsName(lab.name, m.node) })),
  };
}
