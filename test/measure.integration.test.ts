import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { releaseLab } from '../src/apply/cleanup.js';
import { teardownState } from '../src/apply/teardown.js';
import { bringUp } from '../src/apply/up.js';
import { labStateFile } from '../src/lab/paths.js';
import { loadTopology } from '../src/lab/topology.js';
import { collectEnvironment } from '../src/measure/environment.js';
import { measureLab } from '../src/measure/suite.js';
import { latencyTest, rateSearchTest, tcpTest } from '../src/measure/tests.js';
import { RESULT_FORMAT, RESULT_VERSION, type ResultFile, type SchemeRecord, type TestSpec } from '../src/result/types.js';
import { getScheme } from '../src/schemes/registry.js';
import { cli, labNamespaces, pidsIn } from './helpers/lab.js';

/**
 * Measurements end to end. A short S1 sweep through the CLI on host and flannel-vxlan (lab
 * "msweep"): every message size lands in the result file with positive CPU figures. Then latency
 * under load, a UDP rate search, UDP latency and a test that fails, on a host lab built in-process
 * (lab "mkinds"): each recorded, the failure with its reason, and the run goes on.
 */

const SWEEP = 'msweep';
const KINDS = 'mkinds';
const out = mkdtempSync(join(tmpdir(), 'cnlab-measure-'));

afterAll(async () => {
  for (const lab of [SWEEP, KINDS]) if (existsSync(labStateFile(lab))) await cli(['down', lab]);
  rmSync(out, { recursive: true, force: true });
  for (const lab of [SWEEP, KINDS]) expect(labNamespaces(lab)).toEqual([]);
});

describe('a short qperf sweep (preset s1-cloud, sizes 1-4 B) on host and flannel-vxlan', () => {
  it('holds every size of tcp_bw and tcp_lat with positive CPU figures and the knobs', async () => {
    const r = await cli(
      [
        'run',
        'host',
        'flannel-vxlan',
        '--preset',
        's1-cloud',
        '--sizes',
        '1:4:*2',
        '--duration',
        '1',
        '--repeats',
        '2',
        '--warmup',
        '0',
        '--lab',
        SWEEP,
        '--out',
        out,
      ],
      { timeoutMs: 150_000 },
    );
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/knobs: CPUs 0, not pinned, offloads off, MTU 1500, link unlimited; preset s1-cloud/);
    expect(r.stdout).toMatch(/qperf tcp_bw, cross-host \(Gbit\/s by msgSize: 1 2 4\)/);
    const result = JSON.parse(readFileSync(join(out, 'result.json'), 'utf8')) as ResultFile;
    expect(result.complete).toBe(true);
    expect(result.options).toMatchObject({
      preset: 's1-cloud',
      knobs: { cpus: '0', offloads: 'off', pin: false, mtu: 1500 },
      warmupSeconds: 0,
    });
    expect(result.environment.methods?.qperf).toMatch(/one client invocation per message size/);
    for (const name of ['host', 'flannel-vxlan']) {
      const s = result.schemes.find((x) => x.name === name)!;
      expect(s.status, s.reason).toBe('ok');
      for (const q of ['tcp_bw', 'tcp_lat']) {
        const tests = s.tests.filter((t) => t.qperfTest === q);
        expect(
          tests.map((t) => t.msgSize),
          `${name} ${q}`,
        ).toEqual([1, 2, 4]);
        for (const t of tests) {
          expect(t.runs, `${name} ${t.id}`).toHaveLength(2);
          for (const run of t.runs) {
            expect(run.ok, `${name} ${t.id}: ${run.error}`).toBe(true);
            expect(run.argv).toEqual(expect.arrayContaining(['taskset', 'qperf', '-m', String(t.msgSize), q]));
            expect(run.cpu!.busy).toBeGreaterThan(0);
            for (const k of ['user', 'system', 'softirq', 'irq'] as const) expect(run.cpu![k]).toBeGreaterThanOrEqual(0);
            if (q === 'tcp_bw') {
              expect(run.gbps).toBeGreaterThan(0);
              expect(run.cpuSecondsPerGbit).toBeGreaterThan(0);
            } else {
              expect(run.latencyUs).toBeGreaterThan(0);
              expect(run.transactions).toBeGreaterThan(0);
              expect(run.cpuSecondsPer1kTransactions).toBeGreaterThan(0);
            }
          }
          if (q === 'tcp_bw') expect(t.summary?.cpuSecondsPerGbit?.median).toBeGreaterThan(0);
          else expect(t.latencySummary?.cpuSecondsPer1kTransactions?.median).toBeGreaterThan(0);
          expect(t.sweep).toEqual({ series: `qperf ${q}`, param: 'msgSize', value: t.msgSize });
        }
      }
    }
    const vx = result.schemes.find((x) => x.name === 'flannel-vxlan')!;
    expect(vx.tests.find((t) => t.id === 'qperf-tcp_bw-4/cross')?.vsHostDiff).toMatchObject({ b: 'host', metric: 'gbps', na: 2, nb: 2 });
    for (const i of vx.interfaces ?? []) expect(i.offloads['generic-segmentation-offload'], i.ns).toBe('off');
    expect(result.comparisons?.length).toBe(0); // sweep points are compared to the host only
  });
});

