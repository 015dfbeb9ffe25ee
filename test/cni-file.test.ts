import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ipArgs } from './helpers/argv.js';
import { InputError } from '../src/errors.js';
import { resolveLab } from '../src/lab/resolve.js';
import { loadTopology } from '../src/lab/topology.js';
import { planLab } from '../src/plan/build.js';
import { renderPlan } from '../src/plan/render.js';
import type { Step } from '../src/plan/types.js';
import { cniFromFlags, cniLabName, loadCniScheme, schemeArg, schemeFromConflist, withCniScheme } from '../src/schemes/cni-file.js';
import { getScheme } from '../src/schemes/registry.js';

/** --cni FILE as a scheme, without building anything: validation, the config cnlab hands each host, the plan. */

const FIX = fileURLToPath(new URL('./fixtures/conflists/', import.meta.url));
const BW = join(FIX, 'bridge-bandwidth.conflist');
const lab = resolveLab(loadTopology({ lab: 'cfu' }));
const cniSteps = (steps: Step[]) => steps.filter((s): s is Extract<Step, { kind: 'cni' }> => s.kind === 'cni');

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'cnl-cfu-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function conf(name: string, value: unknown): Promise<string> {
  const file = join(dir, name);
  await writeFile(file, typeof value === 'string' ? value : JSON.stringify(value));
  return file;
}

function inputError(fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(InputError);
    expect((e as Error).message).not.toContain('\n');
    return (e as Error).message;
  }
  throw new Error('expected an InputError');
}

describe('cniLabName', () => {
  it.each([
    ['bridge-bw', 'bridge-bw'],
    ['My_Net.v2', 'my-net-v2'],
    ['k8s-pod-network', 'k8s-pod-network'],
    ['10-containerd-net', 'cni-10-cont-eaa1'],
    // Past 16 characters: the first 11 and a digest of the whole name, so these two differ.
    ['a-very-long-network-name-indeed', 'a-very-long-5187'],
    ['a-very-long-network-name-too', 'a-very-long-6351'],
    ['x--__--y', 'x-y'],
  ])('%s → %s', (name, lab) => {
    expect(cniLabName(name)).toBe(lab);
    expect(cniLabName(name)).toMatch(/^[a-z](?:[a-z0-9-]{0,14}[a-z0-9])?$/);
  });
});

describe('schemeFromConflist', () => {
  const scheme = schemeFromConflist(BW);

  it('is named after the config and needs every plugin it names', () => {
    expect(scheme.name).toBe('bridge-bw');
    expect(scheme.attach).toBe('cni');
    expect(scheme.requires).toEqual([
      { kind: 'cni', plugin: 'bridge' },
      { kind: 'cni', plugin: 'host-local' },
      { kind: 'cni', plugin: 'bandwidth' },
    ]);
    expect(scheme.notes.join(' ')).toMatch(/cross-host fabric: none added by cnlab/);
  });

  it('gives each host its own pod block in host-local, keeps everything else of the config', () => {
    const { plan, build } = planLab(lab, scheme);
    const steps = cniSteps(plan.stages.flatMap((s) => s.steps));
    expect(steps.map((s) => [s.ns, s.containerNs, s.runtimeConfig])).toEqual([
      ['cnl-cfu-h1', 'cnl-cfu-h1c1', { ips: ['198.19.1.2/24'] }],
      ['cnl-cfu-h1', 'cnl-cfu-h1c2', { ips: ['198.19.1.3/24'] }],
      ['cnl-cfu-h2', 'cnl-cfu-h2c1', { ips: ['198.19.2.2/24'] }],
    ]);
    const [first, , third] = steps;
    expect(first.conflist.plugins[0]).toEqual({
      type: 'bridge',
      bridge: 'cni0',
      isGateway: true,
      ipMasq: false,
      hairpinMode: true,
      capabilities: { ips: true },
      ipam: {
        type: 'host-local',
        routes: [{ dst: '0.0.0.0/0' }],
        ranges: [[{ subnet: '198.19.1.0/24', gateway: '198.19.1.1' }]],
        dataDir: '/run/cnlab/cfu/ipam',
      },
    });
    expect((third.conflist.plugins[0].ipam as { ranges: unknown }).ranges).toEqual([[{ subnet: '198.19.2.0/24', gateway: '198.19.2.1' }]]);
    expect(first.conflist.plugins[1]).toEqual({
      type: 'bandwidth',
      ingressRate: 100000000,
      ingressBurst: 1000000,
      egressRate: 100000000,
      egressBurst: 1000000,
    });
    expect(first.conflist).toMatchObject({ cniVersion: '1.0.0', name: 'bridge-bw' });
    expect(build.workloads.map((w) => [w.node, w.ip])).toEqual([
      ['h1c1', '198.19.1.2'],
      ['h1c2', '198.19.1.3'],
      ['h2c1', '198.19.2.2'],
    ]);
    expect(build.mtu).toBe(1500);
  });

  it('adds no inter-host routes unless asked, one per peer block when asked', () => {
    const routes = (s: ReturnType<typeof schemeFromConflist>) =>
      planLab(lab, s)
        .plan.stages.flatMap((st) => st.steps)
        .flatMap((st) => (ipArgs(st)?.[0] === 'route' ? [`${st.ns} ${ipArgs(st)!.join(' ')}`] : []));
    expect(routes(scheme)).toEqual([]);
    const routed = schemeFromConflist(BW, { peerRoutes: true });
    expect(routes(routed)).toEqual([
      'cnl-cfu-h1 route add 198.19.2.0/24 via 198.18.0.2 dev eth0',
      'cnl-cfu-h2 route add 198.19.1.0/24 via 198.18.0.1 dev eth0',
    ]);
    expect(routed.notes.join(' ')).toMatch(/static peer routes added by cnlab/);
  });

  it('prints a script that runs the chain with prevResult and the lab name from the config', () => {
    const script = renderPlan(planLab(resolveLab(loadTopology({ lab: cniLabName(scheme.name) })), scheme).plan);
    expect(script).toContain('# CNI ADD cnl-bridge-bw-h1c1: bridge -> bandwidth');
    expect(script).toContain('"prevResult":');
    expect(script).toContain('/usr/lib/cni/bandwidth');
  });

  it('takes the MTU from the plugin carrying the IPAM', async () => {
    const file = await conf('mtu.conflist', {
      cniVersion: '1.0.0',
      name: 'm',
      plugins: [{ type: 'bridge', mtu: 1400, ipam: { type: 'host-local' } }],
    });
    expect(schemeFromConflist(file).build(lab, { preferred: false }).mtu).toBe(1400);
  });

  it.each([
    ['a missing file', null, /^cannot read CNI config .*nope\.conflist: ENOENT$/],
    ['malformed JSON', 'malformed.conflist', /^bad CNI config .*malformed\.conflist: not valid JSON/],
    [
      'no IPAM',
      { cniVersion: '1.0.0', name: 'n', plugins: [{ type: 'bridge' }] },
      /needs exactly one plugin with an "ipam" section, found 0$/,
    ],
    [
      'two IPAMs',
      {
        cniVersion: '1.0.0',
        name: 'n',
        plugins: [
          { type: 'bridge', ipam: { type: 'host-local' } },
          { type: 'x', ipam: { type: 'host-local' } },
        ],
      },
      /found 2$/,
    ],
    [
      'dhcp IPAM',
      { cniVersion: '1.0.0', name: 'n', plugins: [{ type: 'macvlan', ipam: { type: 'dhcp' } }] },
      /plugins\[0\]\.ipam\.type is "dhcp"; cnlab supports host-local only$/,
    ],
    [
      'a bad name',
      { cniVersion: '1.0.0', name: 'bad name', plugins: [{ type: 'bridge', ipam: { type: 'host-local' } }] },
      /name must start with a letter or digit/,
    ],
  ])('rejects %s with one line', async (_, value, expected) => {
    const file =
      value === null ? join(dir, 'nope.conflist') : typeof value === 'string' ? join(FIX, value) : await conf('bad.conflist', value);
    expect(inputError(() => schemeFromConflist(file))).toMatch(expected);
  });
});

