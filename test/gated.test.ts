import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ipArgs, toolLine } from './helpers/argv.js';
import { unsupportedReason } from '../src/apply/up.js';
import { detect } from '../src/caps/detect.js';
import type { KernelFeature } from '../src/caps/types.js';
import { labStateDir, labStateFile } from '../src/lab/paths.js';
import { resolveLab } from '../src/lab/resolve.js';
import { loadTopology } from '../src/lab/topology.js';
import { planLab } from '../src/plan/build.js';
import { renderPlan } from '../src/plan/render.js';
import type { Plan, Step } from '../src/plan/types.js';
import { getScheme } from '../src/schemes/registry.js';
import { checkTcp, cli, createdSince, dfPing, labNamespaces, pidGone, sh, snapshot, useLab } from './helpers/lab.js';

/**
 * The kernel-gated schemes: ipvlan-l2, ipvlan-l3, calico-ipip, flannel-ipip, flannel-wireguard.
 * Their plans are checked everywhere (pure, and printed by `cnlab plan` whatever the kernel).
 * Where the kernel lacks the feature they say "unsupported here: needs CONFIG_…" and `cnlab up`
 * refuses with that line, creating nothing; where it has it, they are built and tested like every
 * scheme (TCP across hosts and on one host, path MTU, teardown). Labs: g-<scheme>.
 */

const GATED: Array<[string, KernelFeature, number]> = [
  ['ipvlan-l2', 'IPVLAN', 1500],
  ['ipvlan-l3', 'IPVLAN', 1500],
  ['calico-ipip', 'NET_IPIP', 1480],
  ['flannel-ipip', 'NET_IPIP', 1480],
  ['flannel-wireguard', 'WIREGUARD', 1420],
];
const labOf = (name: string) => `g-${name.replace(/-/g, '')}`.slice(0, 16);
const steps = (plan: Plan): Step[] => plan.stages.flatMap((s) => s.steps);
const lines = (plan: Plan, ns: string) =>
  steps(plan).flatMap((s) => {
    const l = toolLine(s);
    return s.ns === ns && l && l[0] !== 'tc' ? [l.join(' ')] : [];
  });
const planOf = (name: string, controlPlane?: string) =>
  planLab(resolveLab(loadTopology({ lab: labOf(name), controlPlane })), getScheme(name));

