import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { check, clientArgv, parse, parseVersion, runClient, startServer, type Iperf3Server } from '../src/runners/iperf3.js';
import { execArgs, execOk } from '../src/util/exec.js';

// Real iperf3 3.12 output captured between two namespaces (see the report for how).
const fixture = (name: string) => readFileSync(new URL(`./fixtures/iperf3/${name}`, import.meta.url), 'utf8');
const okParse = (name: string) => {
  const r = parse(fixture(name));
  if (!r.ok) throw new Error(`${name}: ${r.error}`);
  return r;
};

describe('parse (fixtures)', () => {
  it('TCP, 1 stream: receiver bitrate, retransmits, cpu', () => {
    const r = okParse('tcp-1stream.json');
    expect(r).toMatchObject({ protocol: 'tcp', streams: 1, bytes: 2343305216, retransmits: 15134 });
    expect(r.bitsPerSecond).toBeCloseTo(18735425297.92482, 3); // sum_received, not sum_sent
    expect(r.seconds).toBeCloseTo(1.000588, 6);
    expect(r.cpu?.localTotal).toBeCloseTo(92.81, 2);
    expect(r.cpu?.remoteTotal).toBeCloseTo(44.47, 2);
    expect(r.jitterMs).toBeUndefined();
  });

  it('TCP, 4 streams', () => {
    const r = okParse('tcp-4streams.json');
    expect(r).toMatchObject({ protocol: 'tcp', streams: 4, bytes: 3978821632 });
    expect(r.bitsPerSecond).toBeCloseTo(31810977493.86378, 3);
    expect(r.retransmits).toBeGreaterThanOrEqual(0);
  });

  it('UDP at 100M: receiver figure and loss fields', () => {
    const r = okParse('udp-100M.json');
    expect(r).toMatchObject({ protocol: 'udp', streams: 1, packets: 8626, lostPackets: 0, lostPercent: 0 });
    expect(r.bitsPerSecond).toBeCloseTo(99905700.879542574, 3); // end.sum_received
    expect(r.bitsPerSecond).toBeGreaterThan(95e6);
    expect(r.jitterMs).toBeCloseTo(0.00534, 5);
    expect(r.retransmits).toBeUndefined();
  });

  it('UDP with loss: receiver bytes and bitrate, not end.sum (which is the sender’s)', () => {
    const r = okParse('udp-lossy.json');
    expect(r).toMatchObject({ protocol: 'udp', lostPackets: 655, packets: 184753, bytes: 257733000 });
    expect(r.lostPercent).toBeCloseTo(0.3545, 4);
    expect(r.bitsPerSecond).toBeCloseTo(2061725864.3670874, 3);
  });

  it('connection refused is a failure with iperf3’s reason', () => {
    expect(parse(fixture('refused.json'))).toEqual({ ok: false, error: 'unable to connect to server: Connection refused' });
  });

  it('server killed (SIGKILL) mid-test is a failure', () => {
    expect(parse(fixture('server-killed.json'))).toEqual({
      ok: false,
      error: 'unable to write to stream socket: Connection reset by peer',
    });
  });

  it('server terminated (SIGTERM) mid-test is a failure even though a partial "end" is present', () => {
    const raw = fixture('server-terminated.json');
    expect(JSON.parse(raw).end.sum_sent.bytes).toBeGreaterThan(0);
    expect(parse(raw)).toEqual({ ok: false, error: 'the server has terminated' });
  });

  it('zero bytes received is a failure, not a zero figure', () => {
    // The real terminated run minus its "error" key: sum_received.bytes is 0.
    const doc = JSON.parse(fixture('server-terminated.json'));
    delete doc.error;
    const r = parse(JSON.stringify(doc));
    expect(r.ok).toBe(false);
    expect(!r.ok && r.error).toMatch(/no data \(0 bytes\)/);
  });

  it('truncated, empty and non-iperf3 output', () => {
    expect(parse(fixture('truncated.json'))).toEqual({ ok: false, error: 'iperf3 output was truncated or not JSON' });
    expect(parse('')).toEqual({ ok: false, error: 'iperf3 produced no output' });
    expect(parse('  \n')).toEqual({ ok: false, error: 'iperf3 produced no output' });
    expect(parse('[1,2]')).toEqual({ ok: false, error: 'iperf3 output was truncated or not JSON' });
    const noEnd = JSON.parse(fixture('tcp-1stream.json'));
    delete noEnd.end.sum_received;
    expect(parse(JSON.stringify(noEnd))).toEqual({ ok: false, error: 'unexpected iperf3 JSON: end.sum_received: Required' });
  });
});

describe('parseVersion / clientArgv', () => {
  it('parses iperf3 --version', () => {
    expect(parseVersion('iperf 3.12 (cJSON 1.7.15)\nLinux vm 6.18 ...')).toBe('3.12');
    expect(parseVersion('iperf 3.16+ (cJSON 1.7.15)')).toBe('3.16+');
    expect(parseVersion('something else')).toBeUndefined();
  });

  it('builds argument arrays', () => {
    const base = { ns: 'n1', target: '198.18.0.1', port: 5201, seconds: 2 };
    expect(clientArgv({ ...base, protocol: 'tcp' })).toEqual([
      'ip',
      'netns',
      'exec',
      'n1',
      'iperf3',
      '-c',
      '198.18.0.1',
      '-p',
      '5201',
      '-J',
      '-t',
      '2',
      '-i',
      '0.2',
    ]);
    expect(clientArgv({ ...base, protocol: 'udp', streams: 4, udpRate: '1G', length: 1400 }).slice(5)).toEqual([
      '-c',
      '198.18.0.1',
      '-p',
      '5201',
      '-J',
      '-t',
      '2',
      '-i',
      '0.2',
      '-P',
      '4',
      '-u',
      '-b',
      '1G',
      '-l',
      '1400',
    ]);
    expect(() => clientArgv({ ...base, protocol: 'tcp', udpRate: '1G' })).toThrow(/only to UDP/);
    expect(() => clientArgv({ ...base, protocol: 'udp', udpRate: '1G; rm' })).toThrow(/UDP rate/);
    expect(() => clientArgv({ ...base, protocol: 'tcp', port: 0 })).toThrow(/port/);
    expect(() => clientArgv({ ...base, protocol: 'tcp', seconds: 0.5 })).toThrow(/duration/);
  });
});

