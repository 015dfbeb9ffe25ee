import { copyFile, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { cniShell } from '../src/cni/render.js';
import { cniAdd, cniDel, PLUGIN_PATH, type CniInvocation, type CniResult } from '../src/cni/runtime.js';
import { InputError, RunError } from '../src/errors.js';
import type { CniConfList } from '../src/cni/types.js';
import { execArgs } from '../src/util/exec.js';
import { addNs, delNs, FIXTURES, listNs, nsIdentity } from './fixtures/cni/netns.js';

/**
 * The runtime against fake plugins (test/fixtures/cni/fake-plugin.sh) that record their env and
 * stdin. They run for real through `ip netns exec` in a namespace this file creates.
 */

const NS = 'cnl-itest-cni-u1';
const NETNS = `/run/netns/${NS}`;

const resultOf = (tag: string): CniResult => ({
  cniVersion: '1.0.0',
  interfaces: [{ name: 'eth0', sandbox: NETNS, mac: '0a:00:00:00:00:01' }],
  ips: [{ address: '198.19.9.2/24', gateway: '198.19.9.1', interface: 0 }],
  dns: { domain: tag },
});

const list: CniConfList = {
  cniVersion: '1.0.0',
  name: 'fake-net',
  plugins: [
    { type: 'fake-a', ipam: { type: 'fake-ipam' }, capabilities: { portMappings: false } },
    { type: 'fake-b', capabilities: { bandwidth: true } },
    { type: 'fake-c', mtu: 1400 },
  ],
};

interface Call {
  plugin: string;
  command: string;
  env: Record<string, string>;
  stdin: Record<string, unknown>;
  netns: string;
}

let dir: string;
let hostIdentity: string;

async function calls(): Promise<Call[]> {
  const files = (await readdir(join(dir, 'calls')).catch(() => [] as string[])).filter((f) => f.endsWith('.name')).sort();
  return Promise.all(
    files.map(async (f) => {
      const base = join(dir, 'calls', f.slice(0, -'.name'.length));
      const [plugin = '', command = ''] = (await readFile(`${base}.name`, 'utf8')).trim().split(' ');
      const env = Object.fromEntries(
        (await readFile(`${base}.env`, 'utf8'))
          .split('\n')
          .filter(Boolean)
          .map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]),
      );
      const stdin = JSON.parse(await readFile(`${base}.stdin`, 'utf8')) as Record<string, unknown>;
      return { plugin, command, env, stdin, netns: (await readFile(`${base}.netns`, 'utf8')).trim() };
    }),
  );
}

const behave = (file: string, text: string) => writeFile(join(dir, file), text);

function inv(over: Partial<CniInvocation> = {}): CniInvocation {
  return {
    conflist: list,
    containerId: 'ctr-1',
    netnsPath: NETNS,
    ifName: 'eth0',
    hostNs: NS,
    cniPath: dir,
    runtimeConfig: { bandwidth: { ingressRate: 1000, ingressBurst: 100 }, portMappings: [{ hostPort: 8080 }] },
    source: 'my.conflist',
    ...over,
  };
}

beforeAll(async () => {
  await addNs(NS);
  hostIdentity = await nsIdentity(NS);
});

afterAll(async () => {
  await delNs(NS);
  expect(await listNs()).not.toContain(NS);
});

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'cnl-cni-fake-'));
  for (const name of ['fake-a', 'fake-b', 'fake-c', 'fake-ipam']) await copyFile(join(FIXTURES, 'fake-plugin.sh'), join(dir, name));
  await Promise.all(['fake-a', 'fake-b', 'fake-c', 'fake-ipam'].map((n) => execArgs('chmod', ['755', join(dir, n)])));
  for (const tag of ['a', 'b', 'c']) await behave(`fake-${tag}.add.out`, JSON.stringify(resultOf(tag)));
  return () => rm(dir, { recursive: true, force: true });
});

