import { InputError } from '../errors.js';
import { bridgeL2 } from './bridge-l2.js';
import { calico } from './calico.js';
import { dockerBridge } from './docker-bridge.js';
import { flannelHostgw } from './flannel-hostgw.js';
import { flannelVxlan } from './flannel-vxlan.js';
import { host } from './host.js';
import { macvlan } from './macvlan.js';
import type { Scheme } from './types.js';

/** Every scheme cnlab can build, in the order reports list them (the baseline first). */
export const SCHEMES: readonly Scheme[] = [host, dockerBridge, bridgeL2, macvlan, calico, flannelHostgw, flannelVxlan];

export function schemeNames(): string[] {
  return SCHEMES.map((s) => s.name);
}

export function getScheme(name: string): Scheme {
  const s = SCHEMES.find((x) => x.name === name);
  if (!s) throw new InputError(`unknown scheme "${name}"`, `valid schemes: ${schemeNames().join(', ')}`);
  return s;
}
