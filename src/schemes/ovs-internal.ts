import type { Scheme } from '../plan/scheme.js';
import { addr, exec, linkSet, up } from '../plan/steps.js';
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
  OVS_KERNEL,
  OVS_REQUIRES,
  uplinkFlows,
  vsctl,
} from './parts/ovs.js';
import { USERSPACE_TUNING } from './parts/ovs-tuning.js';
import { containerWorkloads, direct } from './parts/workloads.js';

/**
 * Open vSwitch with internal ports for the containers (study S2: Meizu found that an OVS internal
 * port moved into the container beats an OVS port on a veth): br-int as in `ovs` (the underlay
 * port, the host address on the bridge's own port, explicit flows), but each container's
 * interface is an internal port of br-int (`type=internal`), created by ovs-vswitchd and moved
 * into the container's namespace (`ip link set … netns`), where it keeps its name. No veth: a
 * frame goes from the container's stack straight into OVS. On the userspace datapath an internal
 * port is a TAP device that ovs-vswitchd reads.
 */

const BRIDGE = 'br-int';

export const ovsInternal: Scheme = {
  name: 'ovs-internal',
  summary: 'Open vSwitch br-int as ovs, each container on an OVS internal port moved into its namespace (no veth)',
  attach: 'direct',
  requires: OVS_REQUIRES,
  prefers: OVS_KERNEL,
  notes: [],
  containers: true,
  overhead: 0,
  build(lab, host) {
    const dp = datapathOf(host);
    const ipOf = underlayIp(lab, 'ovs-internal');
    const mtu = lab.underlay.mtu;
    const daemons: Step[] = [];
    const bridges: Step[] = [];
    const ports: Step[] = [];
    const containerSide: Step[] = [];
    const flowSteps: Step[] = [];
    for (const h of lab.hosts) {
      const o = ovsOf(lab, h);
      daemons.push(...ovsDaemons(o, USERSPACE_TUNING));
      bridges.push(
        vsctl(
          o,
          addBridge({ name: BRIDGE, datapath: dp, mtu, failMode: 'secure', hwaddr: ovsMac(h.index, 0) }),
          addPort(BRIDGE, h.underlayIf),
        ),
        ...moveAddress(lab, h, BRIDGE),
      );
      // Internal ports, created by ovs-vswitchd in the host's namespace, then moved.
      ports.push(
        vsctl(o, ...h.containers.map((c) => ({ ...addPort(BRIDGE, ovsPortName(c)), type: 'internal' as const, mtuRequest: mtu }))),
      );
      for (const c of h.containers) {
        const port = ovsPortName(c);
        ports.push(linkSet(h.ns, port, { netns: c.ns }));
        containerSide.push(
          up(c.ns, 'lo'),
          linkSet(c.ns, port, { address: containerMac(c), mtu, up: true }),
          addr(c.ns, `${ipOf(h, c)}/${lab.underlay.prefix}`, port),
        );
        // The userspace datapath fills in no checksum the container left to the device.
        if (dp === 'netdev' && !USERSPACE_TUNING.tso) containerSide.push(exec(c.ns, ['ethtool', '-K', port, 'tx', 'off']));
      }
      const local = [
        { mac: ovsMac(h.index, 0), port: 'LOCAL' },
        ...h.containers.map((c) => ({ mac: containerMac(c), port: ovsPortName(c) })),
      ];
      flowSteps.push(addFlows(o, BRIDGE, uplinkFlows(local, h.underlayIf)));
    }
    return {
      stages: [
        { title: `Open vSwitch on every host: ovsdb-server and ovs-vswitchd (${dp} datapath)`, steps: daemons },
        { title: `${BRIDGE} (secure, explicit flows) takes the underlay port and the host address`, steps: bridges },
        { title: `an internal port of ${BRIDGE} per container, moved into the container's namespace`, steps: ports },
        { title: 'container side: fixed MAC, underlay address on the internal port', steps: containerSide },
        { title: 'OpenFlow: local MACs to their ports, broadcast flooded, the rest to the uplink', steps: flowSteps },
      ],
      workloads: containerWorkloads(lab, ipOf).map((w) => ({ ...w, ifName: `vc-${w.node}` })),
      mtu,
      targetIp: direct,
      notes: datapathNotes(dp, USERSPACE_TUNING),
      standIn: datapathStandIn(dp),
    };
  },
};
