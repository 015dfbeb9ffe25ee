/** Every probe `cnlab verify` runs, in matrix row order (result/verify.ts ASPECTS). One file per probe. */
import { encryption } from './probes/encryption.js';
import { isolationProbe } from './probes/isolation.js';
import { mtu } from './probes/mtu.js';
import { nameService } from './probes/name-service.js';
import { networkModel } from './probes/network-model.js';
import { protocols } from './probes/protocols.js';
import { subnetRestriction } from './probes/subnet-restriction.js';
import { vnic } from './probes/vnic.js';
import type { AnyProbe } from './types.js';

export const PROBES: readonly AnyProbe[] = [networkModel, isolationProbe, encryption, nameService, vnic, subnetRestriction, protocols, mtu];
