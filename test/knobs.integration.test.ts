import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { unsupportedReason } from '../src/apply/up.js';
import { labStateFile } from '../src/lab/paths.js';
import { parseEthtoolFeatures } from '../src/measure/environment.js';
import type { ResultFile } from '../src/result/types.js';
import { getScheme } from '../src/schemes/registry.js';
import { cli, labNamespaces, pidsIn, sh } from './helpers/lab.js';

/**
 * The environment knobs really take effect: --offloads off changes the devices (read back with
 * ethtool -k), --cpus 0 confines every process of the lab (read from /proc while it runs), --pin
 * puts the server on its own core. Labs "knoboff", "knobcpu", "knobpin".
 */

const OFF = 'knoboff';
const CPU = 'knobcpu';
const PIN = 'knobpin';
const out = mkdtempSync(join(tmpdir(), 'cnlab-knobs-'));

afterAll(async () => {
  for (const lab of [OFF, CPU, PIN]) if (existsSync(labStateFile(lab))) await cli(['down', lab]);
  rmSync(out, { recursive: true, force: true });
  for (const lab of [OFF, CPU, PIN]) expect(labNamespaces(lab), `namespaces of ${lab} left behind`).toEqual([]);
});

const ethtoolK = async (ns: string, dev: string) =>
  parseEthtoolFeatures((await sh('ip', ['netns', 'exec', ns, 'ethtool', '-k', dev])).stdout);
const status = (pid: number) => {
  try {
    const s = readFileSync(`/proc/${pid}/status`, 'utf8');
    return { comm: /^Name:\s*(\S+)/m.exec(s)?.[1] ?? '?', cpus: /^Cpus_allowed_list:\s*(\S+)/m.exec(s)?.[1] ?? '?' };
  } catch {
    return undefined; // gone meanwhile
  }
};

describe('--offloads off', () => {
  it('turns tso/gso/gro/tx/rx off on the underlay, the VXLAN device and the workloads (read back with ethtool -k)', async () => {
    const before = await cli(['up', 'flannel-vxlan', '--lab', OFF]);
    expect(before.code, before.stderr).toBe(0);
    // the kernel's default on a veth is on: the knob is what changes it
    expect((await ethtoolK(`cnl-${OFF}-h1`, 'eth0'))['generic-segmentation-offload']).toBe('on');
    expect((await cli(['down', OFF])).code).toBe(0);

    const r = await cli(['up', 'flannel-vxlan', '--lab', OFF, '--offloads', 'off']);
    expect(r.code, r.stderr).toBe(0);
    const devices: Array<[string, string]> = [
      ['h1', 'eth0'],
      ['h2', 'eth0'],
      ['h1', 'flannel.1'],
      ['h2', 'flannel.1'],
      ['h1c1', 'eth0'],
      ['h2c1', 'eth0'],
    ];
    for (const [node, dev] of devices) {
      const f = await ethtoolK(`cnl-${OFF}-${node}`, dev);
      expect(Object.keys(f).sort(), `${node} ${dev}`).toEqual([
        'generic-receive-offload',
        'generic-segmentation-offload',
        'rx-checksumming',
        'tcp-segmentation-offload',
        'tx-checksumming',
      ]);
      for (const [k, v] of Object.entries(f)) expect(v, `${node} ${dev} ${k}`).toBe('off');
    }
    expect((await cli(['down', OFF])).code).toBe(0);
    expect(labNamespaces(OFF)).toEqual([]);
  });

  it('rejects a bad value before creating anything', async () => {
    const r = await cli(['up', 'host', '--lab', OFF, '--offloads', 'maybe']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/offloads must be on or off/);
    expect(labNamespaces(OFF)).toEqual([]);
  });
});

describe('--cpus 0', () => {
  it('confines every process of the lab — servers, clients, daemons — to CPU 0', async () => {
    // flannel-udp has userspace daemons; it joins when this machine can build it.
    const daemonScheme = (await unsupportedReason(getScheme('flannel-udp'))) ? [] : ['flannel-udp'];
    const file = join(out, 'cpus', 'result.json');
    const run = cli(
      [
        'run',
        'host',
        ...daemonScheme,
        '--lab',
        CPU,
        '--cpus',
        '0',
        '--duration',
        '2',
        '--repeats',
        '1',
        '--warmup',
        '0',
        '--out',
        join(out, 'cpus'),
        '--json',
      ],
      { timeoutMs: 120_000 },
    );
    let done = false;
    void run.then(() => (done = true));
    const seen = new Map<number, { comm: string; cpus: string }>();
    while (!done) {
      for (const pid of await pidsIn(labNamespaces(CPU))) {
        const s = status(pid);
        if (s && s.comm !== 'ip') seen.set(pid, s); // `ip netns exec` before it execs the tool
      }
      await new Promise((r) => setTimeout(r, 100));
    }
    const r = await run;
    const comms = new Set([...seen.values()].map((s) => s.comm));
    expect(comms.has('iperf3'), `saw ${[...comms].join(', ')}`).toBe(true);
    expect(comms.has('qperf'), `saw ${[...comms].join(', ')}`).toBe(true);
    for (const [pid, s] of seen) expect(s.cpus, `${s.comm} (${pid})`).toBe('0');
    const result = JSON.parse(readFileSync(file, 'utf8')) as ResultFile;
    expect(result.options.knobs).toMatchObject({ cpus: '0', pin: false });
    const hostRuns = result.schemes[0].tests.flatMap((t) => t.runs);
    expect(hostRuns.length).toBeGreaterThan(0);
    for (const run of hostRuns) {
      expect(run.affinity, JSON.stringify(run.error)).toEqual({ client: '0', server: '0' });
      expect(run.argv.slice(0, 3)).toEqual(['taskset', '-c', '0']);
    }
    const udp = result.schemes.find((s) => s.name === 'flannel-udp');
    if (udp?.status === 'ok')
      expect([...comms].filter((c) => !['iperf3', 'qperf'].includes(c)).length, `daemons among ${[...comms].join(', ')}`).toBeGreaterThan(
        0,
      );
    expect(r.code, r.stderr).toBe(0);
  });
});

describe('--pin', () => {
  it('puts the client on the first CPU and the server on the second', async () => {
    const r = await cli([
      'run',
      'host',
      '--lab',
      PIN,
      '--pin',
      '--duration',
      '1',
      '--repeats',
      '1',
      '--warmup',
      '0',
      '--no-same-host',
      '--out',
      join(out, 'pin'),
      '--json',
    ]);
    expect(r.code, r.stderr).toBe(0);
    const result = JSON.parse(readFileSync(join(out, 'pin', 'result.json'), 'utf8')) as ResultFile;
    expect(result.options.knobs?.pin).toBe(true);
    const tcp = result.schemes[0].tests.find((t) => t.id === 'tcp-1/cross')!;
    expect(tcp.runs[0].affinity).toEqual({ client: '0', server: '1' });
    expect(tcp.runs[0].argv.slice(0, 3)).toEqual(['taskset', '-c', '0']);
  });
});
