import { describe, expect, it } from 'vitest';
import { unsupportedReason } from '../src/apply/up.js';
import { loadTopology } from '../src/lab/topology.js';
import { getScheme } from '../src/schemes/registry.js';
import { verifySchemes } from '../src/verify/engine.js';
import { overlapProbe, type OverlapData } from '../src/verify/probes/overlap.js';
import { isRoot, labNamespaces } from './helpers/lab.js';

/**
 * The IP-overlap probe: docker-overlay gives two tenants the same addresses on two overlay networks
 * (two VNIs, two namespaces per host) and each pair talks with no cross-talk; weave-sleeve puts
 * every container on one segment, so its build with overlapping tenants is refused. Nothing left.
 */

const docker = getScheme('docker-overlay');
const weave = getScheme('weave-sleeve');
const unsupported = isRoot ? ((await unsupportedReason(docker)) ?? (await unsupportedReason(weave))) : 'not root';

describe.skipIf(!!unsupported)('ip-overlap probe on built labs', () => {
  it('docker-overlay: same addresses, no cross-talk; weave-sleeve: refused', { timeout: 60_000 }, async () => {
    const lab = 'vsov';
    const v = await verifySchemes([docker, weave], [overlapProbe], { base: loadTopology({ lab }) });
    const cell = (scheme: string) => v.cells.find((c) => c.scheme === scheme)!;
    const d = cell('docker-overlay');
    expect(d, JSON.stringify(d.evidence.data)).toMatchObject({ mark: 'yes', key: 'yes' });
    const data = d.evidence.data as unknown as OverlapData;
    expect(data.pairs[0].toIp).toBe(data.pairs[1].toIp);
    expect(data.pairs.map((p) => p.received)).toEqual([[data.markers['1']], [data.markers['2']]]);
    expect(cell('weave-sleeve')).toMatchObject({ mark: 'no', key: 'refused' });
    expect(cell('weave-sleeve').evidence.buildError).toContain('--overlap');
    expect(labNamespaces(lab)).toEqual([]);
  });
});