describe('iperf3 between two namespaces (integration)', () => {
  const A = 'cnl-itest-iperf-a';
  const B = 'cnl-itest-iperf-b';
  const ip = (...args: string[]) => execOk('ip', args);
  const netnsList = async () => (await execOk('ip', ['netns', 'list'])).stdout;
  const alive = (pid: number) => {
    try {
      process.kill(pid, 0);
      return true;
    } catch {
      return false;
    }
  };
  const spawned: number[] = [];
  let server: Iperf3Server | undefined;

  beforeAll(async () => {
    for (const ns of [A, B]) await execArgs('ip', ['netns', 'del', ns]); // leftovers of a crashed run
    await ip('netns', 'add', A);
    await ip('netns', 'add', B);
    await ip('link', 'add', 'cnlit-ipa', 'netns', A, 'type', 'veth', 'peer', 'name', 'cnlit-ipb', 'netns', B);
    await ip('-n', A, 'addr', 'add', '198.18.0.1/24', 'dev', 'cnlit-ipa');
    await ip('-n', B, 'addr', 'add', '198.18.0.2/24', 'dev', 'cnlit-ipb');
    for (const [ns, dev] of [
      [A, 'cnlit-ipa'],
      [B, 'cnlit-ipb'],
    ]) {
      await ip('-n', ns, 'link', 'set', 'lo', 'up');
      await ip('-n', ns, 'link', 'set', dev, 'up');
    }
  });

  afterAll(async () => {
    await server?.stop();
    for (const pid of spawned) if (alive(pid)) process.kill(pid, 'SIGKILL');
    for (const ns of [A, B]) await execArgs('ip', ['netns', 'del', ns]);
    expect(await netnsList()).not.toMatch(/cnl-itest-iperf/);
    for (const pid of spawned) expect(alive(pid)).toBe(false);
  });

  it('check() finds iperf3', async () => {
    expect(await check()).toMatchObject({ ok: true, tool: 'iperf3', version: expect.stringMatching(/^3\./) });
  });

  it('serves TCP and UDP, then stops', async () => {
    let reported: number | undefined;
    server = await startServer({
      ns: A,
      port: 5201,
      onSpawn: (pid) => {
        reported = pid;
        spawned.push(pid);
      },
    });
    expect(reported).toBe(server.pid);
    expect(readFileSync(`/proc/${server.pid}/comm`, 'utf8').trim()).toBe('iperf3'); // ip netns exec execs in place

    const tcp = await runClient({ ns: B, target: '198.18.0.1', port: 5201, seconds: 1, protocol: 'tcp' });
    expect(tcp.argv.slice(0, 5)).toEqual(['ip', 'netns', 'exec', B, 'iperf3']);
    expect(tcp.result).toMatchObject({ ok: true, protocol: 'tcp', streams: 1 });
    if (tcp.result.ok) expect(tcp.result.bitsPerSecond).toBeGreaterThan(0);

    const udp = await runClient({ ns: B, target: '198.18.0.1', port: 5201, seconds: 1, protocol: 'udp', udpRate: '100M' });
    expect(udp.result).toMatchObject({ ok: true, protocol: 'udp' });
    if (udp.result.ok) {
      expect(udp.result.bitsPerSecond).toBeGreaterThan(50e6);
      expect(udp.result.packets).toBeGreaterThan(0);
    }

    // A second server on the same port fails with iperf3's own reason.
    await expect(startServer({ ns: A, port: 5201, onSpawn: (pid) => spawned.push(pid) })).rejects.toThrow(
      /exited .*before it was ready.*Address already in use/,
    );

    const pid = server.pid;
    await server.stop();
    await server.stop(); // idempotent
    expect(alive(pid)).toBe(false);
  });

  it('a client with no server is a parsed failure, not a rejection', async () => {
    const r = await runClient({ ns: B, target: '198.18.0.1', port: 5299, seconds: 1, protocol: 'tcp' });
    expect(r.result).toEqual({ ok: false, error: 'unable to connect to server: Connection refused' });
  });

  it('a server that is not ready in time is killed', async () => {
    let pid = 0;
    const p = startServer({
      ns: A,
      port: 5202,
      readyTimeoutMs: 1,
      onSpawn: (p) => {
        pid = p;
        spawned.push(p);
      },
    });
    await expect(p).rejects.toThrow(/not ready within 1 ms; killed it/);
    expect(alive(pid)).toBe(false);
  });

  it('a failing onSpawn does not leave the server behind', async () => {
    let pid = 0;
    const p = startServer({
      ns: A,
      port: 5203,
      onSpawn: (p) => {
        pid = p;
        spawned.push(p);
        throw new Error('state file');
      },
    });
    await expect(p).rejects.toThrow('state file');
    expect(alive(pid)).toBe(false);
  });

  it('a missing namespace is reported with ip’s stderr', async () => {
    await expect(startServer({ ns: 'cnl-itest-iperf-none', port: 5201 })).rejects.toThrow(/cnl-itest-iperf-none/);
  });
});
