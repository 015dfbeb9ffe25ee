/**
 * The products' name services as cnlab builds them for the name-service probe (issue 13, probe 4):
 * one DNS server per host — Debian's dnsmasq, as a stand-in for the product's own — placed where
 * the product runs its server, listening only on a lab address the containers reach, answering
 * from a hosts file of the lab's records in the lab's state directory. Schemes whose product has no
 * name service are not listed: their containers get a resolv.conf naming no server.
 */
import type { Requirement } from '../caps/types.js';
import { addrAt } from '../lab/ipv4.js';
import type { HostNode, Lab } from '../lab/types.js';
import { overlayNode, overlaySubnet } from '../schemes/docker-overlay.js';
import { podGateway } from '../schemes/parts/addresses.js';
import { PRODUCT_OF } from './claims.js';

export const DNSMASQ: Requirement = { kind: 'binary', name: 'dnsmasq', pkg: 'dnsmasq-base' };

export interface NameService {
  product: string;
  /** The stand-in label shown beside the cell. */
  standIn: string;
  /** The names a container is known by, as the product answers them (fully qualified first). */
  names(node: string): string[];
  /** resolv.conf's search domain, as the product sets it. */
  search?: string;
  /** Where host h's server runs (a node of the lab) and listens; `expose`: an address cnlab adds first (and removes after). */
  server(lab: Lab, h: HostNode): { node: string; addr: string; expose?: { dev: string; cidr: string } };
}

const SERVICES: Readonly<Record<string, NameService>> = {
  weave: {
    product: 'weave',
    standIn:
      'dnsmasq stands in for weaveDNS: one per host in the host namespace (where the router runs), on the host block\'s first address added to the weave bridge (as "weave expose" does), search weave.local',
    names: (node) => [`${node}.weave.local`, node],
    search: 'weave.local',
    server: (lab, h) => ({ node: h.name, addr: podGateway(h), expose: { dev: 'weave', cidr: `${podGateway(h)}/${lab.pods.prefix}` } }),
  },
  'docker-overlay': {
    product: 'docker-overlay',
    standIn:
      "dnsmasq stands in for Docker's embedded DNS (dockerd answers container names at 127.0.0.11 inside each container): one per host in the overlay network's namespace, on its gateway address",
    names: (node) => [node],
    server: (lab, h) => ({ node: overlayNode(h.index), addr: addrAt(overlaySubnet(lab), 1) }),
  },
};

/** The name service the scheme's product has (built by cnlab), or undefined: none. */
export function nameServiceOf(scheme: string): NameService | undefined {
  const product = PRODUCT_OF[scheme];
  return product ? SERVICES[product] : undefined;
}

/** dnsmasq in the foreground, no configuration file, no upstream, answering only from `hostsFile`, bound to `addr` only. */
export function dnsmasqArgs(addr: string, hostsFile: string): string[] {
  return [
    '--keep-in-foreground',
    '--log-facility=-',
    '--conf-file=/dev/null',
    // The hosts file is in the lab's state directory (root only); dnsmasq would read it as nobody.
    '--user=root',
    '--pid-file=',
    '--no-resolv',
    '--no-hosts',
    `--addn-hosts=${hostsFile}`,
    `--listen-address=${addr}`,
    '--bind-interfaces',
  ];
}

/** The lab's records: one hosts-file line per container, its address and every name the product gives it. */
export function hostsFile(service: NameService, records: ReadonlyArray<{ node: string; ip: string }>): string {
  return records.map((r) => `${r.ip} ${service.names(r.node).join(' ')}\n`).join('');
}

/** A container's resolv.conf: its host's server (none for a scheme without a name service), a short timeout. */
export function resolvConf(lab: string, service: NameService | undefined, server: string | undefined): string {
  const lines = [`# cnlab lab ${lab}: ${service ? `${service.product} name service (stand-in)` : 'the scheme has no name service'}`];
  if (service && server) lines.push(`nameserver ${server}`);
  if (service?.search) lines.push(`search ${service.search}`);
  lines.push('options timeout:1 attempts:1');
  return `${lines.join('\n')}\n`;
}
