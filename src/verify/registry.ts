/** Every probe `cnlab verify` runs, in matrix row order (result/verify.ts ASPECTS). One file per probe. */
import { encryption } from './probes/encryption.js';
import { isolationProbe } from './probes/isolation.js';
import { mtu } from './probes/mtu.js';
import { networkModel } from './probes/network-model.js';
import { partialConnectivity } from './probes/partial.js';
import { protocols } from './probes/protocols.js';
import { vnic } from './probes/vnic.js';
import type { AnyProbe } from './types.js';

export const PROBES: readonly AnyProbe[] = [networkModel, isolationProbe, encryption, partialConnectivity, vnic, protocols, mtu];
