import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { alive, useNamespacePair } from './helpers/lab.js';
import { check, clientArgv, expandLoop, parse, parseSize, parseVersion, runClient, serverArgv, startServer } from '../src/runners/qperf.js';
import { hasSocket } from '../src/runners/server.js';

// Real qperf 0.4.11 output (see test/fixtures/qperf/README.md for how each was captured).
const fixture = (name: string) => readFileSync(new URL(`./fixtures/qperf/${name}`, import.meta.url), 'utf8');

describe('qperf parse (fixtures)', () => {
  it('S1 sweep: every size of tcp_bw and tcp_lat, in order', () => {
    const r = parse(fixture('tcp-sweep.txt'));
    if (!r.ok) throw new Error(r.error);
    const sizes = expandLoop('1:64K:*2');
    expect(sizes).toHaveLength(17);
    expect(r.points.filter((p) => p.test === 'tcp_bw').map((p) => p.msgSize)).toEqual(sizes);
    expect(r.points.filter((p) => p.test === 'tcp_lat').map((p) => p.msgSize)).toEqual(sizes);
    const bw1 = r.points[0];
    expect(bw1).toMatchObject({ test: 'tcp_bw', msgSize: 1, seconds: 1 });
    expect(bw1.bitsPerSecond).toBeGreaterThan(0);
    expect(bw1.latencyUs).toBeUndefined();
    const lat = r.points.find((p) => p.test === 'tcp_lat')!;
    expect(lat.latencyUs).toBeGreaterThan(1);
    expect(lat.recvMsgs).toBeGreaterThan(1000);
    expect(lat.bitsPerSecond).toBeUndefined();
  });

  it('one tcp_lat block: latency in µs (qperf: half the round trip), round trips', () => {
    const r = parse(fixture('tcp-lat-1k.txt'));
    expect(r).toEqual({
      ok: true,
      points: [{ test: 'tcp_lat', msgSize: 1024, seconds: 1, latencyUs: 17.031, msgRate: 58718, recvMsgs: 29359 }],
    });
  });

  it('udp sweep: receiver and sender rates', () => {
    const r = parse(fixture('udp-sweep.txt'));
    if (!r.ok) throw new Error(r.error);
    const bw = r.points.filter((p) => p.test === 'udp_bw');
    expect(bw.map((p) => p.msgSize)).toEqual([1, 8, 64, 512, 4096, 32768]);
    expect(bw[0]).toMatchObject({ bitsPerSecond: 722912, sendBitsPerSecond: 982224 });
    expect(r.points.filter((p) => p.test === 'udp_lat')).toHaveLength(6);
  });

  it('udp_bw of 0 bits/sec (message larger than a datagram) is a failure, not a zero', () => {
    expect(parse(fixture('udp-bw-64k-zero.txt'))).toEqual({ ok: false, error: 'qperf udp_bw received no data (0 bits/s) at 65536 bytes' });
  });

  it.each([
    ['refused.txt', '198.18.200.1: failed to connect'],
    ['server-not-ready.txt', '198.18.200.1: failed to connect'],
    ['server-killed.txt', 'failed to receive results: server not responding'],
    ['udp-lat-server-killed.txt', 'failed to receive results: server not responding'],
    ['sweep-truncated.txt', 'qperf output was truncated'],
  ])('%s is a failure with the reason', (name, error) => {
    expect(parse(fixture(name))).toEqual({ ok: false, error });
  });

  it('empty, header-only and foreign output', () => {
    expect(parse('')).toEqual({ ok: false, error: 'qperf produced no output' });
    expect(parse('tcp_bw:\n')).toEqual({ ok: false, error: 'qperf output was truncated' });
    expect(parse('Segmentation fault')).toEqual({ ok: false, error: 'Segmentation fault' });
  });
});

