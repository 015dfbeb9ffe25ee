/**
 * What the products claim, aspect by aspect (studies.md S5), and which product each scheme builds.
 * The one file to edit to add a product or a claim: no probe code changes. `expect` lists the
 * probe verdict keys (see each probe's judge) that agree with the claim; leave it out when the
 * claim cannot be compared mechanically.
 */
import type { Aspect, Claim } from '../result/verify.js';

const S5 = 'studies.md S5 (feature comparison of multi-host networks, 2015/2018)';
/** S5 names partial connectivity but gives no verdict; Weave's own documentation states it. */
const WEAVE_DOCS =
  "Weave Net documentation ('How Weave Net works': peers gossip their connections and route via peers); S5 names the aspect without a verdict";

/** Scheme → the product whose claims its column is compared with. Schemes not listed have no claims. */
export const PRODUCT_OF: Readonly<Record<string, string>> = {
  calico: 'calico',
  'calico-ipip': 'calico',
  'calico-vxlan': 'calico',
  'flannel-vxlan': 'flannel',
  'flannel-udp': 'flannel',
  'flannel-udp-batched': 'flannel',
  'flannel-udp-encrypted': 'flannel',
  'flannel-udp-batched-encrypted': 'flannel',
  'flannel-hostgw': 'flannel',
  'flannel-ipip': 'flannel',
  'flannel-wireguard': 'flannel',
  'weave-sleeve': 'weave',
  'weave-sleeve-batched': 'weave',
  'weave-sleeve-encrypted': 'weave',
  'weave-sleeve-batched-encrypted': 'weave',
  'weave-fastdp': 'weave',
  'docker-overlay': 'docker-overlay',
};

type ProductClaims = Partial<Record<Aspect, Omit<Claim, 'product'>>>;

export const CLAIMS: Readonly<Record<string, ProductClaims>> = {
  calico: {
    'network-model': { text: 'pure L3 (BGP), not an overlay', source: S5, expect: ['none'] },
    isolation: { text: 'profiles: only containers in the same profile talk, even inside one CIDR', source: S5, expect: ['profile'] },
    'name-service': { text: 'none', source: S5, expect: ['none'] },
    'distributed-store': { text: 'not stated', source: S5 },
    protocols: { text: 'TCP, UDP, ICMP, ICMPv6 only', source: S5, expect: ['ip-only'] },
  },
  flannel: {
    'network-model': { text: 'VXLAN or UDP (TUN) channel', source: S5, expect: ['vxlan', 'udp', 'sealed'] },
    isolation: { text: 'CIDR (netmask)', source: S5, expect: ['cidr', 'none'] },
    'name-service': { text: 'none', source: S5, expect: ['none'] },
    'distributed-store': { text: 'etcd for config, subnets, host IPs', source: S5, expect: ['etcd'] },
    protocols: { text: 'all', source: S5, expect: ['all', 'all-ip'] },
  },
  weave: {
    'network-model': { text: 'VXLAN (fastdp) or UDP (sleeve, batches frames)', source: S5, expect: ['vxlan', 'udp', 'sealed'] },
    isolation: { text: 'CIDR', source: S5, expect: ['cidr'] },
    'name-service': {
      text: 'weaveDNS: {hostname}.weave.local or plain {hostname}; suffix configurable; can be off',
      source: S5,
      expect: ['dns'],
    },
    'distributed-store': { text: "not stated (a router container per host plays flanneld's role)", source: S5 },
    'partial-connectivity': { text: 'yes: the router relays through a peer that reaches both', source: WEAVE_DOCS, expect: ['relayed'] },
    protocols: { text: 'all', source: S5, expect: ['all', 'all-ip'] },
  },
  'docker-overlay': {
    'network-model': { text: 'VXLAN (libnetwork + libkv)', source: S5, expect: ['vxlan'] },
    isolation: { text: 'CIDR', source: S5, expect: ['cidr'] },
    'name-service': { text: 'none (S5); Docker has embedded DNS on user networks', source: S5 },
    'distributed-store': { text: 'libkv (etcd / consul per S1)', source: S5 },
    protocols: { text: 'all', source: S5, expect: ['all', 'all-ip'] },
  },
};

/** The claim for one scheme's column and one aspect, or undefined. */
export function claimFor(scheme: string, aspect: Aspect): Claim | undefined {
  const product = PRODUCT_OF[scheme];
  const c = product ? CLAIMS[product]?.[aspect] : undefined;
  return c && product ? { product, ...c } : undefined;
}

/** Whether a verdict key agrees with a claim; undefined when the claim has nothing to compare. */
export function agreesWith(claim: Claim | undefined, key: string | undefined): boolean | undefined {
  if (!claim?.expect || key === undefined) return undefined;
  return claim.expect.includes(key);
}
