import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { alive, useNamespacePair } from './helpers/lab.js';
import { check, clientArgv, parse, parseVersion, runClient, serverArgv, startServer } from '../src/runners/sockperf.js';

// Real sockperf 3.7 output (see test/fixtures/sockperf/README.md for how each was captured).
const fixture = (name: string) => readFileSync(new URL(`./fixtures/sockperf/${name}`, import.meta.url), 'utf8');

describe('sockperf parse (fixtures)', () => {
  it('TCP ping-pong: round-trip percentiles in µs, observations, whole-run replies', () => {
    expect(parse(fixture('tcp.txt'), 'tcp')).toEqual({
      ok: true,
      protocol: 'tcp',
      p50Us: 14.631,
      p90Us: 15.723,
      p99Us: 28.652,
      p999Us: 2972.078,
      maxUs: 5405.291,
      minUs: 13.76,
      meanUs: 21.233,
      stddevUs: 140.343,
      observations: 25874,
      validSeconds: 0.55,
      totalSeconds: 1,
      totalReceived: 44545,
      dropped: 0,
    });
  });

  it('UDP ping-pong, and a server that came up late still gives a result', () => {
    expect(parse(fixture('udp.txt'))).toMatchObject({
      ok: true,
      protocol: 'udp',
      p50Us: 12.999,
      p99Us: 552.286,
      maxUs: 44171.188,
      observations: 16481,
    });
    expect(parse(fixture('udp-server-late.txt'))).toMatchObject({ ok: true, observations: 22745 });
  });

  it.each([
    ['tcp-refused.txt', 'Can`t connect socket (errno=111 Connection refused)'],
    ['udp-no-server.txt', 'no replies: no messages were received from the server'],
    ['tcp-server-killed.txt', 'A connection was forcibly closed by a peer (errno=0 Success)'],
    ['udp-server-killed.txt', 'no replies: no messages were received from the server'],
    ['tcp-client-killed.txt', 'sockperf output was truncated (the client stopped before its summary)'],
    ['tcp-truncated.txt', 'sockperf output was truncated (no minUs)'],
  ])('%s is a failure with the reason', (name, error) => {
    expect(parse(fixture(name))).toEqual({ ok: false, error });
  });

  it('no output', () => {
    expect(parse('')).toEqual({ ok: false, error: 'sockperf produced no output' });
  });
});

describe('sockperf argv', () => {
  it('builds argument arrays', () => {
    expect(clientArgv({ ns: 'n1', target: '198.18.0.2', port: 5201, protocol: 'tcp', seconds: 2, msgSize: 64, cpus: '0' })).toEqual([
      'taskset',
      '-c',
      '0',
      'ip',
      'netns',
      'exec',
      'n1',
      'sockperf',
      'ping-pong',
      '--tcp',
      '-i',
      '198.18.0.2',
      '-p',
      '5201',
      '-t',
      '2',
      '--full-rtt',
      '-m',
      '64',
    ]);
    expect(serverArgv({ ns: 'n2', ip: '198.18.0.2', port: 5201, protocol: 'udp' })).toEqual([
      'ip',
      'netns',
      'exec',
      'n2',
      'sockperf',
      'server',
      '-i',
      '198.18.0.2',
      '-p',
      '5201',
      '--uc-reuseaddr',
    ]);
    expect(() => clientArgv({ ns: 'n', target: '198.18.0.2', port: 5201, protocol: 'udp', seconds: 1, msgSize: 8 })).toThrow(/14-65000/);
    expect(() => clientArgv({ ns: 'n', target: 'x;y', port: 5201, protocol: 'udp', seconds: 1 })).toThrow(/address/);
    expect(parseVersion('sockperf, version 3.7-no.git\n')).toBe('3.7-no.git');
  });
});

describe('sockperf between two namespaces (integration)', () => {
  const { A, B, spawned } = useNamespacePair('sp', 202);

  it('check() finds sockperf', async () => {
    expect(await check()).toMatchObject({ ok: true, tool: 'sockperf' });
  });

  it('TCP and UDP ping-pong against ready servers; the servers stop', async () => {
    const tcp = await startServer({ ns: A, ip: '198.18.202.1', port: 5201, protocol: 'tcp', cpus: '0', onSpawn: (p) => spawned.push(p) });
    const udp = await startServer({ ns: A, ip: '198.18.202.1', port: 5201, protocol: 'udp', onSpawn: (p) => spawned.push(p) });
    expect(readFileSync(`/proc/${tcp.pid}/status`, 'utf8')).toMatch(/^Cpus_allowed_list:\s*0$/m);
    const [t, u] = await Promise.all([
      runClient({ ns: B, target: '198.18.202.1', port: 5201, protocol: 'tcp', seconds: 1, msgSize: 64 }),
      runClient({ ns: B, target: '198.18.202.1', port: 5201, protocol: 'udp', seconds: 1, msgSize: 64 }),
    ]);
    expect(t.result, t.raw).toMatchObject({ ok: true, protocol: 'tcp' });
    expect(u.result, u.raw).toMatchObject({ ok: true, protocol: 'udp' });
    if (t.result.ok) expect(t.result.p99Us).toBeGreaterThanOrEqual(t.result.p50Us);
    await tcp.stop();
    await udp.stop();
    expect(alive(tcp.pid)).toBe(false);
    expect(alive(udp.pid)).toBe(false);
  });

  it('a server killed mid-test: a parsed failure', async () => {
    const s = await startServer({ ns: A, ip: '198.18.202.1', port: 5202, protocol: 'tcp', onSpawn: (p) => spawned.push(p) });
    const run = runClient({ ns: B, target: '198.18.202.1', port: 5202, protocol: 'tcp', seconds: 4 });
    await new Promise((r) => setTimeout(r, 1500));
    process.kill(s.pid, 'SIGKILL');
    const r = await run;
    expect(r.result.ok).toBe(false);
    await s.stop();
  });

  it('no server: connection refused is a parsed failure', async () => {
    const r = await runClient({ ns: B, target: '198.18.202.1', port: 5299, protocol: 'tcp', seconds: 1 });
    expect(r.result).toEqual({ ok: false, error: 'Can`t connect socket (errno=111 Connection refused)' });
  });

  it('a server that is not ready in time is killed', async () => {
    let pid = 0;
    await expect(
      startServer({
        ns: A,
        ip: '198.18.202.1',
        port: 5203,
        protocol: 'udp',
        readyTimeoutMs: 1,
        onSpawn: (p) => {
          pid = p;
          spawned.push(p);
        },
      }),
    ).rejects.toThrow(/not ready within 1 ms/);
    expect(alive(pid)).toBe(false);
  });
});
