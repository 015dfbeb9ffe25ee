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
 */

const BRIDGE = 'br-int';

/** `tuning`: the userspace datapath's options (bench/ovs.ts builds the untuned stand-in beside it). */
export function ovsScheme(flows: 'explicit' | 'normal', tuning: OvsTuning = USERSPACE_TUNING): Scheme {
  const name = flows === 'explicit' ? 'ovs' : 'ovs-normal';
  return {
    name,
    summary:
      flows === 'explicit'
        ? 'Open vSwitch br-int holding the underlay port and container veths, explicit OpenFlow flows; containers on underlay addresses'
        : 'Open vSwitch br-int as ovs, forwarding by the NORMAL action (MAC learning) instead of explicit flows',
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
          failMode: flows === 'explicit' ? ('secure' as const) : ('standalone' as const),
          hwaddr: ovsMac(h.index, 0),
        };
        bridges.push(vsctl(o, addBridge(bridge), addPort(BRIDGE, h.underlayIf)), ...moveAddress(lab, h, BRIDGE));
        for (const c of h.containers) {
          const veth = ovsVeth(h, c, `${ipOf(h, c)}/${lab.underlay.prefix}`, mtu);
          hostSide.push(...veth.host);
          containerSide.push(...veth.container);
        }
        hostSide.push(vsctl(o, ...h.containers.map((c) => addPort(BRIDGE, ovsPortName(c)))));
        containerSide.push(...txOff(h, h.containers, dp, tuning));
        if (flows === 'explicit') {
          const local = [
            { mac: ovsMac(h.index, 0), port: 'LOCAL' },
            ...h.containers.map((c) => ({ mac: containerMac(c), port: ovsPortName(c) })),
          ];
          flowSteps.push(addFlows(o, BRIDGE, uplinkFlows(local, h.underlayIf)));
        }
      }
      return {
        stages: [
          { title: `Open vSwitch on every host: ovsdb-server and ovs-vswitchd (${dp} datapath)`, steps: daemons },
          {
            title: `${BRIDGE} (${flows === 'explicit' ? 'secure, explicit flows' : 'standalone, NORMAL'}) takes the underlay port and the host address`,
            steps: bridges,
          },
          { title: `container veths as ports of ${BRIDGE}`, steps: hostSide },
          { title: 'container side: fixed MAC, underlay address', steps: containerSide },
          { title: 'OpenFlow: local MACs to their ports, broadcast flooded, the rest to the uplink', steps: flowSteps },
        ],
        workloads: containerWorkloads(lab, ipOf),
        mtu,
        targetIp: direct,
        notes: datapathNotes(dp, tuning),
        standIn: datapathStandIn(dp),
      };
    },
  };
}

export const ovs = ovsScheme('explicit');
export const ovsNormal = ovsScheme('normal');
