/** Every probe `cnlab verify` runs, in matrix row order (result/verify.ts ASPECTS). One file per probe. */
import { isolationProbe } from './probes/isolation.js';
import type { AnyProbe } from './types.js';

export const PROBES: readonly AnyProbe[] = [isolationProbe];
