import { describe, expect, it } from 'vitest';
import { unsupportedReason } from '../src/apply/up.js';
import { loadTopology } from '../src/lab/topology.js';
import { getScheme } from '../src/schemes/registry.js';
import { verifySchemes } from '../src/verify/engine.js';
import { storeProbe, type StoreData } from '../src/verify/probes/store.js';
import { isRoot, labNamespaces } from './helpers/lab.js';

/**
 * The distributed-store probe on real control planes: flannel-vxlan's etcd stopped (the flow goes
 * on, a new container in the host's leased subnet is reachable, no lease is granted until etcd is
 * back) and calico's BGP with host 2's BIRD stopped (host 1 withdraws its block: the flow breaks, a
 * new block is announced only once BIRD is back). One build each; nothing may be left behind.
 */

const flannel = getScheme('flannel-vxlan');
const calico = getScheme('calico');
const unsupported = isRoot ? ((await unsupportedReason(flannel)) ?? (await unsupportedReason(calico))) : 'not root';

describe.skipIf(!!unsupported)('distributed-store probe on built labs', () => {
  it('etcd down: flows go on; BIRD down: its block is withdrawn; both recover', { timeout: 90_000 }, async () => {
    const lab = 'vsst';
    const v = await verifySchemes([flannel, calico], [storeProbe], { base: loadTopology({ lab }) });
    const cell = (scheme: string) => v.cells.find((c) => c.scheme === scheme)!;
    const f = cell('flannel-vxlan');
    const c = cell('calico');
    expect(v.allRan, JSON.stringify(v.cells.map((x) => x.text))).toBe(true);
    expect(f).toMatchObject({ mark: 'yes', key: 'etcd', agrees: true });
    const fd = f.evidence.data as unknown as StoreData;
    expect(fd.newContainer?.whileDownSeconds).not.toBeNull();
    expect(fd.leaseWhileDown).toMatch(/^refused/);
    expect(fd.leaseAfter).toMatch(/^granted/);
    expect(c.key).toBe('bgp');
    const cd = c.evidence.data as unknown as StoreData;
    expect(cd.newContainer?.whileDownSeconds).toBeNull();
    expect(cd.newContainer?.afterRestartSeconds).not.toBeNull();
    expect(f.evidence.commands.some((x) => x.argv[0] === 'ping')).toBe(true);
    expect(labNamespaces(lab)).toEqual([]);
  });
});
