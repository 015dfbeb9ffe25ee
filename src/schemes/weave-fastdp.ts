import { VXLAN_OVERHEAD } from './parts/fabric.js';
import { addrAt, size } from '../lab/ipv4.js';
import type { HostNode, Lab } from '../lab/types.js';
import { bridge, fdb, linkSet, up, veth, vxlan } from '../plan/steps.js';
import type { Stage, Step } from '../plan/types.js';
import { podIp } from './parts/addresses.js';
import { BRIDGE_PLUGIN, cniAttach, conflist, hostLocal } from './parts/cni-attach.js';
import { BRIDGE_VXLAN } from './parts/stand-ins.js';
import {
  addBridge,
  addFlows,
  addPort,
  addVxlanPort,
  datapathNotes,
  datapathStandIn,
  ovsDaemons,
  ovsOf,
  OVS_TOOLS,
  txOff,
  underlayBridge,
  vsctl,
  type Datapath,
} from './parts/ovs.js';
import { containerWorkloads, direct } from './parts/workloads.js';
import type { Scheme, SchemeBuild } from '../plan/scheme.js';

/**
 * Weave Net's fast datapath (weave net/bridge.go, router/fastdp.go; datapaths §16): a Linux bridge
 * `weave` holds the containers' veths and, through the veth pair vethwe-bridge ↔ vethwe-datapath,
 * reaches `datapath`, an Open vSwitch kernel datapath with one VXLAN vport `vxlan-6784` (UDP 6784,
 * flow-based: the tunnel destination and id are set per flow). Weave's router learns MACs and
 * installs a flow per MAC pair: known destinations go to their peer with VNI = dst peer << 12 |
 * src peer; broadcast and unknown ones go to every peer. MTU 1376 (weave's default). One address
 * space across hosts; each host hands out its own block.
 *
 * With the openvswitch module (the scheme's `prefers`), `datapath` is a kernel-datapath OVS
 * bridge whose flows do what the router does: frames from the tunnel are delivered to the weave
 * bridge and teach a table-1 flow (source MAC → that peer, VNI halves swapped); frames from the
 * weave bridge go by table 1, or to every peer. Weave's router programs the datapath itself;
 * here ovs-vswitchd does, from those flows.
 * Without it, the layout is approximated: `datapath` is a Linux bridge and vxlan-6784 a kernel
 * vxlan device (one VNI for all peers, MAC learning, a flood entry per peer).
 */

const WEAVE = 'weave';
const DATAPATH = 'datapath';
const BRIDGE_END = 'vethwe-bridge';
const DATAPATH_END = 'vethwe-datapath';
const VXLAN = 'vxlan-6784';
const PORT = 6784;
const WEAVE_MTU = 1376;
/** The approximation's one VNI (Weave's VNIs name the peer pair, which a kernel vxlan device cannot). */
const APPROX_VNI = 1;

export const APPROXIMATION_NOTE = 'approximation: no OVS kernel datapath here; a Linux bridge and a kernel vxlan device (one VNI) stand in';

/** Weave's tunnel id for a frame from peer `src` to peer `dst` (router/fastdp.go extractPeers). */
export const weaveVni = (src: number, dst: number): number => (dst << 12) | src;

function weaveMtu(lab: Lab): number {
  return Math.min(WEAVE_MTU, lab.underlay.mtu - VXLAN_OVERHEAD);
}

/** The weave bridge and the veth pair toward `datapath` (both variants). */
function weaveBridge(h: HostNode, mtu: number): Step[] {
  return [
    bridge(h.ns, WEAVE),
    linkSet(h.ns, WEAVE, { mtu, up: true }),
    veth(h.ns, BRIDGE_END, { name: DATAPATH_END, mtu }, mtu),
    linkSet(h.ns, BRIDGE_END, { master: WEAVE, up: true }),
  ];
}

/** The approximation: `datapath` a Linux bridge, vxlan-6784 a kernel vxlan device. */
function kernelVxlanDatapath(lab: Lab, h: HostNode, mtu: number): Step[] {
  return [
    bridge(h.ns, DATAPATH),
    linkSet(h.ns, DATAPATH, { mtu, up: true }),
    linkSet(h.ns, DATAPATH_END, { master: DATAPATH, up: true }),
    vxlan(h.ns, VXLAN, { id: APPROX_VNI, local: h.underlayIp, dev: h.underlayIf, dstport: PORT }),
    linkSet(h.ns, VXLAN, { mtu, master: DATAPATH, up: true }),
    ...lab.hosts.filter((p) => p !== h).map((p) => fdb(h.ns, 'append', '00:00:00:00:00:00', VXLAN, p.underlayIp)),
  ];
}