describe('latency under load, UDP rate search, UDP latency and a failing test (host lab)', () => {
  it('records each, the failure with its reason, and goes on', async () => {
    const topology = loadTopology({ lab: KINDS, sameHost: false });
    const up = await bringUp(topology, getScheme('host'));
    const result: ResultFile = {
      format: RESULT_FORMAT,
      version: RESULT_VERSION,
      cnlab: { version: 'test', argv: [] },
      createdAt: '',
      updatedAt: '',
      complete: false,
      environment: await collectEnvironment(),
      topology,
      options: { repeats: 1, seconds: 1, udpRate: '1G', tests: [] },
      schemes: [],
    };
    const rec: SchemeRecord = { name: 'host', status: 'ok', summary: '', attach: 'none', notes: [], overhead: 0, tests: [] };
    result.schemes.push(rec);
    const tooBig: TestSpec = {
      id: 'qperf-udp_bw-65536/cross',
      kind: 'qperf',
      protocol: 'udp',
      streams: 1,
      placement: 'cross',
      qperfTest: 'udp_bw',
      msgSize: 65536,
    };
    const tests = [
      latencyTest('tcp', 'cross', true),
      tooBig,
      { ...rateSearchTest('cross'), startMbps: 400 },
      latencyTest('udp', 'cross'),
      tcpTest(1, 'cross'),
    ];
    let saves = 0;
    try {
      await measureLab(up, rec, { repeats: 1, seconds: 1, udpRate: '1G', tests, warmupSeconds: 1 }, { result, save: () => saves++ });
    } finally {
      await teardownState(up.state);
      releaseLab(up.state);
    }
    expect(labNamespaces(KINDS)).toEqual([]);
    expect(await pidsIn(up.state.namespaces)).toEqual([]);
    expect(saves).toBe(5);
    const [loaded, big, rate, udpLat, tcp] = rec.tests;

    expect(loaded.runs[0].ok, loaded.runs[0].error).toBe(true);
    expect(loaded.runs[0].load).toMatchObject({ ok: true });
    expect(loaded.runs[0].load!.gbps).toBeGreaterThan(0);
    expect(loaded.runs[0].argv).toContain('--tcp');
    expect(loaded.runs[0].argv).toContain('5203'); // iperf3 holds the service port; sockperf TCP has its own
    expect(loaded.latencySummary?.p99Us?.median).toBeGreaterThanOrEqual(loaded.latencySummary!.p50Us!.median);
    expect(loaded.latencySummary?.loadGbps?.median).toBeGreaterThan(0);
    expect(loaded.warmup).toBeUndefined(); // sockperf warms up by itself

    // One warm-up per placement: the first failed, so the next test warmed up again; after that, none.
    expect(big.warmup).toMatchObject({ seconds: 1, ok: false });
    expect(tcp.warmup).toBeUndefined();
    expect(tcp.runs[0].ok, tcp.runs[0].error).toBe(true);
    expect(big.runs[0]).toMatchObject({ ok: false, error: 'qperf udp_bw received no data (0 bits/s) at 65536 bytes' });
    expect(big.runs[0].gbps).toBeUndefined();
    expect(big.summary).toBeUndefined();

    const r0 = rate.runs[0];
    expect(rate.warmup).toMatchObject({ seconds: 1 });
    expect(r0.ratePoints!.length).toBeGreaterThanOrEqual(1);
    expect(r0.ratePoints![0].offeredMbps).toBe(400);
    if (r0.ok) {
      expect(r0.maxRateMbps).toBeGreaterThanOrEqual(400);
      const best = r0.ratePoints!.find((p) => p.offeredMbps === r0.maxRateMbps)!;
      expect(best.lossPercent).toBeLessThan(1);
      expect(rate.rateSummary?.maxRateMbps.median).toBe(r0.maxRateMbps);
    } else {
      expect(r0.error).toMatch(/no rate with loss under 1%/); // a busy box may lose 1% even at 400M
    }

    expect(udpLat.runs[0].ok, udpLat.runs[0].error).toBe(true);
    expect(udpLat.runs[0].latency!.observations).toBeGreaterThan(100);
    expect(udpLat.runs[0].cpuSecondsPer1kTransactions).toBeGreaterThan(0);
  });
});
