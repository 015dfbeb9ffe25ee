import { describe, expect, it } from 'vitest';
import { buildModel } from '../src/report/figures.js';
import { verdicts } from '../src/report/verdicts.js';
import { difference } from '../src/report/significance.js';
import { real, synthetic as syntheticRun } from './fixtures/results/synthetic.js';

const near = (v: number[], jitter = 0.05) => v.map((x, i) => x + (i - 1) * jitter);

/**
 * The captured calico ran with static routes in place of BGP, a stand-in its notes declare; these
 * tests are about ranking real datapaths, so the copies here drop that note (see 'stand-ins' below).
 */
function synthetic(speeds: Parameters<typeof syntheticRun>[0]): ReturnType<typeof syntheticRun> {
  const r = syntheticRun(speeds);
  for (const s of r.schemes) s.notes = [];
  return r;
}

/** calico (routed) ahead of flannel-vxlan (overlay), and the reverse; docker-bridge (NAT) last. */
const A = synthetic({
  host: near([10, 10, 10]),
  calico: near([9, 9, 9]),
  'flannel-vxlan': near([5, 5, 5]),
  'docker-bridge': near([3, 3, 3]),
});
const B = synthetic({
  host: near([10, 10, 10]),
  calico: near([5, 5, 5]),
  'flannel-vxlan': near([9, 9, 9]),
  'docker-bridge': near([3, 3, 3]),
});
const vA = verdicts(buildModel(A));
const vB = verdicts(buildModel(B));
const rec = (v: typeof vA, start: string) => v.recommendations.find((r) => r.constraint.startsWith(start))!;

describe("difference (the measurement's significance test, oriented b against a)", () => {
  it('matches scipy.stats.ttest_ind(b, a, equal_var=False) below ten runs', () => {
    // scipy 1.17: t = -4.201641, df = 3.863692, p = 0.0147097, 95% CI of mean(b) − mean(a) = [-1.51700, -0.29966]
    const d = difference([12.1, 11.8, 12.4, 12.0], [10.9, 11.5, 11.1]);
    expect(d.method).toBe('welch');
    expect(d.diff).toBeCloseTo(11.1667 - 12.075, 4);
    expect(d.p).toBeCloseTo(0.0147097, 6);
    expect(d.significant).toBe(true);
    expect(d.ci95[0]).toBeCloseTo(-1.517, 4);
    expect(d.ci95[1]).toBeCloseTo(-0.29966, 4);
  });

  it('says "not testable" with one value and is exact with no spread', () => {
    expect(difference([1], [2, 3]).p).toBeUndefined();
    expect(difference([1], [2, 3]).significant).toBe(false);
    expect(difference([2, 2], [2, 2]).p).toBe(1);
    expect(difference([2, 2], [3, 3])).toMatchObject({ p: 0, significant: true });
  });

  it('uses the bootstrap of medians from ten runs a side', () => {
    const a = Array.from({ length: 12 }, (_, i) => 10 + (i % 3) * 0.1);
    const b = a.map((x) => x - 1);
    expect(difference(a, b)).toMatchObject({ method: 'bootstrap', significant: true, diff: -1 });
  });
});