describe('cniAdd with fake plugins', () => {
  it('runs every plugin in the host namespace with the CNI environment', async () => {
    process.env.CNL_TEST_LEAK = 'must-not-reach-plugins';
    try {
      await cniAdd(inv());
    } finally {
      delete process.env.CNL_TEST_LEAK;
    }
    const seen = await calls();
    expect(seen.map((c) => `${c.plugin} ${c.command}`)).toEqual(['fake-a ADD', 'fake-b ADD', 'fake-c ADD']);
    for (const call of seen) {
      expect(call.env).toMatchObject({
        CNI_COMMAND: 'ADD',
        CNI_CONTAINERID: 'ctr-1',
        CNI_NETNS: NETNS,
        CNI_IFNAME: 'eth0',
        CNI_PATH: dir,
        PATH: PLUGIN_PATH,
      });
      expect(call.env.CNL_TEST_LEAK).toBeUndefined();
      expect(call.env.HOME).toBeUndefined();
      expect(call.netns).toBe(hostIdentity);
    }
  });

  it('chains prevResult and filters runtimeConfig by capabilities', async () => {
    const result = await cniAdd(inv());
    expect(result).toEqual(resultOf('c'));
    const [a, b, c] = (await calls()).map((x) => x.stdin);
    expect(a).toEqual({ cniVersion: '1.0.0', name: 'fake-net', ...list.plugins[0] });
    expect(b).toEqual({
      cniVersion: '1.0.0',
      name: 'fake-net',
      type: 'fake-b',
      capabilities: { bandwidth: true },
      runtimeConfig: { bandwidth: { ingressRate: 1000, ingressBurst: 100 } },
      prevResult: resultOf('a'),
    });
    expect(c).toEqual({ cniVersion: '1.0.0', name: 'fake-net', type: 'fake-c', mtu: 1400, prevResult: resultOf('b') });
  });

  it('turns the spec error JSON into one RunError line, then DELs the whole list', async () => {
    await behave('fake-b.add.out', JSON.stringify({ cniVersion: '1.0.0', code: 11, msg: 'failed to set up', details: 'no bridge' }));
    await behave('fake-b.add.exit', '1');
    const err = await cniAdd(inv()).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RunError);
    expect((err as Error).message).toBe('CNI plugin fake-b failed (code 11): failed to set up: no bridge');
    const seen = await calls();
    expect(seen.map((c) => `${c.plugin} ${c.command}`)).toEqual(['fake-a ADD', 'fake-b ADD', 'fake-c DEL', 'fake-b DEL', 'fake-a DEL']);
    for (const del of seen.slice(2)) expect(del.stdin.prevResult).toEqual(resultOf('a'));
  });

  it('reports a crash or non-JSON output with stderr', async () => {
    await behave('fake-a.add.out', 'panic: runtime error');
    await behave('fake-a.add.stderr', 'goroutine 1 [running]:\nboom at main.go:12\n');
    await behave('fake-a.add.exit', '2');
    await expect(cniAdd(inv())).rejects.toThrow(
      'CNI plugin fake-a exited 2 on ADD without an error result: goroutine 1 [running]:; boom at main.go:12',
    );
  });

  it('rejects a successful exit with a bad result', async () => {
    await behave('fake-c.add.out', 'ok');
    await expect(cniAdd(inv())).rejects.toThrow('CNI plugin fake-c returned a bad ADD result: not a JSON result: ok');
  });

  it('refuses a missing plugin or IPAM plugin before running anything', async () => {
    const missing = { ...list, plugins: [...list.plugins, { type: 'foo' }] };
    const err = await cniAdd(inv({ conflist: missing })).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(InputError);
    expect((err as Error).message).toBe(`CNI plugin "foo" not found in ${dir} (from my.conflist)`);
    await rm(join(dir, 'fake-ipam'));
    await expect(cniDel(inv())).rejects.toThrow(`CNI plugin "fake-ipam" not found in ${dir} (from my.conflist)`);
    expect(await calls()).toEqual([]);
  });

  it('refuses plugin types that are paths and bad parameters', async () => {
    const evil = { ...list, plugins: [{ type: '../fake-a' }] };
    await expect(cniAdd(inv({ conflist: evil }))).rejects.toThrow(InputError);
    await expect(cniAdd(inv({ containerId: 'a b' }))).rejects.toThrow(/container id "a b"/);
    await expect(cniAdd(inv({ ifName: 'eth0/x' }))).rejects.toThrow(/interface name/);
    await expect(cniAdd(inv({ netnsPath: '/run/netns/cnl-itest-cni-none' }))).rejects.toThrow(/does not exist/);
    expect(await calls()).toEqual([]);
  });
});

