import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { InputError } from '../src/errors.js';
import { resolveLab } from '../src/lab/resolve.js';
import { loadTopology } from '../src/lab/topology.js';
import { planLab } from '../src/plan/build.js';
import type { Evidence } from '../src/result/verify.js';
import { getScheme } from '../src/schemes/registry.js';
import { judgeOverlap, type OverlapData } from '../src/verify/probes/overlap.js';

/** --overlap (tenants sharing addresses) and the IP-overlap probe's judge on evidence captured from docker-overlay. */

describe('--overlap', () => {
  it('needs two tenants or more, in one line', () => {
    expect(() => loadTopology({ overlap: true })).toThrow(InputError);
    expect(() => loadTopology({ overlap: true, tenants: '1' })).toThrow(/overlap needs --tenants 2 or more/);
  });

  it('docker-overlay: every tenant network gets the same subnet and the same addresses, on separate VNIs', () => {
    const lab = resolveLab(loadTopology({ lab: 't', tenants: '2', containers: '2', overlap: true }));
    const { build, plan } = planLab(lab, getScheme('docker-overlay'));
    const ip = (node: string) => build.workloads.find((w) => w.node === node)!.ip;
    expect([ip('h1c1'), ip('h2c1')]).toEqual([ip('h1c2'), ip('h2c2')]);
    const vnis = JSON.stringify(plan.stages).match(/"id":\d+/g);
    expect(new Set(vnis)).toEqual(new Set(['"id":256', '"id":257']));
  });

  it('without --overlap the tenants keep subnets of their own (unchanged)', () => {
    const { build } = planLab(resolveLab(loadTopology({ lab: 't', tenants: '2', containers: '2' })), getScheme('docker-overlay'));
    const ip = (node: string) => build.workloads.find((w) => w.node === node)!.ip;
    expect(ip('h1c1')).not.toBe(ip('h1c2'));
  });

  it('schemes with one network refuse it before anything is built', () => {
    const lab = resolveLab(loadTopology({ lab: 't', tenants: '2', overlap: true }));
    for (const s of ['weave-sleeve', 'calico', 'flannel-vxlan']) {
      expect(() => planLab(lab, getScheme(s))).toThrow(InputError);
      expect(() => planLab(lab, getScheme(s))).toThrow(`${s} cannot give two tenants the same addresses`);
    }
  });
});

const captured = (): Evidence<OverlapData> =>
  JSON.parse(readFileSync(new URL('./fixtures/verify/overlap-docker-overlay.json', import.meta.url), 'utf8')) as Evidence<OverlapData>;

describe('judgeOverlap', () => {
  it('the same addresses in both tenants, each marker only in its own tenant → yes', () => {
    const v = judgeOverlap(captured());
    expect(v).toMatchObject({ mark: 'yes', key: 'yes' });
    expect(v.text).toContain('198.19.3.2 → 198.19.3.3');
  });

  it('a marker of tenant 1 arriving in tenant 2 is cross-talk', () => {
    const e = captured();
    const m = e.data.markers;
    const pairs = e.data.pairs.map((p) => (p.tenant === 2 ? { ...p, received: [m['2'], m['1']] } : p));
    expect(judgeOverlap({ ...e, data: { ...e.data, pairs } })).toMatchObject({ mark: 'no', key: 'cross-talk' });
  });

  it('a pair that does not talk, different addresses, a refused build', () => {
    const e = captured();
    const silent = e.data.pairs.map((p) => (p.tenant === 1 ? { ...p, received: [] } : p));
    expect(judgeOverlap({ ...e, data: { ...e.data, pairs: silent } })).toMatchObject({ mark: 'no', key: 'broken' });
    const apart = e.data.pairs.map((p) => (p.tenant === 2 ? { ...p, toIp: '198.19.4.3' } : p));
    expect(judgeOverlap({ ...e, data: { ...e.data, pairs: apart } })).toMatchObject({ mark: 'no', key: 'distinct' });
    const refused = judgeOverlap({ commands: [], data: { pairs: [], markers: {} }, buildError: 'weave-sleeve cannot give two tenants …' });
    expect(refused).toMatchObject({ mark: 'no', key: 'refused' });
  });
});
