import { addrAt, cidrText, size } from '../lab/ipv4.js';
import { bridge, linkSet } from '../plan/steps.js';
import type { Step } from '../plan/types.js';
import { FRAME_HEADER } from '../encap/batch.js';
import { podIp, tenantIp, tenantSubnet } from './parts/addresses.js';
import { BRIDGE_PLUGIN, cniAttach, conflist, hostLocal } from './parts/cni-attach.js';
import { ENCAP_NOTE, ENCAP_REQUIRES, TXQUEUELEN, encryptNote, channelOverhead, encapStages, syscallNote } from './parts/encap.js';
import { containerWorkloads, direct } from './parts/workloads.js';
import type { Scheme } from '../plan/scheme.js';
import { ENCAP_DAEMON } from './parts/stand-ins.js';

/**
 * Weave Net in sleeve mode (net/bridge.go; datapaths §16): a bridge `weave` per host, containers
 * on it with addresses from the whole pod network (one flat L2 segment across hosts), and a router
 * that captures frames from the bridge and sends them to peers in UDP 6783 — several frames per
 * datagram, each with its length — learning which peer each MAC lives behind and flooding
 * broadcast and unknown destinations to every peer; a peer it cannot reach directly it reaches
 * through one that can (heartbeats and relaying, src/encap/relay.ts). Weave's router captures
 * through a veth with pcap; cnlab's daemon (src/encap/) holds a TAP, `vethwe-pcap`, enslaved to the
 * bridge. By default it moves frames as the router does: one frame per read and per write, one
 * datagram (a batch of frames) per sendto; `weave-sleeve-batched` is cnlab's fast daemon, better
 * than the product.
 */
const BRIDGE = 'weave';
const DEV = 'vethwe-pcap';
const PORT = 6783;
const ETHERNET = 14;

export interface WeaveSleeveOptions {
  encrypt: boolean;
  /** Several frames per UDP datagram, as Weave does; false only to measure what batching buys. */
  batch: boolean;
  /**
   * Batched system calls and device offloads in the daemon: `weave-sleeve-batched`, better than
   * the product. Default false: frames captured one by one and one datagram per sendto, as Weave's router.
   */
  offload?: boolean;
  /** Flush a partly filled batch after this many µs (default 0: when the device has no more frames). */
  flushUs?: number;
}

export function weaveSleeveScheme(o: WeaveSleeveOptions): Scheme {
  // Encrypted, frames are the record's payloads, whose length the channel's overhead counts.
  const overhead = channelOverhead(o.encrypt) + (o.encrypt ? 0 : FRAME_HEADER) + ETHERNET;
  const offload = o.offload ?? false;
  const name = `weave-sleeve${offload ? '-batched' : ''}${o.encrypt ? '-encrypted' : ''}${o.batch ? '' : '-unbatched'}${o.flushUs ? `-flush${o.flushUs}us` : ''}`;
  return {
    name,
    summary: `Weave sleeve: weave bridge, TAP ${DEV}, userspace daemon sending ${o.batch ? 'batches of' : 'single'} Ethernet frames in UDP ${PORT}, MAC learning${o.encrypt ? ', ChaCha20-Poly1305' : ''}${offload ? '; batched system calls (better than the product)' : ''}`,
    tenancy: 'subnets',
    attach: 'cni',
    requires: [...BRIDGE_PLUGIN, ...ENCAP_REQUIRES],
    notes: [ENCAP_NOTE, syscallNote('tap', offload), ...(o.encrypt ? [encryptNote({ mode: 'tap', batch: o.batch })] : [])],
    standIn: ENCAP_DAEMON,
    containers: true,
    overhead,
    build(lab) {
      const mtu = lab.underlay.mtu - overhead;
      const pods = `${lab.pods.network}/${lab.pods.prefix}`;
      const bridges: Step[] = lab.hosts.flatMap((h) => [bridge(h.ns, BRIDGE), linkSet(h.ns, BRIDGE, { mtu, up: true })]);
      const taps: Step[] = lab.hosts.map((h) => linkSet(h.ns, DEV, { mtu, txqueuelen: TXQUEUELEN, master: BRIDGE, up: true }));
      const attach: Step[] = [];
      // With tenants, each is a subnet of its own on the one L2 segment (`weave attach net:…`):
      // containers of different subnets have no route to each other, and nothing else keeps them apart.
      const tenants = lab.topology.tenants !== undefined;
      const ipOf = tenants ? tenantIp(lab) : podIp;
      for (const h of lab.hosts) {
        // Weave's IPAM gives each peer a range of the one network; here, the host's block.
        const list = conflist('weave', {
          type: 'bridge',
          bridge: BRIDGE,
          isGateway: false,
          ipMasq: false,
          mtu,
          ipam: hostLocal(lab, { subnet: pods, rangeStart: addrAt(h.podBlock, 1), rangeEnd: addrAt(h.podBlock, size(h.podBlock) - 2) }),
        });
        for (const c of h.containers) {
          if (!tenants) {
            attach.push(cniAttach(h, c, list, podIp(h, c), lab.pods.prefix));
            continue;
          }
          const subnet = tenantSubnet(lab, c.tenant!);
          const ipam = hostLocal(lab, { subnet: cidrText(subnet) });
          attach.push(cniAttach(h, c, { ...list, plugins: [{ ...list.plugins[0], ipam }] }, ipOf(h, c), subnet.prefix));
        }
      }
      const daemons = encapStages(
        lab,
        { mode: 'tap', dev: DEV, port: PORT, encrypt: o.encrypt, batch: o.batch, offload, flushUs: o.flushUs },
        (h) => ({
          peers: lab.hosts.filter((p) => p !== h).map((p) => p.underlayIp),
        }),
      );
      return {
        stages: [
          { title: `bridge ${BRIDGE} on every host, MTU ${mtu}`, steps: bridges },
          ...daemons,
          { title: `${DEV} into the ${BRIDGE} bridge, queue ${TXQUEUELEN}`, steps: taps },
          {
            title: tenants
              ? `containers on ${BRIDGE}, each tenant in a subnet of its own (CNI bridge plugin)`
              : `containers on ${BRIDGE} with addresses of the whole pod network ${pods} (CNI bridge plugin)`,
            steps: attach,
          },
        ],
        workloads: containerWorkloads(lab, ipOf),
        mtu,
        targetIp: direct,
      };
    },
  };
}

export const weaveSleeve = weaveSleeveScheme({ encrypt: false, batch: true });
export const weaveSleeveEncrypted = weaveSleeveScheme({ encrypt: true, batch: true });
export const weaveSleeveBatched = weaveSleeveScheme({ encrypt: false, batch: true, offload: true });
export const weaveSleeveBatchedEncrypted = weaveSleeveScheme({ encrypt: true, batch: true, offload: true });