/** Flows on the OVS `datapath` bridge that do what Weave's router does (see the file comment). */
export function weaveFlows(lab: Lab, h: HostNode): string[] {
  const learn =
    'learn(table=1,priority=100,NXM_OF_ETH_DST[]=NXM_OF_ETH_SRC[],load:NXM_NX_TUN_IPV4_SRC[]->NXM_NX_TUN_IPV4_DST[],' +
    'load:NXM_NX_TUN_ID[0..11]->NXM_NX_TUN_ID[12..23],load:NXM_NX_TUN_ID[12..23]->NXM_NX_TUN_ID[0..11],output:NXM_OF_IN_PORT[])';
  const flood = lab.hosts
    .filter((p) => p !== h)
    .map((p) => `set_field:${p.underlayIp}->tun_dst,set_field:${weaveVni(h.index, p.index)}->tun_id,output:${VXLAN}`);
  return [
    `table=0,priority=100,in_port=${VXLAN},actions=${learn},output:${DATAPATH_END}`,
    `table=0,priority=100,in_port=${DATAPATH_END},actions=resubmit(,1)`,
    `table=1,priority=0,actions=${flood.join(',')}`,
  ];
}

/**
 * The whole build for a datapath: 'system' is Weave's layout on the OVS kernel datapath,
 * 'netdev' the same on OVS's userspace datapath (used by the tests to exercise the flows here),
 * null the kernel-vxlan approximation.
 */
export function weaveBuild(lab: Lab, dp: Datapath | null): SchemeBuild {
  const mtu = weaveMtu(lab);
  const network = `${lab.pods.network}/${lab.pods.prefix}`;
  const daemons: Step[] = [];
  const fabric: Step[] = [];
  const attach: Step[] = [];
  const containerSide: Step[] = [];
  const flowSteps: Step[] = [];
  for (const h of lab.hosts) {
    fabric.push(...weaveBridge(h, mtu));
    if (dp) {
      const o = ovsOf(lab, h);
      daemons.push(...ovsDaemons(o));
      fabric.push(
        up(h.ns, DATAPATH_END),
        ...underlayBridge(lab, o, dp),
        vsctl(
          o,
          addBridge({ name: DATAPATH, datapath: dp, failMode: 'secure', mtu }),
          addPort(DATAPATH, DATAPATH_END),
          addVxlanPort(DATAPATH, VXLAN, { remote_ip: 'flow', key: 'flow', dst_port: PORT }),
        ),
      );
      flowSteps.push(addFlows(o, DATAPATH, weaveFlows(lab, h)));
    } else {
      fabric.push(...kernelVxlanDatapath(lab, h, mtu));
    }
    const list = conflist('weave', {
      type: 'bridge',
      bridge: WEAVE,
      isGateway: false,
      ipMasq: false,
      mtu,
      ipam: hostLocal(lab, { subnet: network, rangeStart: addrAt(h.podBlock, 2), rangeEnd: addrAt(h.podBlock, size(h.podBlock) - 2) }),
    });
    for (const c of h.containers) attach.push(cniAttach(h, c, list, podIp(h, c), lab.pods.prefix));
    if (dp) containerSide.push(...txOff(h, h.containers, dp));
  }
  const stages: Stage[] = [
    { title: `Open vSwitch on every host: ovsdb-server and ovs-vswitchd (${dp} datapath)`, steps: daemons },
    {
      title: dp
        ? `weave bridge, ${BRIDGE_END}/${DATAPATH_END} to the OVS bridge ${DATAPATH} with flow-based ${VXLAN} (UDP ${PORT})`
        : `weave bridge, ${BRIDGE_END}/${DATAPATH_END} to a Linux bridge ${DATAPATH} with kernel vxlan ${VXLAN} (UDP ${PORT}), a flood entry per peer`,
      steps: fabric,
    },
    { title: `containers on ${WEAVE}, MTU ${mtu}, one address space (CNI bridge plugin, as weave's plugin attaches)`, steps: attach },
    { title: 'container side: tx checksum offload off (userspace datapath)', steps: containerSide },
    { title: `OpenFlow on ${DATAPATH}: learn peers' MACs from the tunnel, flood the unknown to every peer`, steps: flowSteps },
  ];
  return {
    stages,
    workloads: containerWorkloads(lab, podIp),
    mtu,
    targetIp: direct,
    notes: dp ? datapathNotes(dp) : [APPROXIMATION_NOTE],
    standIn: dp ? datapathStandIn(dp) : BRIDGE_VXLAN,
  };
}

export const weaveFastdp: Scheme = {
  name: 'weave-fastdp',
  summary: 'Weave Net fast datapath: weave bridge, datapath with vxlan-6784 (UDP 6784), MTU 1376, one address space',
  attach: 'cni',
  requires: [...BRIDGE_PLUGIN, { kind: 'kernel', feature: 'VXLAN' }],
  prefers: [{ kind: 'kernel', feature: 'OPENVSWITCH' }, ...OVS_TOOLS],
  notes: ['no Weave router: peers fixed by the plan'],
  containers: true,
  overhead: VXLAN_OVERHEAD,
  build(lab, host) {
    return weaveBuild(lab, host.preferred ? 'system' : null);
  },
};
