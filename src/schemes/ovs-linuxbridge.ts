import { bridge, linkSet, veth } from '../plan/steps.js';
import type { Step } from '../plan/types.js';
import { underlayIp } from './parts/addresses.js';
import { BRIDGE_PLUGIN, cniAttach, conflist, hostLocal } from './parts/cni-attach.js';
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
  OVS_KERNEL,
  OVS_REQUIRES,
  txOff,
  uplinkFlows,
  vsctl,
} from './parts/ovs.js';
import { containerWorkloads, direct } from './parts/workloads.js';
import type { Scheme } from '../plan/scheme.js';

/**
 * OVS plus a Linux bridge (studies S3 "ovs + linux bridge", OpenStack's hybrid plug): containers
 * sit on a Linux bridge lbr0, which reaches the OVS bridge br-int through the veth pair
 * lbr0-ovs ↔ ovs-lbr0; br-int holds the underlay port and the host's address, as in `ovs`.
 * Same-host traffic stays in lbr0; cross-host traffic crosses lbr0, the veth pair and OVS.
 * Containers attach to lbr0 through the CNI bridge plugin with underlay addresses and a MAC fixed
 * by the plan (the plugin's `mac` capability), so br-int's explicit flows can name them.
 */

const OVS_BRIDGE = 'br-int';
const LINUX_BRIDGE = 'lbr0';
const LB_END = 'lbr0-ovs';
const OVS_END = 'ovs-lbr0';

export const ovsLinuxbridge: Scheme = {
  name: 'ovs-linuxbridge',
  summary: 'containers on a Linux bridge joined to Open vSwitch br-int (underlay port, explicit flows) by a veth pair',
  attach: 'cni',
  requires: [...OVS_REQUIRES, ...BRIDGE_PLUGIN],
  prefers: OVS_KERNEL,
  notes: [],
  containers: true,
  overhead: 0,
  build(lab, host) {
    const dp = datapathOf(host);
    const ipOf = underlayIp(lab, 'ovs-linuxbridge');
    const mtu = lab.underlay.mtu;
    const subnet = `${lab.underlay.network}/${lab.underlay.prefix}`;
    const daemons: Step[] = [];
    const bridges: Step[] = [];
    const attach: Step[] = [];
    const containerSide: Step[] = [];
    const flowSteps: Step[] = [];
    for (const h of lab.hosts) {
      const o = ovsOf(lab, h);
      daemons.push(...ovsDaemons(o));
      bridges.push(
        bridge(h.ns, LINUX_BRIDGE),
        linkSet(h.ns, LINUX_BRIDGE, { mtu, up: true }),
        veth(h.ns, LB_END, { name: OVS_END }, mtu),
        linkSet(h.ns, LB_END, { master: LINUX_BRIDGE, up: true }),
        linkSet(h.ns, OVS_END, { mtu, up: true }),
        vsctl(
          o,
          addBridge({ name: OVS_BRIDGE, datapath: dp, failMode: 'secure', hwaddr: ovsMac(h.index, 0), mtu }),
          addPort(OVS_BRIDGE, h.underlayIf),
          addPort(OVS_BRIDGE, OVS_END),
        ),
        ...moveAddress(lab, h, OVS_BRIDGE),
      );
      const list = conflist('ovs-linuxbridge', {
        type: 'bridge',
        bridge: LINUX_BRIDGE,
        isGateway: false,
        ipMasq: false,
        mtu,
        ipam: hostLocal(lab, { subnet, rangeStart: h.underlayRange!.start, rangeEnd: h.underlayRange!.end }),
      });
      list.plugins[0].capabilities = { ips: true, mac: true };
      for (const c of h.containers) {
        const step = cniAttach(h, c, list, ipOf(h, c), lab.underlay.prefix);
        if (step.kind === 'cni') step.runtimeConfig = { ...step.runtimeConfig, mac: containerMac(c) };
        attach.push(step);
      }
      containerSide.push(...txOff(h, h.containers, dp));
      const local = [{ mac: ovsMac(h.index, 0), port: 'LOCAL' }, ...h.containers.map((c) => ({ mac: containerMac(c), port: OVS_END }))];
      flowSteps.push(addFlows(o, OVS_BRIDGE, uplinkFlows(local, h.underlayIf)));
    }
    return {
      stages: [
        { title: `Open vSwitch on every host: ovsdb-server and ovs-vswitchd (${dp} datapath)`, steps: daemons },
        {
          title: `Linux bridge ${LINUX_BRIDGE} joined by ${LB_END}/${OVS_END} to ${OVS_BRIDGE}, which takes the underlay port and the host address`,
          steps: bridges,
        },
        { title: `containers on ${LINUX_BRIDGE} with underlay addresses and fixed MACs (CNI bridge plugin)`, steps: attach },
        { title: 'container side: tx checksum offload off (userspace datapath)', steps: containerSide },
        {
          title: `OpenFlow on ${OVS_BRIDGE}: the host's and the containers' MACs inward, broadcast flooded, the rest to the uplink`,
          steps: flowSteps,
        },
      ],
      workloads: containerWorkloads(lab, ipOf),
      mtu,
      targetIp: direct,
      notes: datapathNotes(dp),
      standIn: datapathStandIn(dp),
    };
  },
};
