import { VXLAN_OVERHEAD } from './parts/fabric.js';
import { allContainers, hostOf } from '../lab/resolve.js';
import type { Step } from '../plan/types.js';
import { podIp } from './parts/addresses.js';
import {
  addBridge,
  addFlows,
  addPort,
  addVxlanPort,
  containerMac,
  datapathNotes,
  datapathStandIn,
  datapathOf,
  ovsDaemons,
  ovsOf,
  ovsPortName,
  ovsVeth,
  txOff,
  OVS_KERNEL,
  OVS_REQUIRES,
  tunnelFlows,
  underlayBridge,
  vsctl,
} from './parts/ovs.js';
import { containerWorkloads, direct } from './parts/workloads.js';
import type { Scheme } from '../plan/scheme.js';

/**
 * OVS overlay (studies S4; datapaths §18 "OVS overlay"): on every host an OVS bridge br-int holds
 * the containers' veths and one VXLAN port per peer host (key 42, port 4789), with explicit
 * flows: each container MAC of the lab to its local port or to its host's tunnel; broadcast from
 * a container to every local port and tunnel, from a tunnel to the local ports only.
 * Containers share one L2 segment across hosts: their pod-block addresses with the whole pod
 * network's prefix. On the userspace datapath the tunnel endpoint must be a netdev bridge:
 * br-phy takes the underlay port and the host's address; the kernel datapath tunnels from eth0.
 */

const BRIDGE = 'br-int';
const VNI = 42;
const PORT = 4789;

export const tunnelPort = (hostName: string): string => `vxlan-${hostName}`;

export const ovsOverlay: Scheme = {
  name: 'ovs-overlay',
  summary: 'Open vSwitch br-int per host, VXLAN ports between hosts (key 42, port 4789), explicit flows; one L2 segment',
  attach: 'direct',
  requires: OVS_REQUIRES,
  // The kernel datapath's VXLAN vport is a kernel vxlan device.
  prefers: [...OVS_KERNEL, { kind: 'kernel', feature: 'VXLAN' }],
  notes: [],
  containers: true,
  overhead: VXLAN_OVERHEAD,
  build(lab, host) {
    const dp = datapathOf(host);
    const mtu = lab.underlay.mtu - VXLAN_OVERHEAD;
    const everyone = allContainers(lab);
    const daemons: Step[] = [];
    const underlay: Step[] = [];
    const bridges: Step[] = [];
    const hostSide: Step[] = [];
    const containerSide: Step[] = [];
    const flowSteps: Step[] = [];
    for (const h of lab.hosts) {
      const o = ovsOf(lab, h);
      const peers = lab.hosts.filter((p) => p !== h);
      daemons.push(...ovsDaemons(o));
      underlay.push(...underlayBridge(lab, o, dp));
      bridges.push(
        vsctl(
          o,
          addBridge({ name: BRIDGE, datapath: dp, failMode: 'secure' }),
          ...peers.map((p) => addVxlanPort(BRIDGE, tunnelPort(p.name), { remote_ip: p.underlayIp, key: VNI, dst_port: PORT })),
        ),
      );
      for (const c of h.containers) {
        const veth = ovsVeth(h, c, `${podIp(h, c)}/${lab.pods.prefix}`, mtu);
        hostSide.push(...veth.host);
        containerSide.push(...veth.container);
      }
      hostSide.push(vsctl(o, ...h.containers.map((c) => addPort(BRIDGE, ovsPortName(c)))));
      containerSide.push(...txOff(h, h.containers, dp));
      const known = everyone.map((c) => ({
        mac: containerMac(c),
        port: c.hostIndex === h.index ? ovsPortName(c) : tunnelPort(hostOf(lab, c).name),
      }));
      const tunnels = peers.map((p) => tunnelPort(p.name));
      flowSteps.push(addFlows(o, BRIDGE, tunnelFlows(known, h.containers.map(ovsPortName), tunnels, VNI)));
    }
    return {
      stages: [
        { title: `Open vSwitch on every host: ovsdb-server and ovs-vswitchd (${dp} datapath)`, steps: daemons },
        {
          title:
            "userspace datapath: br-phy (netdev) takes the underlay port and the host address, the tunnel endpoint; peers' endpoints entered",
          steps: underlay,
        },
        { title: `${BRIDGE} with a VXLAN port per peer host (key ${VNI}, port ${PORT})`, steps: bridges },
        { title: `container veths as ports of ${BRIDGE}`, steps: hostSide },
        { title: `container side: fixed MAC, pod address on one segment, MTU ${mtu}`, steps: containerSide },
        { title: "OpenFlow: every container MAC to its port or its host's tunnel; broadcast split-horizon", steps: flowSteps },
      ],
      workloads: containerWorkloads(lab, podIp),
      mtu,
      targetIp: direct,
      notes: datapathNotes(dp),
      standIn: datapathStandIn(dp),
    };
  },
};
