/** Every probe `cnlab verify` runs, in matrix row order (result/verify.ts ASPECTS). One file per probe. */
import { encryption } from './probes/encryption.js';
import { isolationProbe } from './probes/isolation.js';
import { mtu } from './probes/mtu.js';
import { nameService } from './probes/name-service.js';
import { networkModel } from './probes/network-model.js';
import { overlapProbe } from './probes/overlap.js';
import { partialConnectivity } from './probes/partial.js';
import { protocols } from './probes/protocols.js';
import { storeProbe } from './probes/store.js';
import { subnetRestriction } from './probes/subnet-restriction.js';
import { vnic } from './probes/vnic.js';
import { InputError } from '../errors.js';
import type { AnyProbe } from './types.js';

export const PROBES: readonly AnyProbe[] = [
  networkModel,
  encryption,
  isolationProbe,
  nameService,
  storeProbe,
  partialConnectivity,
  vnic,
  overlapProbe,
  subnetRestriction,
  protocols,
  mtu,
];

/** The probes of the aspects named (comma-separated, e.g. "mtu,protocols"), in matrix order; an unknown name is bad input listing the valid ones. */
export function probesFor(list: string): readonly AnyProbe[] {
  const names = list
    .split(',')
    .map((n) => n.trim())
    .filter(Boolean);
  const valid = PROBES.map((p) => p.aspect as string);
  const unknown = names.filter((n) => !valid.includes(n));
  if (unknown.length || !names.length) {
    throw new InputError(
      `--aspects: ${unknown.length ? `unknown aspect ${unknown.join(', ')}` : 'empty list'}; valid: ${valid.join(', ')}`,
    );
  }
  return PROBES.filter((p) => names.includes(p.aspect));
}
