import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import type { Evidence } from '../src/result/verify.js';
import { judgeStore, lossBetween, parsePingTrain, type StoreData } from '../src/verify/probes/store.js';

/** The distributed-store probe's pure parts on evidence captured from real labs (flannel-vxlan's etcd, calico's BIRD on h2). */

const captured = (scheme: string): Evidence<StoreData> =>
  JSON.parse(readFileSync(new URL(`./fixtures/verify/store-${scheme}.json`, import.meta.url), 'utf8')) as Evidence<StoreData>;

describe('parsePingTrain', () => {
  it('reads the captured train: replies, and the losses while host 2 had no route', () => {
    const e = captured('calico');
    const ping = e.commands.find((c) => c.argv[0] === 'ping')!;
    const parsed = parsePingTrain(ping.stdout);
    expect(parsed.length).toBeGreaterThan(50);
    // The evidence keeps the first 8000 characters: what it holds agrees with what the probe parsed from all of it.
    const bySeq = new Map(e.data.train!.replies.map((r) => [r.seq, r]));
    for (const r of parsed) expect(bySeq.get(r.seq)?.ok, `seq ${r.seq}`).toBe(r.ok);
    expect(parsed.filter((r) => !r.ok).length).toBeGreaterThan(10);
  });

  it('a late reply overrides "no answer yet"; other lines are ignored', () => {
    const out = [
      'PING 198.19.2.2 (198.19.2.2) 56(84) bytes of data.',
      '[1796456704.100000] 64 bytes from 198.19.2.2: icmp_seq=1 ttl=62 time=0.1 ms',
      '[1796456704.200000] no answer yet for icmp_seq=2',
      '[1796456704.250000] 64 bytes from 198.19.2.2: icmp_seq=2 ttl=62 time=120 ms',
      '[1796456704.300000] no answer yet for icmp_seq=3',
    ].join('\n');
    expect(parsePingTrain(out)).toEqual([
      { seq: 1, at: 1796456704100, ok: true },
      { seq: 2, at: 1796456704200, ok: true },
      { seq: 3, at: 1796456704300, ok: false },
    ]);
    expect(lossBetween(parsePingTrain(out), 50, 1796456704000, 1796456705000)).toEqual({ sent: 3, lost: 1, gapMs: 50 });
  });
});

describe('judgeStore', () => {
  it('etcd stopped: the flow goes on, the new container is reachable, no lease until etcd is back → yes, etcd', () => {
    const v = judgeStore(captured('flannel-vxlan'));
    expect(v).toMatchObject({ mark: 'yes', key: 'etcd' });
    expect(v.text).toContain('existing flow went on (0/');
    expect(v.text).toContain('no lease while down');
    expect(v.detail).toMatch(/lease after restart: granted/);
  });

  it('BIRD on host 2 stopped: host 1 withdraws its block, the flow breaks until BIRD is back → no, bgp', () => {
    const v = judgeStore(captured('calico'));
    expect(v).toMatchObject({ mark: 'no', key: 'bgp' });
    expect(v.text).toMatch(/existing flow broke .*back [\d.]+ s after restart/);
    expect(v.text).toMatch(/new container unreachable while down, reachable [\d.]+ s after restart/);
    expect(v.detail).toContain('(no route)');
  });

  it('no control plane: measured as no store, saying why', () => {
    const none = (schemeHasOne: boolean) =>
      judgeStore({ commands: [], data: { mechanism: null, controlPlane: schemeHasOne ? 'static' : 'real', schemeHasOne } });
    expect(none(false)).toMatchObject({ mark: 'value', key: 'none', text: 'static control plane: no store' });
    expect(none(true).detail).toContain('--control-plane static');
  });

  it('a flow that never answered is a broken lab, not a finding', () => {
    const e = captured('flannel-vxlan');
    const replies = e.data.train!.replies.map((r) => ({ ...r, ok: false }));
    expect(judgeStore({ ...e, data: { ...e.data, train: { ...e.data.train!, replies } } })).toMatchObject({ mark: 'no', key: 'broken' });
  });
});