describe('qperf argv and sizes', () => {
  it('parses sizes and loops in qperf’s own form', () => {
    expect(parseSize('64K')).toBe(65536);
    expect(expandLoop('msg_size:1:8:*2')).toEqual([1, 2, 4, 8]);
    expect(expandLoop('100:400:+100')).toEqual([100, 200, 300, 400]);
    expect(() => expandLoop('1:64K')).toThrow(/FIRST:LAST/);
    expect(() => expandLoop('8:1:*2')).toThrow(/FIRST ≤ LAST/);
    expect(() => expandLoop('1:8:*1')).toThrow(/grow/);
  });

  it('builds argument arrays, with a taskset prefix for a CPU list', () => {
    const base = { ns: 'n1', target: '198.18.0.2', port: 5201, seconds: 1, tests: ['tcp_bw' as const] };
    expect(clientArgv({ ...base, dataPort: 5202, msgSize: 64 })).toEqual([
      'ip',
      'netns',
      'exec',
      'n1',
      'qperf',
      '198.18.0.2',
      '-lp',
      '5201',
      '-ip',
      '5202',
      '-t',
      '1',
      '-uu',
      '-ub',
      '-vv',
      '-m',
      '64',
      'tcp_bw',
    ]);
    expect(clientArgv({ ...base, loop: '1:64K:*2', cpus: '0' }).slice(0, 3)).toEqual(['taskset', '-c', '0']);
    expect(clientArgv({ ...base, loop: '1:64K:*2' })).toContain('msg_size:1:64K:*2');
    expect(serverArgv({ ns: 'n2', port: 5201, cpus: '1' })).toEqual([
      'taskset',
      '-c',
      '1',
      'ip',
      'netns',
      'exec',
      'n2',
      'qperf',
      '-lp',
      '5201',
    ]);
    expect(() => clientArgv({ ...base, seconds: 0.5 })).toThrow(/whole seconds/);
    expect(() => clientArgv({ ...base, msgSize: 1, loop: '1:2:*2' })).toThrow(/not both/);
    expect(() => clientArgv({ ...base, target: '-x' })).toThrow(/target/);
    expect(() => clientArgv({ ...base, cpus: '0;rm' })).toThrow(/CPU list/);
    expect(parseVersion('qperf 0.4.11\n')).toBe('0.4.11');
  });

  it('hasSocket reads /proc/net tables', () => {
    const tcp =
      '  sl  local_address rem_address   st\n   0: 00000000:1451 00000000:0000 0A 00000000:00000000\n   1: 0100007F:1452 0100007F:9999 01 0';
    expect(hasSocket(tcp, 'tcp', 5201)).toBe(true);
    expect(hasSocket(tcp, 'tcp', 5202)).toBe(false); // established, not listening
    expect(hasSocket(tcp, 'udp', 5202)).toBe(true);
  });
});

describe('qperf between two namespaces (integration)', () => {
  const { A, B, spawned } = useNamespacePair('qp', 201);

  it('check() finds qperf', async () => {
    expect(await check()).toMatchObject({ ok: true, tool: 'qperf', version: expect.stringMatching(/^0\./) });
  });

  it('serves a sweep and a latency run; stop ends the server and the child it forked', async () => {
    const server = await startServer({ ns: A, port: 5201, onSpawn: (pid) => spawned.push(pid) });
    expect(readFileSync(`/proc/${server.pid}/comm`, 'utf8').trim()).toBe('qperf');
    const sweep = await runClient({
      ns: B,
      target: '198.18.201.1',
      port: 5201,
      dataPort: 5202,
      seconds: 1,
      tests: ['tcp_bw'],
      loop: '1K:2K:*2',
    });
    expect(sweep.result.ok, JSON.stringify(sweep.result)).toBe(true);
    if (sweep.result.ok) expect(sweep.result.points.map((p) => p.msgSize)).toEqual([1024, 2048]);
    const lat = await runClient({ ns: B, target: '198.18.201.1', port: 5201, dataPort: 5201, seconds: 1, tests: ['udp_lat'], msgSize: 64 });
    expect(lat.result).toMatchObject({ ok: true, points: [{ test: 'udp_lat', msgSize: 64 }] });
    // A client in flight while the server stops: the forked child dies with the group.
    const inflight = runClient({
      ns: B,
      target: '198.18.201.1',
      port: 5201,
      dataPort: 5202,
      seconds: 3,
      tests: ['tcp_bw'],
      msgSize: 65536,
    });
    await new Promise((r) => setTimeout(r, 1200));
    const children = readFileSync(`/proc/${server.pid}/task/${server.pid}/children`, 'utf8')
      .trim()
      .split(/\s+/)
      .filter(Boolean)
      .map(Number);
    expect(children.length).toBeGreaterThan(0);
    spawned.push(...children);
    await server.stop();
    const r = await inflight;
    expect(r.result.ok).toBe(false);
    expect(alive(server.pid)).toBe(false);
    for (const c of children) expect(alive(c)).toBe(false);
  });

  it('no server: a parsed failure, not a rejection', async () => {
    const r = await runClient({ ns: B, target: '198.18.201.1', port: 5299, seconds: 1, tests: ['tcp_lat'], msgSize: 1 });
    expect(r.result).toEqual({ ok: false, error: '198.18.201.1: failed to connect' });
  });

  it('a server that is not ready in time is killed', async () => {
    let pid = 0;
    await expect(
      startServer({
        ns: A,
        port: 5203,
        readyTimeoutMs: 1,
        onSpawn: (p) => {
          pid = p;
          spawned.push(p);
        },
      }),
    ).rejects.toThrow(/not ready within 1 ms; killed it/);
    expect(alive(pid)).toBe(false);
  });

  it('a server that cannot start reports why', async () => {
    await expect(startServer({ ns: 'cnl-itest-qp-none', port: 5201 })).rejects.toThrow(/cnl-itest-qp-none/);
  });
});
