import type { Placement } from '../result/types.js';
import type { Workload } from '../lab/types.js';

/**
 * Which workloads talk in each placement: cross-host is host 1's first workload to host 2's
 * first; same-host is host 1's first to host 1's second (the baseline has one workload per host,
 * so its same-host test stays inside host 1).
 */
export function pairFor(workloads: Workload[], placement: Placement): [Workload, Workload] | null {
  const onHost = (i: number) => workloads.filter((w) => w.hostIndex === i);
  const [a, b] = onHost(1);
  if (!a) return null;
  if (placement === 'cross') {
    const c = onHost(2)[0];
    return c ? [a, c] : null;
  }
  return [a, b ?? a];
}
