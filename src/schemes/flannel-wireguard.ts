import { join } from 'node:path';
import type { HostNode, Lab } from '../lab/types.js';
import { addr, exec, link, route, up } from '../plan/steps.js';
import type { Step } from '../plan/types.js';
import { podIp } from './parts/addresses.js';
import { BRIDGE_PLUGIN } from './parts/cni-attach.js';
import { flannelAttach } from './parts/flannel-cni.js';
import { hostBlock } from './parts/routed-veth.js';
import { containerWorkloads, direct } from './parts/workloads.js';
import type { Scheme } from '../plan/scheme.js';

const OVERHEAD = 80; // flannel reserves 80 bytes whatever the family (wireguard_network.go)
const DEV = 'flannel-wg';
const PORT = 51820;

/**
 * Keys. A plan is printed and stored in result files, so it never holds a private key: each host
 * generates its own on the machine, when the plan is applied (or the printed script is run), into
 * the lab's state directory (mode 0700, files 0600 by umask, removed with the lab), as flanneld
 * keeps its key in /run/flannel. The device reads the private key from that file
 * (`wg set … private-key FILE`); a peer's public key is read from the peer's .pub file when the
 * peer is added. These scripts are constants; the paths and values reach them as arguments.
 */
const GENKEY = 'umask 077 && mkdir -p "${1%/*}" && wg genkey > "$1" && wg pubkey < "$1" > "$2"';
const ADD_PEER = 'wg set "$1" peer "$(cat "$2")" endpoint "$3" allowed-ips "$4"';

export const keyFiles = (lab: Lab, h: HostNode): { key: string; pub: string } => ({
  key: join(lab.stateDir, 'wireguard', `${h.name}.key`),
  pub: join(lab.stateDir, 'wireguard', `${h.name}.pub`),
});

/**
 * Flannel's wireguard backend (pkg/backend/wireguard/wireguard.go, device.go): device flannel-wg,
 * MTU underlay − 80, listen port 51820, the subnet's .0 address, one peer per lease (its public
 * key, endpoint PublicIP:51820, allowed-ips its subnet) and one route for the whole network on
 * the device. Pods on cni0 with that MTU (parts/flannel-cni.ts).
 */
export const flannelWireguard: Scheme = {
  name: 'flannel-wireguard',
  summary: 'Flannel WireGuard: cni0 bridge plus flannel-wg (port 51820, MTU 1420), one peer per host, key files in the lab state',
  tenancy: 'flat',
  attach: 'cni',
  requires: [...BRIDGE_PLUGIN, { kind: 'kernel', feature: 'WIREGUARD' }, { kind: 'binary', name: 'wg', pkg: 'wireguard-tools' }],
  notes: [],
  containers: true,
  overhead: OVERHEAD,
  build(lab) {
    const mtu = lab.underlay.mtu - OVERHEAD;
    const network = `${lab.pods.network}/${lab.pods.prefix}`;
    const keys: Step[] = [];
    const devices: Step[] = [];
    const peers: Step[] = [];
    for (const h of lab.hosts) {
      const f = keyFiles(lab, h);
      keys.push(exec(h.ns, ['sh', '-c', GENKEY, 'sh', f.key, f.pub]));
      devices.push(
        link(h.ns, DEV, { type: 'wireguard' }, mtu),
        exec(h.ns, ['wg', 'set', DEV, 'private-key', f.key, 'listen-port', String(PORT)]),
        addr(h.ns, `${h.podBlock.network}/32`, DEV),
        up(h.ns, DEV),
      );
      for (const o of lab.hosts) {
        if (o !== h)
          peers.push(exec(h.ns, ['sh', '-c', ADD_PEER, 'sh', DEV, keyFiles(lab, o).pub, `${o.underlayIp}:${PORT}`, hostBlock(o)]));
      }
      peers.push(route(h.ns, network, { dev: DEV, scope: 'link' }));
    }
    return {
      stages: [
        { title: 'a WireGuard key pair per host, generated here into the lab state (never in the plan)', steps: keys },
        { title: `${DEV} on every host: MTU ${mtu}, private key from its file, port ${PORT}, the subnet's .0 address`, steps: devices },
        { title: `one peer per other host (public key from its file), route to ${network} on ${DEV}`, steps: peers },
        flannelAttach(lab, mtu),
      ],
      workloads: containerWorkloads(lab, podIp),
      mtu,
      targetIp: direct,
    };
  },
};
