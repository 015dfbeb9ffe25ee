import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import type { Evidence } from '../src/result/verify.js';
import { judgeIsolation, type IsolationData } from '../src/verify/probes/isolation.js';

/** The isolation probe's judge on evidence captured from real labs (calico and weave-sleeve with --tenants 2). */

const captured = (scheme: string): Evidence<IsolationData> =>
  JSON.parse(readFileSync(new URL(`./fixtures/verify/isolation-${scheme}.json`, import.meta.url), 'utf8')) as Evidence<IsolationData>;

describe('judgeIsolation', () => {
  it("Calico's profiles: across tenants blocked and the spoofed member address dropped → profile", () => {
    expect(judgeIsolation(captured('calico'))).toMatchObject({ mark: 'yes', key: 'profile' });
  });

  it('a subnet per tenant on one L2 segment: blocked, but the spoofed address gets through → cidr', () => {
    const v = judgeIsolation(captured('weave-sleeve'));
    expect(v).toMatchObject({ mark: 'value', key: 'cidr' });
    expect(v.detail).toContain('198.19.4.254');
  });

  it('a flat network where every cross-tenant ping is answered → none', () => {
    const e = captured('calico');
    const flat = { ...e, data: { pairs: e.data.pairs.map((p) => ({ ...p, reached: true })) } };
    expect(judgeIsolation(flat)).toMatchObject({ mark: 'no', key: 'none' });
  });

  it('within-tenant traffic failing is a broken lab, not isolation', () => {
    const e = captured('weave-sleeve');
    const broken = { ...e, data: { ...e.data, pairs: e.data.pairs.map((p) => ({ ...p, reached: false })) } };
    expect(judgeIsolation(broken)).toMatchObject({ mark: 'no', key: 'broken' });
  });

  it('separate segments that drop the spoofed subnet address → segment; no cross-tenant pair → not run', () => {
    const e = captured('weave-sleeve');
    expect(judgeIsolation({ ...e, data: { ...e.data, spoof: { ...e.data.spoof!, arrived: false } } })).toMatchObject({ key: 'segment' });
    expect(judgeIsolation({ ...e, data: { pairs: e.data.pairs.filter((p) => p.sameTenant) } }).mark).toBe('not-run');
  });
});
