import type { HostNode } from '../lab/types.js';
import { nft } from '../plan/steps.js';
import type { Step } from '../plan/types.js';
import { podGateway, podIp } from './parts/addresses.js';
import { cniAttach, conflist, hostLocal } from './parts/cni-attach.js';
import { containerWorkloads, SERVICE_PORT, SERVICE_PORT_LAST } from './parts/workloads.js';
import type { Scheme } from '../plan/scheme.js';

/**
 * Docker's default bridge network: docker0, a veth per container, MASQUERADE on the way out and
 * DNAT for published ports (moby drivers/bridge, nftables flavour). The veth/bridge/IPAM part is
 * the CNI bridge plugin's job; the NAT is Docker's own and is written here as Docker writes it.
 * Cross-host, a container reaches another host's container only through that host's published
 * port: container addresses are not routable between hosts in Docker's model.
 */
const BRIDGE = 'docker0';

function dockerNat(h: HostNode, published: string): string {
  const block = `${h.podBlock.network}/${h.podBlock.prefix}`;
  const p = `${SERVICE_PORT}-${SERVICE_PORT_LAST}`;
  return `table ip docker-bridges {
 chain nat-PREROUTING { type nat hook prerouting priority dstnat; policy accept;
  fib daddr type local jump nat-prerouting-and-output
 }
 chain nat-OUTPUT { type nat hook output priority -100; policy accept;
  ip daddr != 127.0.0.0/8 fib daddr type local jump nat-prerouting-and-output
 }
 chain nat-prerouting-and-output {
  iifname != "${BRIDGE}" tcp dport ${p} counter dnat to ${published} comment "DNAT"
  iifname != "${BRIDGE}" udp dport ${p} counter dnat to ${published} comment "DNAT"
 }
 chain nat-POSTROUTING { type nat hook postrouting priority srcnat; policy accept;
  iifname "${BRIDGE}" oifname != "${BRIDGE}" ip saddr ${block} counter masquerade
 }
 chain filter-FORWARD { type filter hook forward priority filter; policy drop;
  oifname "${BRIDGE}" ct state established,related accept
  oifname "${BRIDGE}" ip daddr ${published} tcp dport ${p} accept
  oifname "${BRIDGE}" ip daddr ${published} udp dport ${p} accept
  iifname "${BRIDGE}" accept
 }
}
`;
}

export const dockerBridge: Scheme = {
  name: 'docker-bridge',
  summary: 'Docker bridge: docker0, veth, MASQUERADE and DNAT port mapping between hosts',
  attach: 'cni',
  requires: [
    { kind: 'kernel', feature: 'BRIDGE' },
    { kind: 'kernel', feature: 'NFT_NAT' },
    { kind: 'kernel', feature: 'NFT_MASQ' },
    { kind: 'kernel', feature: 'NFT_FIB' },
    { kind: 'binary', name: 'nft', pkg: 'nftables' },
    { kind: 'cni', plugin: 'bridge' },
    { kind: 'cni', plugin: 'host-local' },
  ],
  notes: ["cross-host traffic goes through NAT to the peer host's published port"],
  containers: true,
  overhead: 0,
  build(lab) {
    const nat: Step[] = [];
    const attach: Step[] = [];
    for (const h of lab.hosts) {
      const list = conflist('docker-bridge', {
        type: 'bridge',
        bridge: BRIDGE,
        isGateway: true,
        ipMasq: false,
        mtu: lab.underlay.mtu,
        ipam: hostLocal(lab, {
          subnet: `${h.podBlock.network}/${h.podBlock.prefix}`,
          gateway: podGateway(h),
          routes: [{ dst: '0.0.0.0/0' }],
        }),
      });
      for (const c of h.containers) attach.push(cniAttach(h, c, list, podIp(h, c), h.podBlock.prefix));
      // The host's first container publishes the service ports, like `docker run -p 5201-5203:5201-5203`.
      nat.push(nft(h.ns, dockerNat(h, podIp(h, h.containers[0])), { snat: true, dnat: true }));
    }
    return {
      stages: [
        { title: 'containers on docker0 (CNI bridge plugin)', steps: attach },
        { title: 'Docker NAT: masquerade out, DNAT the published port in', steps: nat },
      ],
      workloads: containerWorkloads(lab, podIp),
      mtu: lab.underlay.mtu,
      targetIp: (from, to) => (from.hostIndex === to.hostIndex ? to.ip : lab.hosts[to.hostIndex - 1].underlayIp),
    };
  },
};