describe('loadCniScheme', () => {
  it('names the missing plugin and the directory', () => {
    expect(inputError(() => loadCniScheme(join(FIX, 'missing-plugin.conflist'), {}, '/usr/lib/cni'))).toMatch(
      /^CNI plugin "cnl-no-such-plugin" not found in \/usr\/lib\/cni \(from .*missing-plugin\.conflist\)$/,
    );
  });

  it('passes when every plugin is in the directory', async () => {
    const bin = await mkdtemp(join(dir, 'bin-'));
    for (const p of ['bridge', 'host-local', 'bandwidth']) await writeFile(join(bin, p), '#!/bin/sh\n', { mode: 0o755 });
    expect(loadCniScheme(BW, {}, bin).name).toBe('bridge-bw');
    expect(inputError(() => loadCniScheme(join(FIX, 'plugin-error.conflist'), {}, bin))).toMatch(/CNI plugin "tuning" not found/);
  });
});

describe('the --cni flags', () => {
  it('--cni-peer-routes needs --cni', () => {
    expect(cniFromFlags({}, false)).toBeUndefined();
    expect(inputError(() => cniFromFlags({ cniPeerRoutes: true }, false))).toBe('--cni-peer-routes needs --cni FILE');
    expect(cniFromFlags({ cni: BW, cniPeerRoutes: true }, false)?.notes.join(' ')).toMatch(/static peer routes/);
  });

  it('plan/up take a scheme name or --cni, not both, not neither', () => {
    const cni = schemeFromConflist(BW);
    expect(schemeArg(undefined, cni, getScheme)).toMatchObject({ lab: 'bridge-bw', scheme: { name: 'bridge-bw' } });
    expect(schemeArg('canal', undefined, getScheme)).toMatchObject({ lab: 'canal', scheme: { name: 'canal' } });
    expect(inputError(() => schemeArg('canal', cni, getScheme))).toMatch(/not both/);
    expect(inputError(() => schemeArg(undefined, undefined, getScheme))).toBe('missing scheme');
  });

  it('run refuses a config named like a scheme of the run, or "host"', async () => {
    const cni = schemeFromConflist(BW);
    expect(withCniScheme([getScheme('canal')], cni).map((s) => s.name)).toEqual(['canal', 'bridge-bw']);
    const named = async (name: string) =>
      schemeFromConflist(
        await conf(`${name}.conflist`, { cniVersion: '1.0.0', name, plugins: [{ type: 'bridge', ipam: { type: 'host-local' } }] }),
      );
    const canal = await named('canal');
    expect(() => withCniScheme([getScheme('canal')], canal)).toThrow(/CNI config name "canal" is also the name of a scheme in this run/);
    expect(withCniScheme([getScheme('calico')], canal).map((s) => s.name)).toEqual(['calico', 'canal']);
    const host = await named('host');
    expect(() => withCniScheme([], host)).toThrow(InputError);
  });
});
