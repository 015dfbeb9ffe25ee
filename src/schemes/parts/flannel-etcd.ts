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
import { vtepMac } from './addresses.js';
import { hostBlock } from './routed-veth.js';

/**
 * Flannel's control plane in a plan: one etcd for the lab in its own namespace `ctl`, joined to
 * every host by a veth of its own and reached at one underlay address (the underlay's last), with
 * a lab's heartbeat and election timeouts and its data in the lab's state directory; flannel's
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

/** The address etcd listens on: the underlay's last usable one. */
export function ctlAddress(lab: Lab): string {
  const a = addrAt(lab.underlay, size(lab.underlay) - 2);
  if (lab.hosts.some((h) => h.underlayIp === a)) {
    throw new InputError(
      `flannel's etcd needs a free underlay address and ${lab.topology.underlay.cidr} has none left`,
      'use a larger --underlay or fewer --hosts',
    );
  }
  return a;
}

export const etcdEndpoint = (lab: Lab): string => `http://${ctlAddress(lab)}:${ETCD_CLIENT_PORT}`;
export const agentDir = (lab: Lab, h: HostNode): string => join(lab.stateDir, `flannel-${h.name}`);

/** Waits until the etcd at $1 answers, then writes $3 at key $2 (a constant script). */
const PUT_CONFIG =
  'i=0; until etcdctl --endpoints="$1" --dial-timeout=1s put "$2" "$3" >/dev/null 2>&1; do i=$((i+1)); ' +
  'if [ $i -ge 300 ]; then echo "etcd did not answer at $1" >&2; exit 1; fi; sleep 0.1; done';
/** Waits until the FIB holds at least $1 routes via a gateway inside the pod network $3. */
const WAIT_ROUTES =
  'n=$1; t=$2; i=0; while c=$(ip -4 route show root "$3" | grep -c " via "); [ "$c" -lt "$n" ]; do ' +
  'i=$((i+1)); if [ $i -gt $((t*20)) ]; then echo "flannel agent programmed $c of $n peer subnets in $t s" >&2; exit 1; fi; sleep 0.05; done';

export interface FlannelSpec {
  backend: Backend;
  /** The VXLAN device (vxlan) or the underlay port (host-gw). */
  dev: string;
  mtu: number;
}

export function etcdStages(lab: Lab, spec: FlannelSpec): Stage[] {
  const ctl = nsName(lab.name, CTL_NODE);
  const a = ctlAddress(lab);
  const dir = join(lab.stateDir, 'etcd');
  const url = (port: number) => `http://${a}:${port}`;
  const links: Step[] = [addr(ctl, `${a}/32`, 'lo')];
  const hostSide: Step[] = [];
  for (const h of lab.hosts) {
    links.push(veth(ctl, h.name, { name: 'ctl0', ns: h.ns }), up(ctl, h.name), route(ctl, `${h.underlayIp}/32`, { dev: h.name }));
    hostSide.push(up(h.ns, 'ctl0'), route(h.ns, `${a}/32`, { dev: 'ctl0' }));
  }
  const etcd: Step[] = [
    exec(ctl, ['mkdir', '-p', '-m', '0700', dir]),
    {
      kind: 'daemon',
      ns: ctl,
      name: 'etcd',
      argv: [
        'etcd',
        '--name',
        'ctl',
        '--data-dir',
        join(dir, 'data'),
        '--listen-client-urls',
        url(ETCD_CLIENT_PORT),
        '--advertise-client-urls',
        url(ETCD_CLIENT_PORT),
        '--listen-peer-urls',
        url(ETCD_PEER_PORT),
        '--initial-advertise-peer-urls',
        url(ETCD_PEER_PORT),
        '--initial-cluster',
        `ctl=${url(ETCD_PEER_PORT)}`,
        '--initial-cluster-state',
        'new',
        '--heartbeat-interval',
        '50',
        '--election-timeout',
        '500',
        '--logger',
        'zap',
        '--log-outputs',
        'stderr',
      ],
      log: join(dir, 'etcd.log'),
    },
    exec(ctl, [
      'sh',
      '-c',
      PUT_CONFIG,
      'sh',
      url(ETCD_CLIENT_PORT),
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
      url(ETCD_CLIENT_PORT),
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
    args.push('--mtu', String(spec.mtu), '--ttl', String(LEASE_TTL), '--dir', d);
    agents.push(exec(h.ns, ['mkdir', '-p', '-m', '0700', d]), {
      kind: 'daemon',
      ns: h.ns,
      name: `flannel-${h.name}`,
      argv: [process.execPath, AGENT_SCRIPT, ...args],
      log: join(d, 'agent.log'),
      readyFile: join(d, 'ready'),
    });
    waits.push(
      exec(h.ns, [
        'sh',
        '-c',
        WAIT_ROUTES,
        'sh',
        String(lab.hosts.length - 1),
        String(WAIT_SECONDS),
        `${lab.pods.network}/${lab.pods.prefix}`,
      ]),
    );
  }
  return [
    { title: `control network: ${CTL_NODE} joined to every host by a veth, etcd at ${a}`, steps: links },
    { title: `every host reaches etcd at ${a} through its ctl0`, steps: hostSide },
    { title: "etcd for the lab (data in the lab's state directory), flannel's network config written once", steps: etcd },
    { title: `${AGENT_LABEL} per host: lease the host's subnet, follow every peer's`, steps: agents },
    { title: 'wait until every host has a route to each peer subnet', steps: waits },
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
  if (controlPlaneOf(lab.topology) === 'static')
    return { stages: staticStages(), notes: ['peer routes static (--control-plane static: no etcd, no agent)'] };
  return {
    stages: etcdStages(lab, spec),
    notes: [`peer subnets from etcd: ${AGENT_LABEL}, one etcd in ${CTL_NODE}, lease TTL ${LEASE_TTL} s`],
    control: { label: `etcd + ${AGENT_LABEL}`, daemons: ['etcd'], handles: { etcdEndpoint: etcdEndpoint(lab) } },
    extraNodes: [{ node: CTL_NODE, ns: nsName(lab.name, CTL_NODE) }],
  };
}
