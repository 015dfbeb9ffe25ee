import { describe, expect, it } from 'vitest';
import { cli, labNamespaces, lines } from './helpers/lab.js';

/** `cnlab presets` and the measurement flags' input checks, through the built CLI (lab "rflags"). */

const LAB = 'rflags';

describe('cnlab presets', () => {
  it('lists every preset on one line with its description', async () => {
    const r = await cli(['presets']);
    expect(r.code, r.stderr).toBe(0);
    const out = lines(r.stdout);
    expect(out.map((l) => l.split(/\s+/)[0])).toEqual(['s1-cloud', 's2-production', 's3-k8s', 's4-docker']);
    expect(out[0]).toMatch(/qperf tcp_bw \+ tcp_lat/);
  });
});

describe('cnlab run: bad measurement input is one line, exit 2, nothing created', () => {
  it.each([
    [['--cpus', '7-3'], /--cpus: range 7-3 runs backwards/],
    [['--cpus', '64'], /--cpus 64: this machine has CPUs 0-/],
    [['--preset', 'nope'], /unknown preset "nope" — presets: s1-cloud, s2-production, s3-k8s, s4-docker/],
    [['--offloads', 'maybe'], /offloads must be on or off/],
    [['--warmup', '-1'], /--warmup must be a whole number/],
    [['--sizes', '64K:1:*2'], /invalid size sweep/],
    [['--preset', 's1-cloud', '--full'], /do not go together/],
  ])('%j', async (args, re) => {
    const r = await cli(['run', 'host', '--lab', LAB, ...args]);
    expect(r.code).toBe(2);
    expect(lines(r.stderr)).toHaveLength(1);
    expect(r.stderr).toMatch(re);
    expect(labNamespaces(LAB)).toEqual([]);
  });
});
