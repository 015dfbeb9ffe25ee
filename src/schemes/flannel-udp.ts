import { addr, linkSet, route } from '../plan/steps.js';
import type { Step } from '../plan/types.js';
import { podIp } from './parts/addresses.js';
import { BRIDGE_PLUGIN } from './parts/cni-attach.js';
import { controlPlaneOf } from '../lab/types.js';
import {
  ENCAP_NOTE,
  ENCAP_REQUIRES,
  TXQUEUELEN,
  channelOverhead,
  daemonTableFile,
  encapStages,
  encryptNote,
  syscallNote,
} from './parts/encap.js';
import { ETCD_REQUIRES, flannelControl } from './parts/flannel-etcd.js';
import { flannelAttach } from './parts/flannel-cni.js';
import { containerWorkloads, direct } from './parts/workloads.js';
import type { Scheme } from '../plan/scheme.js';
import { ENCAP_DAEMON } from './parts/stand-ins.js';

/**
 * Flannel's udp backend (udp_amd64.go, udp_network_amd64.go; datapaths §10): cni0 as flannel
 * delegates, TUN flannel0 holding the block's .0 and a route for the whole pod network, MTU =
 * underlay − 28, and a daemon that sends each IP packet as the UDP payload to port 8285 of the
 * host owning its destination block. The daemon is cnlab's own (src/encap/), standing in for flanneld:
 * by default one packet per read/sendto/recvfrom/write, as flanneld's proxy (udp_proxy_amd64.c);
 * `flannel-udp-batched` is cnlab's fast daemon, better than the product. Its peers come from etcd:
 * cnlab's flannel agent writes each lease into the daemon's table file and the daemon reloads it
 * (parts/flannel-etcd.ts); with --control-plane static they are in the daemon's argv.
 */
const DEV = 'flannel0';
const PORT = 8285;

export interface FlannelUdpOptions {
  encrypt: boolean;
  /**
   * Batched system calls and device offloads in the daemon: `flannel-udp-batched`, better than the
   * product. Default false: one packet per system call, as flanneld's proxy moves them.
   */
  offload?: boolean;
}

export function flannelUdpScheme({ encrypt, offload = false }: FlannelUdpOptions): Scheme {
  const overhead = channelOverhead(encrypt);
  return {
    name: `flannel-udp${offload ? '-batched' : ''}${encrypt ? '-encrypted' : ''}`,
    summary: `Flannel udp: cni0 bridge, TUN flannel0, userspace daemon sending IP packets in UDP ${PORT} to the owner of the destination block${encrypt ? ', ChaCha20-Poly1305' : ''}${offload ? '; batched system calls (better than the product)' : ''}`,
    tenancy: 'flat',
    attach: 'cni',
    requires: [...BRIDGE_PLUGIN, ...ENCAP_REQUIRES],
    controlRequires: ETCD_REQUIRES,
    notes: [ENCAP_NOTE, syscallNote('tun', offload), ...(encrypt ? [encryptNote({ mode: 'tun', batch: false })] : [])],
    standIn: ENCAP_DAEMON,
    containers: true,
    overhead,
    build(lab) {
      const mtu = lab.underlay.mtu - overhead;
      const pods = `${lab.pods.network}/${lab.pods.prefix}`;
      const device: Step[] = lab.hosts.flatMap((h) => [
        linkSet(h.ns, DEV, { mtu, txqueuelen: TXQUEUELEN, up: true }),
        addr(h.ns, `${h.podBlock.network}/32`, DEV),
        route(h.ns, pods, { dev: DEV }),
      ]);
      // The daemons' peers: from etcd through the agents' table files (the default), or in their argv (static).
      const real = controlPlaneOf(lab.topology) === 'real';
      const daemons = encapStages(lab, { mode: 'tun', dev: DEV, port: PORT, encrypt, batch: false, offload }, (h) =>
        real
          ? { file: daemonTableFile(lab, h) }
          : { routes: lab.hosts.filter((o) => o !== h).map((o) => ({ block: o.podBlock, peer: o.underlayIp })) },
      );
      const control = flannelControl(lab, { backend: 'udp', dev: DEV, mtu, table: (h) => daemonTableFile(lab, h) }, () => []);
      return {
        stages: [
          ...daemons,
          {
            title: `${DEV}: MTU ${mtu}, queue ${TXQUEUELEN}, the block's .0 address, a route for the whole pod network ${pods}`,
            steps: device,
          },
          ...control.stages,
          flannelAttach(lab, mtu),
        ],
        notes: control.notes,
        control: control.control,
        extraNodes: control.extraNodes,
        workloads: containerWorkloads(lab, podIp),
        mtu,
        targetIp: direct,
      };
    },
  };
}

export const flannelUdp = flannelUdpScheme({ encrypt: false });
export const flannelUdpEncrypted = flannelUdpScheme({ encrypt: true });
export const flannelUdpBatched = flannelUdpScheme({ encrypt: false, offload: true });
export const flannelUdpBatchedEncrypted = flannelUdpScheme({ encrypt: true, offload: true });
