import { describe, expect, it } from 'vitest';
import { unsupportedReason } from '../src/apply/up.js';
import { loadTopology } from '../src/lab/topology.js';
import { getScheme } from '../src/schemes/registry.js';
import { verifySchemes } from '../src/verify/engine.js';
import { DEADLINE, partialConnectivity } from '../src/verify/probes/partial.js';
import { isRoot, labNamespaces } from './helpers/lab.js';

/**
 * The partial-connectivity probe through `cnlab verify`'s engine on two real 3-host labs, with the
 * h1↔h3 underlay cut on the switch: weave-sleeve's daemons route around it through h2 (yes);
 * flannel-vxlan's kernel VXLAN has no relay (no). One verifySchemes call; nothing may be left.
 */

const weave = getScheme('weave-sleeve');
const flannel = getScheme('flannel-vxlan');
const unsupported = isRoot ? ((await unsupportedReason(weave)) ?? (await unsupportedReason(flannel, 'static'))) : 'not root';

describe.skipIf(!!unsupported)('verify: partial connectivity on built labs', () => {
  it(
    'weave-sleeve relays c1→c3 through h2; flannel-vxlan loses it; the cut is removed and nothing is left',
    { timeout: 60_000 },
    async () => {
      const lab = 'vppart';
      const v = await verifySchemes([weave, flannel], [partialConnectivity], { base: loadTopology({ lab, controlPlane: 'static' }) });
      const cell = (scheme: string) => v.cells.find((c) => c.scheme === scheme && c.aspect === 'partial-connectivity')!;
      const w = cell('weave-sleeve');
      const f = cell('flannel-vxlan');
      expect(v.allRan, JSON.stringify([w.text, f.text])).toBe(true);
      expect(w).toMatchObject({ mark: 'yes', key: 'relayed', agrees: true });
      const wd = w.evidence.data as { afterMs: number; relayedByH2?: number; underlay: Record<string, boolean> };
      // Heartbeats age out in 1.5 s, checked every 0.5 s: the relay takes effect well inside the deadline.
      expect(wd.afterMs).toBeLessThan(4000);
      expect(wd.relayedByH2).toBeGreaterThan(0);
      expect(wd.underlay).toEqual({ h1h2: true, h2h3: true, h1h3: false });
      expect(f).toMatchObject({ mark: 'no', key: 'no' });
      expect((f.evidence.data as { afterMs: number }).afterMs).toBeGreaterThanOrEqual(DEADLINE * 1000 - 500);
      // The nft table was listed with its drop counters, then deleted.
      const nft = w.evidence.commands.filter((c) => c.node === 'sw' && c.argv[0] === 'nft');
      expect(nft.find((c) => c.argv[1] === 'list')?.stdout).toMatch(/counter packets [1-9]\d* bytes \d+ drop/);
      expect(nft.at(-1)).toMatchObject({ argv: expect.arrayContaining(['delete']), code: 0 });
      expect(labNamespaces(lab)).toEqual([]);
    },
  );
});