describe('gated plans (pure)', () => {
  it('ipvlan: the CNI ipvlan plugin on eth0; L2 on underlay addresses, L3 on pod blocks with peer routes', () => {
    for (const mode of ['l2', 'l3'] as const) {
      const { plan, build } = planOf(`ipvlan-${mode}`);
      const cni = steps(plan).filter((s): s is Extract<Step, { kind: 'cni' }> => s.kind === 'cni');
      expect(cni).toHaveLength(3);
      for (const s of cni)
        expect(s.conflist.plugins[0]).toMatchObject({ type: 'ipvlan', master: 'eth0', mode, mtu: 1500, ipam: { type: 'host-local' } });
      const routes = steps(plan).flatMap((s) => (ipArgs(s)?.[0] === 'route' ? [ipArgs(s)!.join(' ')] : []));
      if (mode === 'l2') {
        expect(build.workloads.map((w) => w.ip)).toEqual(['198.18.0.3', '198.18.0.4', '198.18.0.129']);
        expect(routes).toEqual([]);
      } else {
        expect(build.workloads.map((w) => w.ip)).toEqual(['198.19.1.2', '198.19.1.3', '198.19.2.2']);
        expect(routes).toEqual(['route add 198.19.2.0/24 via 198.18.0.2 dev eth0', 'route add 198.19.1.0/24 via 198.18.0.1 dev eth0']);
      }
    }
  });

  it('calico-ipip: tunl0 got or created, MTU 1480, tunnel address, blackhole, peers via tunl0 onlink, veths at 1480', () => {
    const { plan, build } = planOf('calico-ipip', 'static');
    const h1 = 'cnl-g-calicoipip-h1';
    const ensure = steps(plan).filter((s) => s.kind === 'exec' && s.ns === h1);
    expect(ensure).toEqual([
      { kind: 'exec', ns: h1, argv: ['sh', '-c', 'ip link show dev tunl0 >/dev/null 2>&1 || ip link add name tunl0 type ipip'] },
    ]);
    expect(lines(plan, h1)).toEqual(
      expect.arrayContaining([
        'ip link set tunl0 mtu 1480 up',
        'ip addr add 198.19.1.0/32 dev tunl0',
        'ip route add blackhole 198.19.1.0/24',
        'ip route add 198.19.2.0/24 via 198.18.0.2 dev tunl0 onlink',
        'ip link add calih1c1 mtu 1480 type veth peer name eth0 mtu 1480 netns cnl-g-calicoipip-h1c1',
      ]),
    );
    expect(build.mtu).toBe(1480);
  });

  it('flannel-ipip: flannel.ipip with local = the host, MTU 1480, peers onlink, cni0 at 1480', () => {
    const { plan, build } = planOf('flannel-ipip');
    const h2 = 'cnl-g-flannelipip-h2';
    expect(lines(plan, h2)).toEqual(
      expect.arrayContaining([
        'ip link add flannel.ipip type ipip local 198.18.0.2',
        'ip link set flannel.ipip mtu 1480 up',
        'ip addr add 198.19.2.0/32 dev flannel.ipip',
        'ip route add 198.19.1.0/24 via 198.18.0.1 dev flannel.ipip onlink',
      ]),
    );
    const cni = steps(plan).find((s) => s.kind === 'cni');
    expect(cni?.kind === 'cni' && cni.conflist.plugins[0]).toMatchObject({ type: 'bridge', bridge: 'cni0', mtu: 1480 });
    expect(build.mtu).toBe(1480);
  });

  it('flannel-wireguard: keys made on the machine into the lab state, never in the plan', () => {
    const { plan, build } = planOf('flannel-wireguard');
    const dir = labStateDir(labOf('flannel-wireguard'));
    const h1 = `cnl-${labOf('flannel-wireguard')}-h1`;
    expect(lines(plan, h1)).toEqual(
      expect.arrayContaining([
        'ip link add flannel-wg mtu 1420 type wireguard',
        'ip addr add 198.19.1.0/32 dev flannel-wg',
        'ip link set flannel-wg up',
        'ip route add 198.19.0.0/16 dev flannel-wg scope link',
      ]),
    );
    const execs = steps(plan).flatMap((s) => (s.kind === 'exec' && s.ns === h1 ? [s.argv] : []));
    expect(execs).toEqual([
      ['sh', '-c', expect.stringContaining('wg genkey'), 'sh', `${dir}/wireguard/h1.key`, `${dir}/wireguard/h1.pub`],
      ['wg', 'set', 'flannel-wg', 'private-key', `${dir}/wireguard/h1.key`, 'listen-port', '51820'],
      ['sh', '-c', expect.stringContaining('wg set'), 'sh', 'flannel-wg', `${dir}/wireguard/h2.pub`, '198.18.0.2:51820', '198.19.2.0/24'],
    ]);
    // A WireGuard key is 44 characters of base64 ending in '='; the script holds none.
    expect(renderPlan(plan)).not.toMatch(/[A-Za-z0-9+/]{43}=/);
    expect(build.mtu).toBe(1420);
  });
});

describe('the wireguard key scripts, run with a stand-in wg', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'cnl-g-wg-'));
    await writeFile(
      join(dir, 'wg'),
      '#!/bin/sh\ncase "$1" in\n genkey) echo PRIVATE;;\n pubkey) read k; echo "PUB-$k";;\n set) printf "%s\\n" "$@" > "$WG_LOG";;\nesac\n',
      { mode: 0o755 },
    );
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('generate a 0600 key in a 0700 directory and add the peer with its public key read from its file', async () => {
    const { plan } = planOf('flannel-wireguard');
    const execs = steps(plan).flatMap((s) => (s.kind === 'exec' && s.argv[0] === 'sh' ? [s.argv[2]] : []));
    const [genkey, addPeer] = [execs[0], execs.find((s) => s.includes('peer'))!];
    const key = join(dir, 'state', 'wireguard', 'h1.key');
    const pub = join(dir, 'state', 'wireguard', 'h1.pub');
    const env = { ...process.env, PATH: `${dir}:${process.env.PATH}`, WG_LOG: join(dir, 'wg.log') };
    const { execArgs } = await import('../src/util/exec.js');
    expect((await execArgs('sh', ['-c', genkey, 'sh', key, pub], { env })).code).toBe(0);
    expect(await readFile(key, 'utf8')).toBe('PRIVATE\n');
    expect(await readFile(pub, 'utf8')).toBe('PUB-PRIVATE\n');
    expect((await stat(key)).mode & 0o777).toBe(0o600);
    expect((await stat(join(dir, 'state', 'wireguard'))).mode & 0o777).toBe(0o700);
    const r = await execArgs('sh', ['-c', addPeer, 'sh', 'flannel-wg', pub, '198.18.0.1:51820', '198.19.1.0/24'], { env });
    expect(r.code, r.stderr).toBe(0);
    expect((await readFile(join(dir, 'wg.log'), 'utf8')).split('\n')).toEqual([
      'set',
      'flannel-wg',
      'peer',
      'PUB-PRIVATE',
      'endpoint',
      '198.18.0.1:51820',
      'allowed-ips',
      '198.19.1.0/24',
      '',
    ]);
  });
});

