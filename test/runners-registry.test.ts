import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { mainMetric } from '../src/result/derive.js';
import type { TestKind, TestSpec } from '../src/result/types.js';
import { checkTool } from '../src/runners/check.js';
import { figures as iperf3Figures, iperf3 } from '../src/runners/iperf3.js';
import { figures as qperfFigures, parse as qperfParse, qperf } from '../src/runners/qperf.js';
import { assertToolRegistry, TOOLS, toolOf, toolsOf } from '../src/runners/registry.js';
import { figures as sockperfFigures, parse as sockperfParse, sockperf } from '../src/runners/sockperf.js';
import { fullTests } from '../src/measure/tests.js';

/** The tool registry: which tool serves which test, and each tool's figures from captured output. */

const fixture = (tool: string, name: string) => readFileSync(new URL(`./fixtures/${tool}/${name}`, import.meta.url), 'utf8');
const spec = (over: Partial<TestSpec>): TestSpec => ({ id: 'x/cross', protocol: 'tcp', streams: 1, placement: 'cross', ...over });

describe('tool registry', () => {
  it('every test kind of the catalogue names exactly one tool', () => {
    const kinds: Array<TestKind | undefined> = [...new Set(fullTests('1G', ['cross', 'same']).map((t) => t.kind))];
    expect(kinds.map((k) => [k, toolOf({ kind: k }).name])).toEqual(
      kinds.map((k) => [k, k === 'qperf' ? 'qperf' : k === 'sockperf' ? 'sockperf' : 'iperf3']),
    );
    for (const [key, tool] of Object.entries(TOOLS)) expect(tool.name).toBe(key);
  });

  it('a latency test under load also needs the load tool', () => {
    expect(toolsOf({ kind: 'sockperf', underLoad: { streams: 1 } })).toEqual(['sockperf', 'iperf3']);
    expect(toolsOf({ kind: 'sockperf' })).toEqual(['sockperf']);
    expect(toolsOf({})).toEqual(['iperf3']);
  });

  it('refuses two tools claiming one kind, or an entry under another name', () => {
    expect(() => assertToolRegistry({ iperf3, qperf: { ...qperf, kinds: ['qperf', 'iperf3'] } })).toThrow(
      /"iperf3" is claimed by iperf3 and qperf/,
    );
    expect(() => assertToolRegistry({ netperf: iperf3 })).toThrow(/entry "netperf" is named "iperf3"/);
  });

  it('a missing tool is "unsupported here: needs X (apt-get install X)"', async () => {
    const c = await checkTool('cnlab-no-such-tool', () => undefined, 'cnlab-pkg');
    expect(c).toEqual({
      ok: false,
      tool: 'cnlab-no-such-tool',
      reason: 'unsupported here: needs cnlab-no-such-tool (apt-get install cnlab-pkg)',
    });
  });

  it('each tool names the figure its tests are judged by; derive uses the one recorded', () => {
    expect(iperf3.mainMetric(spec({}))).toEqual({ name: 'gbps', higherIsBetter: true });
    expect(iperf3.mainMetric(spec({ kind: 'udp-rate-sweep' }))).toEqual({ name: 'maxRateMbps', higherIsBetter: true });
    expect(qperf.mainMetric(spec({ kind: 'qperf', qperfTest: 'tcp_lat' }))).toEqual({ name: 'latencyUs', higherIsBetter: false });
    expect(qperf.mainMetric(spec({ kind: 'qperf', qperfTest: 'udp_bw' }))).toEqual({ name: 'gbps', higherIsBetter: true });
    expect(sockperf.mainMetric(spec({ kind: 'sockperf' }))).toEqual({ name: 'p50Us', higherIsBetter: false });
    // Recorded on the test, it wins; a test without it (older files) gets the rule of its time.
    const recorded = mainMetric({ kind: 'qperf', qperfTest: 'tcp_bw', metric: { name: 'latencyUs', higherIsBetter: false } });
    expect([recorded.metric, recorded.pick({ latencyUs: 7 } as never)]).toEqual(['latencyUs', 7]);
    expect(mainMetric({ kind: 'sockperf' }).metric).toBe('p50Us');
  });

  it('warm-ups: the test itself, a rate search at its start rate, none for sockperf', () => {
    const t = spec({ kind: 'udp-rate-sweep', protocol: 'udp', startMbps: 200 });
    expect(iperf3.warmup(t)).toMatchObject({ kind: 'iperf3', udpRate: '200M' });
    expect(qperf.warmup(spec({ kind: 'qperf' }))).toEqual(spec({ kind: 'qperf' }));
    expect(sockperf.warmup(spec({ kind: 'sockperf' }))).toBeUndefined();
  });
});

describe('tool figures from captured output', () => {
  it('iperf3: receiver Gbit/s and bytes; UDP loss and jitter; a failure keeps its reason', () => {
    const tcp = iperf3Figures(iperf3.parse(fixture('iperf3', 'tcp-1stream.json')) as never);
    expect(tcp).toMatchObject({ gbps: expect.any(Number), bytes: expect.any(Number) });
    const udp = iperf3Figures(iperf3.parse(fixture('iperf3', 'udp-lossy.json')) as never);
    expect(udp).toMatchObject({ lossPercent: expect.any(Number), jitterMs: expect.any(Number) });
    expect(iperf3Figures(iperf3.parse(fixture('iperf3', 'refused.json')) as never)).toMatchObject({
      ok: false,
      error: expect.stringMatching(/refused/i),
    });
  });

  it('qperf: tcp_lat gives latency and transactions; a sweep point gives Gbit/s and bytes', () => {
    const lat = qperfFigures(qperfParse(fixture('qperf', 'tcp-lat-1k.txt')));
    expect(lat).toMatchObject({ latencyUs: expect.any(Number), transactions: expect.any(Number) });
    expect(lat).not.toHaveProperty('gbps');
    const bw = qperfFigures(qperfParse(fixture('qperf', 'tcp-sweep.txt')));
    expect(bw).toMatchObject({ gbps: expect.any(Number), bytes: expect.any(Number) });
  });

  it('sockperf: round-trip percentiles and replies as transactions', () => {
    const f = sockperfFigures(sockperfParse(fixture('sockperf', 'tcp.txt'), 'tcp'));
    expect(f).toMatchObject({ latency: { p50Us: expect.any(Number), observations: expect.any(Number) }, transactions: expect.any(Number) });
    expect(sockperfFigures(sockperfParse(fixture('sockperf', 'tcp-refused.txt'), 'tcp'))).toMatchObject({ ok: false });
  });
});