describe('verdicts from data', () => {
  it('opposite rankings give opposite rankings and recommendations', () => {
    expect(vA.rankings[0].tiers.flat()).toEqual(['host', 'calico', 'flannel-vxlan', 'docker-bridge']);
    expect(vB.rankings[0].tiers.flat()).toEqual(['host', 'flannel-vxlan', 'calico', 'docker-bridge']);
    for (const c of ['If the hosts share an L2 segment', 'If BGP is allowed', 'If every container must be reachable']) {
      expect(rec(vA, c).pick).toBe('calico');
      expect(rec(vB, c).pick).toBe('flannel-vxlan');
      expect(rec(vA, c).text).not.toEqual(rec(vB, c).text);
    }
    expect(rec(vA, 'If CPU').pick).toBe('calico');
    expect(rec(vB, 'If CPU').pick).toBe('flannel-vxlan');
  });

  it('recommends by layout read from the plans, not by name', () => {
    // Only an overlay or NAT crosses a plain IP network without BGP: flannel-vxlan either way.
    expect(rec(vA, 'If the hosts share only an IP network').pick).toBe('flannel-vxlan');
    expect(rec(vB, 'If the hosts share only an IP network').pick).toBe('flannel-vxlan');
    // Isolation: the routed veth (calico) or NAT (docker-bridge); never the overlay's bridge.
    expect(rec(vB, 'If you need isolation').pick).toBe('calico');
    // Renaming a scheme changes nothing but the name.
    const renamed = structuredClone(A);
    renamed.schemes.find((s) => s.name === 'calico')!.name = 'scheme-x';
    expect(rec(verdicts(buildModel(renamed)), 'If the hosts share an L2 segment').pick).toBe('scheme-x');
  });

  it('says "not significant" when the data say so, and ties the ranking', () => {
    const tie = synthetic({ host: [10, 11, 9], calico: [9.5, 10.6, 9.9], 'flannel-vxlan': [6, 6.1, 5.9], 'docker-bridge': [3, 3.1, 2.9] });
    const v = verdicts(buildModel(tie));
    const calico = v.costs.find((c) => c.scheme === 'calico' && c.placement === 'cross')!;
    expect(calico.significant).toBe(false);
    expect(calico.text).toMatch(/^cross-host: ≈ host \(−1%, not significant: p = [01]\.\d\d\)$/);
    expect(v.rankings[0].tiers[0]).toEqual(['host', 'calico']);
    expect(v.rankings[0].text).toContain('(not significantly different after Holm)');
    expect(v.headline[0]).toContain('no significant difference from the host: calico');
    const l2 = v.recommendations[0];
    expect(l2.pick).toBe('calico');
    expect(l2.tiedWith).toBeUndefined();
    // A real gap is significant, with its interval.
    const vx = v.costs.find((c) => c.scheme === 'flannel-vxlan' && c.placement === 'cross')!;
    expect(vx.significant).toBe(true);
    expect(vx.text).toMatch(/^cross-host: −4\d% against host \(95% CI −\d+% to −\d+%, p [<=]/);
  });

  it('names the measured causes from the path: encapsulation bytes, NAT, host stack', () => {
    const cost = (s: string) => vA.costs.find((c) => c.scheme === s && c.placement === 'cross')!;
    expect(cost('flannel-vxlan').causes[0]).toBe(
      '50 B of VXLAN encapsulation per packet: MTU 1450 instead of 1500, so each full packet carries 3.5% less TCP payload',
    );
    expect(cost('docker-bridge').causes).toContain('NAT: connection tracking and address rewriting on every packet');
    expect(cost('calico').causes.join()).toContain("an extra pass through the host's IP stack");
    expect(cost('calico').causes.join()).not.toContain('encapsulation');
    expect(cost('flannel-vxlan').evidence.join()).toMatch(/CPU per Gbit 2\.\d\d× the host's \(significant/);
    expect(cost('flannel-vxlan').evidence.join()).toContain('the smaller MTU explains at most −3.5%');
  });

  it('flags too few runs, noise, an incomplete run and a missing baseline', () => {
    const one = synthetic({ host: [10], calico: [9], 'flannel-vxlan': [5], 'docker-bridge': [3] });
    one.complete = false;
    const v = verdicts(buildModel(one));
    expect(v.costs.every((c) => c.test?.p === undefined && !c.significant)).toBe(true);
    expect(v.caveats.join('\n')).toMatch(/Fewer than two good runs/);
    expect(v.caveats.join('\n')).toMatch(/did not finish/);
    expect(verdicts(buildModel(real())).caveats.join()).toMatch(/Noisy figures/);
    const nohost = structuredClone(A);
    nohost.schemes[0].status = 'failed';
    const vn = verdicts(buildModel(nohost));
    expect(vn.caveats.join()).toMatch(/No host baseline/);
    expect(vn.costs).toEqual([]);
  });
});

describe('stand-ins', () => {
  it('are ranked apart from the real datapaths, marked †, and never recommended', () => {
    const r = syntheticRun({
      host: near([10, 10, 10]),
      calico: near([9, 9, 9]),
      'flannel-vxlan': near([5, 5, 5]),
      'docker-bridge': near([3, 3, 3]),
    });
    r.schemes.find((s) => s.name === 'calico')!.standIn = { what: 'static routes written by the plan', why: 'no BGP daemon' };
    const v = verdicts(buildModel(r));
    const cross = v.rankings.filter((k) => k.testId === 'tcp-1/cross');
    expect(cross.map((k) => [!!k.standIns, k.tiers.flat()])).toEqual([
      [false, ['host', 'flannel-vxlan', 'docker-bridge']],
      [true, ['calico']],
    ]);
    expect(cross[1].text).toMatch(/^Stand-ins, ranked apart: .*calico† 9\.0/);
    expect(v.headline[0]).toContain('fastest real container network flannel-vxlan');
    expect(v.headline[0]).toContain('calico† (−10%)');
    expect(v.recommendations.map((x) => x.pick)).not.toContain('calico');
  });
});