const caps = await detect();
const cases = await Promise.all(
  GATED.map(async ([name, feature, mtu]) => [name, feature, mtu, await unsupportedReason(getScheme(name))] as const),
);

describe.each(cases)('%s on this machine', (name, feature, mtu, unsupported) => {
  const lab = labOf(name);

  it('cnlab plan prints its script whatever the kernel', async () => {
    const r = await cli(['plan', name, '--lab', lab]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout.startsWith('#!/bin/sh\n')).toBe(true);
    expect(r.stdout).toContain(`# cnlab plan: scheme ${name}, lab ${lab}.`);
  });

  if (!caps.kernel[feature]) {
    it(`says "unsupported here: needs CONFIG_${feature}" and cnlab up creates nothing`, async () => {
      expect(unsupported).toMatch(new RegExp(`^unsupported here: .*needs CONFIG_${feature}`));
      const before = await snapshot();
      const r = await cli(['up', name, '--lab', lab]);
      expect(r.code).toBe(1);
      expect(r.stderr.trim()).toBe(`cnlab: scheme ${name} is ${unsupported}`);
      expect(await createdSince(before, [lab])).toEqual([]);
    });
  }

  if (unsupported) {
    it.skip(`build, TCP, MTU and teardown: ${name} is ${unsupported}`, () => {});
    return;
  }

  describe('built for real', () => {
    const built = useLab(lab, getScheme(name));

    it.each([
      ['across hosts', 'h1c1', 'h2c1'],
      ['on one host', 'h1c1', 'h1c2'],
    ])('TCP %s and the path MTU', async (_, fromNode, toNode) => {
      const [from, to] = [built.pick(fromNode), built.pick(toNode)];
      await checkTcp(built, from, to, to.ip);
      expect(built.up.build.mtu).toBe(mtu);
      expect(await dfPing(from.ns, to.ip, mtu - 28)).toBe(true);
      expect(await dfPing(from.ns, to.ip, mtu - 27)).toBe(false);
    });

    it('teardown leaves nothing', async () => {
      const report = await built.remove();
      expect(report?.problems).toEqual([]);
      expect(labNamespaces(lab)).toEqual([]);
      for (const s of built.servers) expect(pidGone(s.pid)).toBe(true);
      expect(existsSync(labStateFile(lab))).toBe(false);
      expect(existsSync(labStateDir(lab))).toBe(false);
    });
  });
});

describe("a stand-in ip for calico-ipip's get-or-create of tunl0", () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'cnl-g-ip-'));
    await writeFile(join(dir, 'ip'), '#!/bin/sh\necho "$*" >> "$IP_LOG"\n[ "$2" = show ] && exit "$SHOW_EXIT"\nexit 0\n', { mode: 0o755 });
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it.each([
    ['exists (the fallback device of a loaded ipip module)', '0', ['link show dev tunl0']],
    ['is absent', '1', ['link show dev tunl0', 'link add name tunl0 type ipip']],
  ])('when tunl0 %s', async (_, showExit, calls) => {
    const { plan } = planOf('calico-ipip');
    const script = steps(plan).find((s) => s.kind === 'exec')!;
    const log = join(dir, `log-${showExit}`);
    const r = await sh('env', [
      `PATH=${dir}:/usr/bin:/bin`,
      `IP_LOG=${log}`,
      `SHOW_EXIT=${showExit}`,
      ...(script.kind === 'exec' ? script.argv : []),
    ]);
    expect(r.code, r.stderr).toBe(0);
    expect((await readFile(log, 'utf8')).trim().split('\n')).toEqual(calls);
  });
});
