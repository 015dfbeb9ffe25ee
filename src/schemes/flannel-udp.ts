import { ip } from '../plan/steps.js';
import type { Step } from '../plan/types.js';
import { podIp } from './parts/addresses.js';
import { BRIDGE_PLUGIN } from './parts/cni-attach.js';
import { ENCAP_NOTE, ENCAP_REQUIRES, TXQUEUELEN, encryptNote, channelOverhead, encapStages } from './parts/encap.js';
import { flannelAttach } from './parts/flannel-cni.js';
import { containerWorkloads, direct } from './parts/workloads.js';
import { ENCAP_DAEMON } from './parts/stand-ins.js';
import type { Scheme } from './types.js';

/**
 * Flannel's udp backend (udp_amd64.go, udp_network_amd64.go; datapaths §10): cni0 as flannel
 * delegates, TUN flannel0 holding the block's .0 and a route for the whole pod network, MTU =
 * underlay − 28, and a daemon that sends each IP packet as the UDP payload to port 8285 of the
 * host owning its destination block. The daemon is cnlab's own (src/encap/), standing in for flanneld.
 */
const DEV = 'flannel0';
const PORT = 8285;

export interface FlannelUdpOptions {
  encrypt: boolean;
  /** Device offloads in the daemon (default); false: one packet per system call, as flanneld does — for comparison. */
  offload?: boolean;
}

export function flannelUdpScheme({ encrypt, offload = true }: FlannelUdpOptions): Scheme {
  const overhead = channelOverhead(encrypt);
  return {
    name: `flannel-udp${encrypt ? '-encrypted' : ''}${offload ? '' : '-per-packet'}`,
    summary: `Flannel udp: cni0 bridge, TUN flannel0, userspace daemon sending IP packets in UDP ${PORT} to the owner of the destination block${encrypt ? ', ChaCha20-Poly1305' : ''}`,
    attach: 'cni',
    requires: [...BRIDGE_PLUGIN, ...ENCAP_REQUIRES],
    notes: encrypt ? [ENCAP_NOTE, encryptNote({ mode: 'tun', batch: false })] : [ENCAP_NOTE],
    standIn: ENCAP_DAEMON,
    containers: true,
    overhead,
    build(lab) {
      const mtu = lab.underlay.mtu - overhead;
      const pods = `${lab.pods.network}/${lab.pods.prefix}`;
      const device: Step[] = lab.hosts.flatMap((h) => [
        ip(h.ns, 'link', 'set', DEV, 'mtu', String(mtu), 'txqueuelen', String(TXQUEUELEN), 'up'),
        ip(h.ns, 'addr', 'add', `${h.podBlock.network}/32`, 'dev', DEV),
        ip(h.ns, 'route', 'add', pods, 'dev', DEV),
      ]);
      const daemons = encapStages(lab, { mode: 'tun', dev: DEV, port: PORT, encrypt, batch: false, offload }, (h) => ({
        routes: lab.hosts.filter((o) => o !== h).map((o) => ({ block: o.podBlock, peer: o.underlayIp })),
      }));
      return {
        stages: [
          ...daemons,
          { title: `${DEV}: MTU ${mtu}, queue ${TXQUEUELEN}, the block's .0 address, a route for the whole pod network ${pods}`, steps: device },
          flannelAttach(lab, mtu),
        ],
        workloads: containerWorkloads(lab, podIp),
        mtu,
        targetIp: direct,
      };
    },
  };
}

export const flannelUdp = flannelUdpScheme({ encrypt: false });
export const flannelUdpEncrypted = flannelUdpScheme({ encrypt: true });
