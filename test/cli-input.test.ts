import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { schemeNames } from '../src/schemes/registry.js';
import { cli, createdSince, snapshot } from './helpers/lab.js';

/**
 * Bad input: `run` and `up` must refuse it before building anything — exit 2, one "cnlab: " line
 * on stderr naming the problem, nothing on stdout, no namespace and no state file created.
 */

const LAB = `ci${Math.random().toString(36).slice(2, 8)}`;
let dir: string;

const YAML_FILES: Record<string, string> = {
  'bad-indent.yaml': 'hosts: 2\n  lab: x\n',
  'unclosed.yaml': 'hosts: [1, 2\nlab: x\n',
  'unknown-key.yaml': 'hosts: 2\nfrobnicate: true\n',
  'unknown-nested.yaml': 'underlay:\n  cidr: 198.18.0.0/24\n  speed: 10G\n',
  'list.yaml': '- hosts\n- 2\n',
};

interface Case {
  name: string;
  /** Arguments after the command and the scheme (calico unless `scheme` says). */
  args: string[];
  scheme?: string;
  /** What the one stderr line must say. */
  says: RegExp;
  /** Flags only `run` has. */
  runOnly?: boolean;
}

const file = (name: string) => join(dir, name);

const CASES: Case[] = [
  { name: 'unknown scheme', scheme: 'nosuch', args: [], says: /unknown scheme "nosuch".*valid schemes: / },
  {
    name: 'underlay inside the pod network',
    args: ['--underlay', '198.19.1.0/24'],
    says: /underlay 198\.19\.1\.0\/24 overlaps the pod network 198\.19\.0\.0\/16/,
  },
  {
    name: 'underlay outside 198.18.0.0/15',
    args: ['--underlay', '192.0.2.0/24'],
    says: /underlay 192\.0\.2\.0\/24 is outside the benchmark range.*--allow-addresses/,
  },
  {
    name: 'pods outside 198.18.0.0/15',
    args: ['--pods', '10.0.0.0/16'],
    says: /pod network 10\.0\.0\.0\/16 is outside the benchmark range/,
  },
  {
    name: 'too many hosts for the underlay',
    args: ['--underlay', '198.18.0.0/29', '--hosts', '10'],
    says: /10 hosts do not fit the underlay 198\.18\.0\.0\/29/,
  },
  {
    name: 'too many containers for the pod block',
    args: ['--pod-block', '28', '--containers', '20'],
    says: /21 containers on a host do not fit a \/28 pod block/,
  },
  { name: 'YAML with broken indentation', args: ['-t', 'bad-indent.yaml'], says: /bad YAML in .*bad-indent\.yaml/ },
  { name: 'YAML with an unclosed bracket', args: ['-t', 'unclosed.yaml'], says: /bad YAML in .*unclosed\.yaml/ },
  { name: 'unknown key in YAML', args: ['-t', 'unknown-key.yaml'], says: /unknown-key\.yaml: unknown key "frobnicate"/ },
  { name: 'unknown nested key in YAML', args: ['-t', 'unknown-nested.yaml'], says: /unknown key "speed" in underlay/ },
  { name: 'YAML that is not a mapping', args: ['-t', 'list.yaml'], says: /list\.yaml: expected a mapping/ },
  { name: 'missing topology file', args: ['-t', 'absent.yaml'], says: /cannot read topology file .*absent\.yaml: ENOENT/ },
  { name: 'negative hosts', args: ['--hosts', '-1'], says: /hosts must be at least 2/ },
  { name: 'negative containers', args: ['--containers', '-3'], says: /containersPerHost must be at least 1/ },
  { name: 'non-numeric hosts', args: ['--hosts', 'two'], says: /hosts must be number, got string/ },
  { name: 'MTU too small', args: ['--mtu', '100'], says: /underlay\.mtu must be at least 1280/ },
  { name: 'bad lab name', args: ['--lab', 'Bad_Name'], says: /lab must be 1-16 lowercase letters/ },
  { name: 'unknown option', args: ['--frobnicate'], says: /unknown option '--frobnicate'/ },
  {
    name: 'a scheme without an encrypted variant',
    args: ['--encrypt'],
    says: /--encrypt: scheme "calico" has no encrypted variant.*with --encrypt: flannel-udp, weave-sleeve/,
  },
  {
    name: '--encrypt with a preset',
    args: ['--encrypt', '--preset', 's1-cloud'],
    says: /--encrypt picks schemes; --preset brings its own/,
    runOnly: true,
  },
  { name: 'zero repeats', args: ['--repeats', '0'], says: /--repeats must be a whole number from 1 to 100, got "0"/, runOnly: true },
  { name: 'non-numeric duration', args: ['--duration', 'abc'], says: /--duration must be a whole number .*got "abc"/, runOnly: true },
  { name: 'bad UDP rate', args: ['--udp-rate', 'fast'], says: /--udp-rate must be a rate like 500M or 1G, got "fast"/, runOnly: true },
];

