import { addr, ipTunnel, linkSet } from '../plan/steps.js';
import type { Step } from '../plan/types.js';
import { podIp } from './parts/addresses.js';
import { BRIDGE_PLUGIN } from './parts/cni-attach.js';
import { tunnelRoutes } from './parts/fabric.js';
import { flannelAttach } from './parts/flannel-cni.js';
import { containerWorkloads, direct } from './parts/workloads.js';
import type { Scheme } from '../plan/scheme.js';

const OVERHEAD = 20; // outer IPv4 header

/**
 * Flannel's ipip backend (pkg/backend/ipip/ipip.go): device flannel.ipip of type ipip with the
 * host's public address as local end and no remote, MTU underlay − 20, the subnet's .0 address,
 * and per peer lease one route to its subnet via its public address, onlink. Pods on cni0 with
 * that MTU (parts/flannel-cni.ts). DirectRouting off.
 */
export const flannelIpip: Scheme = {
  name: 'flannel-ipip',
  summary: 'Flannel IP-in-IP: cni0 bridge plus flannel.ipip (MTU 1480), peer subnets via peers onlink',
  tenancy: 'flat',
  attach: 'cni',
  requires: [...BRIDGE_PLUGIN, { kind: 'kernel', feature: 'NET_IPIP' }],
  notes: [],
  containers: true,
  overhead: OVERHEAD,
  build(lab) {
    const mtu = lab.underlay.mtu - OVERHEAD;
    const dev = 'flannel.ipip';
    const devices: Step[] = lab.hosts.flatMap((h) => [
      ipTunnel(h.ns, dev, 'ipip', { local: h.underlayIp }),
      linkSet(h.ns, dev, { mtu, up: true }),
      addr(h.ns, `${h.podBlock.network}/32`, dev),
    ]);
    return {
      stages: [
        { title: `${dev} (ipip, local = the host's address) on every host, MTU ${mtu}`, steps: devices },
        { title: `per peer lease: its subnet via its address on ${dev}, onlink`, steps: tunnelRoutes(lab, dev) },
        flannelAttach(lab, mtu),
      ],
      workloads: containerWorkloads(lab, podIp),
      mtu,
      targetIp: direct,
    };
  },
};
