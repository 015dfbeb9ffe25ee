import { describe, expect, it } from 'vitest';
import { unsupportedReason } from '../src/apply/up.js';
import { loadTopology } from '../src/lab/topology.js';
import { calico } from '../src/schemes/calico.js';
import { weaveSleeve } from '../src/schemes/weave-sleeve.js';
import { verifySchemes } from '../src/verify/engine.js';
import { subnetRestriction } from '../src/verify/probes/subnet-restriction.js';
import { isRoot, labNamespaces } from './helpers/lab.js';

/**
 * The subnet-restriction probe on two real labs built with the pod network inside the underlay
 * subnet: calico routes every pod block and reaches hosts through its gateway, so everything works;
 * weave-sleeve's containers hold the whole pod network on-link, hosts' addresses included, and look
 * for the hosts on their own segment: builds, but container↔host fails.
 */

const unsupported = isRoot ? ((await unsupportedReason(calico, 'static')) ?? (await unsupportedReason(weaveSleeve))) : 'not root';

describe.skipIf(!!unsupported)('subnet-restriction probe on built labs', () => {
  it('calico works, weave-sleeve builds but cannot reach hosts; nothing left', { timeout: 40_000 }, async () => {
    const lab = 'vns';
    const v = await verifySchemes([calico, weaveSleeve], [subnetRestriction], { base: loadTopology({ lab, controlPlane: 'static' }) });
    const cell = (scheme: string) => v.cells.find((c) => c.scheme === scheme)!;
    expect(v.allRan).toBe(true);
    const c = cell('calico');
    expect(c, JSON.stringify(c.evidence.data)).toMatchObject({ mark: 'yes', key: 'works' });
    expect(c.text).toBe('builds; container↔container, container↔own host, container↔other host work');
    const w = cell('weave-sleeve');
    expect(w, JSON.stringify(w.evidence.data)).toMatchObject({ mark: 'no', key: 'broken' });
    expect(w.text).toBe('builds, but container↔own host, container↔other host fail');
    expect(w.detail).toContain('on-link');
    // The lab really had the overlap: the container's address and the hosts' share 198.18.0.0/16.
    expect(w.evidence.commands.some((x) => x.argv.join(' ') === 'ip route get 198.18.0.1' && /src 198\.18\.1\.2/.test(x.stdout))).toBe(
      true,
    );
    expect(labNamespaces(lab)).toEqual([]);
  });
});