const ROWS = CASES.flatMap((c) => (c.runOnly ? ['run'] : ['run', 'up']).map((cmd) => ({ cmd, c, title: `${cmd}: ${c.name}` })));

/** The lab a command would build: every case names one with --lab. */
const labOf = (args: string[]) => args[args.lastIndexOf('--lab') + 1];

function argv(cmd: string, c: Case): string[] {
  const args = c.args.map((a) => (a.endsWith('.yaml') ? file(a) : a));
  const lab = args.includes('--lab') ? [] : ['--lab', LAB];
  return [cmd, c.scheme ?? 'calico', ...args, ...lab];
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'cnl-cli-input-'));
  for (const [name, text] of Object.entries(YAML_FILES)) await writeFile(file(name), text);
});

afterAll(async () => {
  // Only if a case wrongly built something: remove our own lab.
  if (existsSync(`/run/cnlab/${LAB}.json`)) await cli(['down', LAB]);
  await rm(dir, { recursive: true, force: true });
});

describe('bad input is refused before anything is built', () => {
  it.each(ROWS)('$title', async ({ cmd, c }) => {
    const args = argv(cmd, c);
    const before = await snapshot();
    const r = await cli(args, { timeoutMs: 30_000 });
    const created = await createdSince(before, [labOf(args)]);
    expect(r.stderr).toMatch(/^cnlab: [^\n]+\n$/);
    expect(r.stderr).toMatch(c.says);
    expect(r.stdout).toBe('');
    expect(r.code).toBe(2);
    expect(created).toEqual([]);
  });

  it('the unknown-scheme line lists every valid scheme', async () => {
    const r = await cli(['run', 'nosuch', '--lab', LAB]);
    expect(r.code).toBe(2);
    for (const name of schemeNames()) expect(r.stderr).toContain(name);
  });
});

describe('--encrypt', () => {
  it('plan and up take the encrypted variant; the host baseline stays itself', async () => {
    const r = await cli(['plan', 'flannel-udp', '--encrypt', '--lab', LAB]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain('genkey');
    expect(r.stdout).toMatch(/--key \S+ --record \d+/);
    const h = await cli(['plan', 'host', '--encrypt', '--lab', LAB]);
    expect(h.code, h.stderr).toBe(0);
    expect(h.stdout).not.toContain('genkey');
  });

  it('is refused with --cni', async () => {
    const r = await cli(['plan', '--cni', file('absent.conflist'), '--encrypt', '--lab', LAB]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^cnlab: --encrypt applies to cnlab's schemes, not to --cni\n$/);
  });
});

describe('--allow-addresses', () => {
  it('lets plan accept 192.0.2.0/24 and creates nothing', async () => {
    const before = await snapshot();
    const r = await cli(['plan', 'host', '--lab', LAB, '--underlay', '192.0.2.0/24', '--allow-addresses']);
    expect(await createdSince(before, [LAB])).toEqual([]);
    expect(r.code).toBe(0);
    expect(r.stderr).toBe('');
    expect(r.stdout).toMatch(/^#!\/bin\/sh\n/);
    expect(r.stdout).toContain(`addr add 192.0.2.1/24 dev eth0`);
  });

  it('without it, plan refuses the same range', async () => {
    const r = await cli(['plan', 'host', '--lab', LAB, '--underlay', '192.0.2.0/24']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^cnlab: .*outside the benchmark range[^\n]*\n$/);
  });
});
