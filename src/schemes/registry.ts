import { InputError } from '../errors.js';
import { bridgeL2 } from './bridge-l2.js';
import { calico } from './calico.js';
import { cilium } from './cilium.js';
import { ciliumLegacy } from './cilium-legacy.js';
import { ciliumVxlan } from './cilium-vxlan.js';
import { dockerBridge } from './docker-bridge.js';
import { flannelHostgw } from './flannel-hostgw.js';
import { flannelVxlan } from './flannel-vxlan.js';
import { host } from './host.js';
import { macvlan } from './macvlan.js';
import { ovsLinuxbridge } from './ovs-linuxbridge.js';
import { ovsOverlay } from './ovs-overlay.js';
import { ovs, ovsInternal, ovsNormal } from './ovs.js';
import { weaveFastdp } from './weave-fastdp.js';
import { calicoIpip } from './calico-ipip.js';
import { calicoVxlan } from './calico-vxlan.js';
import { canal } from './canal.js';
import { dockerOverlay } from './docker-overlay.js';
import { flannelIpip } from './flannel-ipip.js';
import { flannelWireguard } from './flannel-wireguard.js';
import { ipvlanL2 } from './ipvlan-l2.js';
import { ipvlanL3 } from './ipvlan-l3.js';
import { flannelUdp, flannelUdpBatched, flannelUdpBatchedEncrypted, flannelUdpEncrypted } from './flannel-udp.js';
import { weaveSleeve, weaveSleeveBatched, weaveSleeveBatchedEncrypted, weaveSleeveEncrypted } from './weave-sleeve.js';
import type { Scheme } from '../plan/scheme.js';

/** Every scheme cnlab can build, in the order reports list them (the baseline first). */
export const SCHEMES: readonly Scheme[] = [
  host,
  dockerBridge,
  bridgeL2,
  macvlan,
  calico,
  cilium,
  ciliumLegacy,
  ciliumVxlan,
  flannelHostgw,
  flannelVxlan,
  dockerOverlay,
  canal,
  calicoVxlan,
  ovs,
  ovsNormal,
  ovsInternal,
  ovsLinuxbridge,
  ovsOverlay,
  weaveFastdp,
  ipvlanL2,
  ipvlanL3,
  calicoIpip,
  flannelIpip,
  flannelWireguard,
  flannelUdp,
  flannelUdpEncrypted,
  weaveSleeve,
  weaveSleeveEncrypted,
  flannelUdpBatched,
  flannelUdpBatchedEncrypted,
  weaveSleeveBatched,
  weaveSleeveBatchedEncrypted,
];

/**
 * Variants: another setting of a scheme already in the list (cnlab's batched or encrypted
 * daemons, OVS's NORMAL action). A run with no scheme named (the quick default, `make run`) builds
 * each base once and says which variants it left out; naming them, `--all`, `--encrypt` or a preset
 * runs them.
 */
export const VARIANT_OF: Readonly<Record<string, string>> = {
  'ovs-normal': 'ovs',
  'cilium-legacy': 'cilium',
  'flannel-udp-encrypted': 'flannel-udp',
  'flannel-udp-batched': 'flannel-udp',
  'flannel-udp-batched-encrypted': 'flannel-udp',
  'weave-sleeve-encrypted': 'weave-sleeve',
  'weave-sleeve-batched': 'weave-sleeve',
  'weave-sleeve-batched-encrypted': 'weave-sleeve',
};

/** The schemes the quick default runs: every scheme but the variants (VARIANT_OF). */
export function quickDefaultSchemes(): Scheme[] {
  return SCHEMES.filter((s) => !(s.name in VARIANT_OF));
}

/** Pure: refuses a scheme list in which two schemes share a name (checked when the registry loads). */
export function assertUniqueNames(schemes: readonly Pick<Scheme, 'name'>[]): void {
  const seen = new Set<string>();
  for (const s of schemes) {
    if (seen.has(s.name)) throw new Error(`scheme registry: two schemes are named "${s.name}"`);
    seen.add(s.name);
  }
}
assertUniqueNames(SCHEMES);

export function schemeNames(): string[] {
  return SCHEMES.map((s) => s.name);
}

export function getScheme(name: string): Scheme {
  const s = SCHEMES.find((x) => x.name === name);
  if (!s) throw new InputError(`unknown scheme "${name}"`, `valid schemes: ${schemeNames().join(', ')}`);
  return s;
}

/** The schemes sealed by cnlab's encrypted channel (what `--encrypt` picks). */
export function encryptedSchemes(): Scheme[] {
  return SCHEMES.filter((s) => s.name.endsWith('-encrypted'));
}

/**
 * `--encrypt`: a scheme's encrypted variant. The host baseline stays itself; a scheme without a
 * variant is refused, with the ones that have one.
 */
export function encryptedVariant(s: Scheme): Scheme {
  if (s.name === 'host' || s.name.endsWith('-encrypted')) return s;
  const v = SCHEMES.find((x) => x.name === `${s.name}-encrypted`);
  if (!v) {
    const bases = encryptedSchemes().map((x) => x.name.replace(/-encrypted$/, ''));
    throw new InputError(
      `--encrypt: scheme "${s.name}" has no encrypted variant`,
      `with --encrypt: ${bases.join(', ')} (flannel-wireguard encrypts in the kernel)`,
    );
  }
  return v;
}

/** Looks a scheme name up, as its encrypted variant with `--encrypt`. */
export function schemeLookup(encrypt: boolean | undefined): (name: string) => Scheme {
  return encrypt ? (name) => encryptedVariant(getScheme(name)) : getScheme;
}

for (const [variant, base] of Object.entries(VARIANT_OF)) {
  if (!SCHEMES.some((s) => s.name === variant) || !SCHEMES.some((s) => s.name === base))
    throw new Error(`scheme registry: variant ${variant} of ${base} is not registered`);
}
