import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { agreesWith, claimFor } from '../src/verify/claims.js';
import { judgePartial, type PartialData } from '../src/verify/probes/partial.js';

// The probe's data from `cnlab verify --lab vp1 weave-sleeve flannel-vxlan` on this box.
const EV = JSON.parse(readFileSync(new URL('./fixtures/verify/partial.json', import.meta.url), 'utf8')) as Record<string, PartialData>;
const judge = (data: PartialData) => judgePartial({ commands: [], data });

describe('partial connectivity judge', () => {
  it('weave-sleeve: relayed by h2, with the time it took; the claim agrees', () => {
    const v = judge(EV['weave-sleeve']);
    expect(v).toMatchObject({ mark: 'yes', key: 'relayed', text: 'relayed by h2 (11 datagrams), after 1.4 s' });
    expect(v.detail).toContain('h1↔h3 cut on the underlay, h1↔h2 and h2↔h3 up');
    expect(agreesWith(claimFor('weave-sleeve', 'partial-connectivity'), v.key)).toBe(true);
  });

  it('flannel-vxlan: lost while the cut is in place; no claim to compare', () => {
    const v = judge(EV['flannel-vxlan']);
    expect(v).toMatchObject({ mark: 'no', key: 'no', text: 'h1c1→h3c1 lost while h1↔h3 is cut' });
    expect(v.detail).toContain('no reply within 6 s');
    expect(claimFor('flannel-vxlan', 'partial-connectivity')).toBeUndefined();
  });

  it('a cut that did not take, or was not partial, or a path broken before it, is not judged', () => {
    const w = EV['weave-sleeve'];
    expect(judge({ ...w, underlay: { ...w.underlay, h1h3: true } }).text).toMatch(/cut did not take/);
    expect(judge({ ...w, underlay: { ...w.underlay, h2h3: false } }).text).toMatch(/not partial/);
    expect(judge({ ...w, before: false }).mark).toBe('not-run');
  });

  it('reached without a relay counter (another relaying scheme), or a route that does not hold', () => {
    const { relayedByH2: _, ...w } = EV['weave-sleeve'];
    expect(judge(w).text).toBe('reached around the cut, after 1.4 s');
    expect(judge({ ...w, steady: false })).toMatchObject({ mark: 'value', key: 'flapping' });
  });
});
