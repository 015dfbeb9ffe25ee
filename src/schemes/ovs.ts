import { addr, linkSet, up } from '../plan/steps.js';
import type { Step } from '../plan/types.js';
import { underlayIp } from './parts/addresses.js';
import {
  addBridge,
  addFlows,
  addPort,
  containerMac,
  datapathNotes,
  datapathStandIn,
  datapathOf,
  moveAddress,
  ovsDaemons,
  ovsMac,
  ovsOf,
  ovsPortName,
  ovsVeth,
  txOff,
  OVS_KERNEL,
  OVS_REQUIRES,
  uplinkFlows,
  vsctl,
} from './parts/ovs.js';
import { USERSPACE_TUNING, type OvsTuning } from './parts/ovs-tuning.js';
import { containerWorkloads, direct } from './parts/workloads.js';
import type { Scheme } from '../plan/scheme.js';

/**
 * Open vSwitch as the container switch (studies S3 "ovs", S4 same-host OVS): on every host an OVS
 * bridge br-int holds the underlay port and the containers' veths, and the host's own address
 * moves to the bridge's own port; containers take underlay addresses, so frames go from a
 * container's veth through OVS straight out of the host's NIC, never through the host's IP stack.
 *
 * Two variants, two scheme names so each is measured and reported on its own:
 * - `ovs`: a secure bridge with explicit OpenFlow flows (S3 wrote its flows by hand, port to
 *   port: datapaths §18). S3's `in_port=A,actions=output:B` pairs only cover one container per
 *   host; with several, each local MAC goes to its port, broadcast floods, anything else a local
 *   port sends goes to the uplink (parts/ovs.ts uplinkFlows). Container MACs are fixed by the plan.
 * - `ovs-normal`: the same bridge in standalone mode with OVS's own NORMAL action (a MAC-learning
 *   switch), what `ovs-vsctl add-br` and `ovs-docker add-port` give you (S4).
 * - `ovs-internal`: as `ovs`, but each container's interface is an internal port of br-int
 *   (`type=internal`), made by ovs-vswitchd in the host's namespace and moved into the container's,
 *   where it keeps its name: no veth (study S2: Meizu found an internal port beats a veth port).
 *   On the userspace datapath an internal port is a TAP device that ovs-vswitchd reads.
 */

const BRIDGE = 'br-int';

export interface OvsVariant {
  /** Explicit OpenFlow flows on a secure bridge, or the NORMAL action on a standalone one. */
  flows: 'explicit' | 'normal';
  /** The container's interface: a veth whose host end is an OVS port, or an OVS internal port. */
  port: 'veth' | 'internal';
}

const NAMES = {
  'explicit/veth': 'ovs',
  'normal/veth': 'ovs-normal',
  'explicit/internal': 'ovs-internal',
  'normal/internal': 'ovs-internal-normal',
};

const SUMMARIES: Record<string, string> = {
  ovs: 'Open vSwitch br-int holding the underlay port and container veths, explicit OpenFlow flows; containers on underlay addresses',
  'ovs-normal': 'Open vSwitch br-int as ovs, forwarding by the NORMAL action (MAC learning) instead of explicit flows',
  'ovs-internal': 'Open vSwitch br-int as ovs, each container on an OVS internal port moved into its namespace (no veth)',
};

/** `tuning`: the userspace datapath's options (bench/ovs.ts builds the untuned stand-in beside it). */
export function ovsScheme(v: OvsVariant, tuning: OvsTuning = USERSPACE_TUNING): Scheme {
  const name = NAMES[`${v.flows}/${v.port}`];
  const internal = v.port === 'internal';
  return {
    name,
    summary: SUMMARIES[name] ?? name,
    attach: 'direct',
    requires: OVS_REQUIRES,
    prefers: OVS_KERNEL,
    notes: [],
    containers: true,
    overhead: 0,
    build(lab, host) {
      const dp = datapathOf(host);
      const ipOf = underlayIp(lab, name);
      const mtu = lab.underlay.mtu;
      const daemons: Step[] = [];
      const bridges: Step[] = [];
      const hostSide: Step[] = [];
      const containerSide: Step[] = [];
      const flowSteps: Step[] = [];
      for (const h of lab.hosts) {
        const o = ovsOf(lab, h);
        daemons.push(...ovsDaemons(o, tuning));
        const bridge = {
          name: BRIDGE,
          datapath: dp,
          mtu,
          failMode: v.flows === 'explicit' ? ('secure' as const) : ('standalone' as const),
          hwaddr: ovsMac(h.index, 0),
        };
        bridges.push(vsctl(o, addBridge(bridge), addPort(BRIDGE, h.underlayIf)), ...moveAddress(lab, h, BRIDGE));
        const cidr = (c: (typeof h.containers)[number]) => `${ipOf(h, c)}/${lab.underlay.prefix}`;
        if (internal) {
          // Internal ports, created by ovs-vswitchd in the host's namespace, then moved.
          hostSide.push(
            vsctl(o, ...h.containers.map((c) => ({ ...addPort(BRIDGE, ovsPortName(c)), type: 'internal' as const, mtuRequest: mtu }))),
          );
          for (const c of h.containers) {
            hostSide.push(linkSet(h.ns, ovsPortName(c), { netns: c.ns }));
            containerSide.push(
              up(c.ns, 'lo'),
              linkSet(c.ns, ovsPortName(c), { address: containerMac(c), mtu, up: true }),
              addr(c.ns, cidr(c), ovsPortName(c)),
            );
          }
        } else {
          for (const c of h.containers) {
            const veth = ovsVeth(h, c, cidr(c), mtu);
            hostSide.push(...veth.host);
            containerSide.push(...veth.container);
          }
          hostSide.push(vsctl(o, ...h.containers.map((c) => addPort(BRIDGE, ovsPortName(c)))));
        }
        containerSide.push(...txOff(h, h.containers, dp, tuning, internal ? ovsPortName : undefined));
        if (v.flows === 'explicit') {
          const local = [
            { mac: ovsMac(h.index, 0), port: 'LOCAL' },
            ...h.containers.map((c) => ({ mac: containerMac(c), port: ovsPortName(c) })),
          ];
          flowSteps.push(addFlows(o, BRIDGE, uplinkFlows(local, h.underlayIf)));
        }
      }
      const workloads = containerWorkloads(lab, ipOf);
      return {
        stages: [
          { title: `Open vSwitch on every host: ovsdb-server and ovs-vswitchd (${dp} datapath)`, steps: daemons },
          {
            title: `${BRIDGE} (${v.flows === 'explicit' ? 'secure, explicit flows' : 'standalone, NORMAL'}) takes the underlay port and the host address`,
            steps: bridges,
          },
          {
            title: internal
              ? `an internal port of ${BRIDGE} per container, moved into the container's namespace`
              : `container veths as ports of ${BRIDGE}`,
            steps: hostSide,
          },
          { title: `container side: fixed MAC, underlay address${internal ? ' on the internal port' : ''}`, steps: containerSide },
          { title: 'OpenFlow: local MACs to their ports, broadcast flooded, the rest to the uplink', steps: flowSteps },
        ],
        workloads: internal ? workloads.map((w) => ({ ...w, ifName: `vc-${w.node}` })) : workloads,
        mtu,
        targetIp: direct,
        notes: datapathNotes(dp, tuning),
        standIn: datapathStandIn(dp),
      };
    },
  };
}

export const ovs = ovsScheme({ flows: 'explicit', port: 'veth' });
export const ovsNormal = ovsScheme({ flows: 'normal', port: 'veth' });
export const ovsInternal = ovsScheme({ flows: 'explicit', port: 'internal' });
