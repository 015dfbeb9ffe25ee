import { describe, expect, it } from 'vitest';
import { loadTopology } from '../src/lab/topology.js';
import { measureConvergence } from '../src/measure/converge.js';
import { listLabs } from '../src/apply/state.js';
import { getScheme } from '../src/schemes/registry.js';
import { labNamespaces } from './helpers/lab.js';

/**
 * The convergence measurement, one short repeat at 2 hosts on each real control plane: every
 * figure is there and plausible, and the lab (with the container and daemons it added) is gone.
 * Labs: cv-itc, cv-itf.
 */

const run = (lab: string, scheme: string) => measureConvergence(loadTopology({ lab, hosts: '2' }), getScheme(scheme), { repeats: 1 });
const plausible = (x: number | undefined, max: number) => {
  expect(x).toBeGreaterThan(0);
  expect(x).toBeLessThan(max);
};

describe('convergence (2 hosts)', () => {
  it('calico: BGP cold start, a new block, host loss and rejoin are measured; nothing is left', async () => {
    const c = await run('cv-itc', 'calico');
    const r = c.runs[0];
    expect(r.error).toBeUndefined();
    expect(c.mechanism).toBe('BGP full mesh');
    plausible(r.coldStartSeconds, 15);
    plausible(r.newContainerSeconds, 10);
    plausible(r.hostLossSeconds, 5);
    plausible(r.rejoinSeconds, 15);
    // Each host: its blackhole and the peer's block, both BIRD's.
    expect(r.routesPerHost).toEqual([2, 2]);
    // Host 1's other container is watched, not the lost host's (whose loss is expected: it once
    // counted as an interruption of ~300 ms).
    expect(r.othersInterrupted).toBe(false);
    expect(c.median?.coldStart).toBe(r.coldStartSeconds);
    expect(labNamespaces('cv-itc')).toEqual([]);
    expect(listLabs()).not.toContain('cv-itc');
  }, 30_000);

  it('flannel-vxlan: etcd watch figures, and store loss keeps traffic but refuses a new lease; nothing is left', async () => {
    const c = await run('cv-itf', 'flannel-vxlan');
    const r = c.runs[0];
    expect(r.error).toBeUndefined();
    expect(c.mechanism).toBe('etcd watch');
    plausible(r.coldStartSeconds, 15);
    plausible(r.newContainerSeconds, 5);
    plausible(r.hostLossSeconds, 5);
    plausible(r.rejoinSeconds, 10);
    // From the rejoining agent's lease (its subnet.env) to reachable: part of the rejoin.
    expect(r.rejoinFromLeaseSeconds).toBeGreaterThanOrEqual(0);
    expect(r.rejoinFromLeaseSeconds).toBeLessThanOrEqual(r.rejoinSeconds!);
    expect(r.routesPerHost).toEqual([1, 1]);
    expect(r.othersInterrupted).toBe(false);
    expect(r.storeLoss?.trafficContinued).toBe(true);
    expect(r.storeLoss?.newLease).toMatch(/^refused/);
    expect(labNamespaces('cv-itf')).toEqual([]);
    expect(listLabs()).not.toContain('cv-itf');
  }, 30_000);

  it('a scheme without a control plane reports so, building nothing', async () => {
    const c = await run('cv-its', 'bridge-l2');
    expect(c).toMatchObject({ mode: 'static', runs: [], notes: ['static control plane: no convergence'] });
  });
});