describe('cniDel with fake plugins', () => {
  it('runs the plugins in reverse with the ADD result as prevResult', async () => {
    const added = resultOf('final');
    await cniDel(inv({ prevResult: added }));
    const seen = await calls();
    expect(seen.map((c) => `${c.plugin} ${c.command}`)).toEqual(['fake-c DEL', 'fake-b DEL', 'fake-a DEL']);
    for (const call of seen) {
      expect(call.env.CNI_COMMAND).toBe('DEL');
      expect(call.stdin.prevResult).toEqual(added);
    }
    expect(seen[1]!.stdin.runtimeConfig).toEqual({ bandwidth: { ingressRate: 1000, ingressBurst: 100 } });
  });

  it('keeps going after a failure and reports every failure', async () => {
    await behave('fake-c.del.out', JSON.stringify({ cniVersion: '1.0.0', code: 7, msg: 'bad c' }));
    await behave('fake-c.del.exit', '1');
    await behave('fake-a.del.exit', '3');
    const err = await cniDel(inv({ prevResult: resultOf('x') })).catch((e: unknown) => e);
    expect((await calls()).map((c) => c.plugin)).toEqual(['fake-c', 'fake-b', 'fake-a']);
    expect(err).toBeInstanceOf(RunError);
    expect((err as Error).message).toBe(
      'CNI DEL (my.conflist) failed in 2 plugins: CNI plugin fake-c failed (code 7): bad c; ' +
        'CNI plugin fake-a exited 3 on DEL without an error result: no output',
    );
  });
});

describe('cniShell with fake plugins', () => {
  it('the rendered chain feeds each plugin exactly what cniAdd does', async () => {
    const step = {
      kind: 'cni' as const,
      ns: NS,
      containerNs: NS,
      containerId: 'ctr-1',
      ifName: 'eth0',
      conflist: { ...list, plugins: [...list.plugins.slice(0, 2), { type: 'fake-c', note: 'it\'s $HOME `id` \\ "x"' }] },
      runtimeConfig: { bandwidth: { ingressRate: 1000, note: "it's quoted" } },
    };
    await cniAdd(inv({ conflist: step.conflist, runtimeConfig: step.runtimeConfig }));
    const viaRuntime = (await calls()).map((c) => c.stdin);
    await rm(join(dir, 'calls'), { recursive: true });
    for (const shell of ['bash', 'sh']) {
      const script = ['set -e', ...cniShell(step, dir)].join('\n');
      const res = await execArgs(shell, ['-c', script]);
      expect(res.stderr).toBe('');
      expect(res.code).toBe(0);
      expect(JSON.parse(res.stdout)).toEqual(resultOf('c'));
      expect((await calls()).map((c) => c.stdin)).toEqual(viaRuntime);
      await rm(join(dir, 'calls'), { recursive: true });
    }
  });

  it('a failing plugin stops the rendered script and shows its error', async () => {
    const step = { kind: 'cni' as const, ns: NS, containerNs: NS, containerId: 'c', ifName: 'eth0', conflist: list };
    await behave('fake-b.add.out', '{"code":11,"msg":"nope"}');
    await behave('fake-b.add.exit', '1');
    const res = await execArgs('bash', ['-c', ['set -e', ...cniShell(step, dir), 'echo not-reached'].join('\n')]);
    expect(res.code).not.toBe(0);
    expect(res.stderr).toContain('"msg":"nope"');
    expect(res.stdout).not.toContain('not-reached');
    expect((await calls()).map((c) => c.plugin)).toEqual(['fake-a', 'fake-b']);
  });
});
