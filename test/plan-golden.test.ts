import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { loadTopology, type TopologyFlags } from '../src/lab/topology.js';
import { resolveLab } from '../src/lab/resolve.js';
import { STATE_ROOT } from '../src/lab/paths.js';
import { planLab } from '../src/plan/build.js';
import { renderPlan } from '../src/plan/render.js';
import { schemeFromConflist } from '../src/schemes/cni-file.js';
import { SCHEMES, schemeLookup } from '../src/schemes/registry.js';

/**
 * Golden plans: `cnlab plan` for every registered scheme and a few variants, byte for byte. The
 * fixtures were captured from `node dist/src/cli.js plan …` before the plan became typed data; a
 * change to any of them must be deliberate (say why in the commit). Regenerate with
 * CNLAB_GOLDEN_UPDATE=1 npx vitest run test/plan-golden.test.ts, then read the diff.
 *
 * Machine-specific strings are normalised: the state root, the repository's path, node's path.
 */

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const FIXTURES = join(ROOT, 'test', 'fixtures', 'plans');
const LAB = 'g';

interface Case {
  file: string;
  scheme: string;
  flags?: Partial<TopologyFlags>;
  /** The machine meets the scheme's `prefers` (e.g. the OVS kernel datapath). */
  preferred?: boolean;
  /** A conflist fixture as the scheme (`plan --cni FILE`). */
  cni?: string;
  /** `plan SCHEME --encrypt`. */
  encrypt?: boolean;
}

const VARIANT_SCHEMES = {
  offloadsOff: [
    'host',
    'flannel-vxlan',
    'calico-vxlan',
    'canal',
    'docker-overlay',
    'weave-fastdp',
    'flannel-udp',
    'flannel-ipip',
    'flannel-wireguard',
    'ovs-overlay',
    'macvlan',
  ],
  linkRate: ['host', 'calico', 'ovs'],
  hosts3: [
    'calico',
    'flannel-vxlan',
    'canal',
    'docker-bridge',
    'docker-overlay',
    'bridge-l2',
    'macvlan',
    'ovs',
    'ovs-overlay',
    'weave-fastdp',
    'weave-sleeve',
    'flannel-udp',
  ],
  preferred: ['ovs', 'ovs-normal', 'ovs-linuxbridge', 'ovs-overlay', 'weave-fastdp'],
};

const CASES: Case[] = [
  ...SCHEMES.map((s) => ({ file: s.name, scheme: s.name })),
  { file: 'flannel-udp--encrypt', scheme: 'flannel-udp', encrypt: true },
  { file: 'weave-sleeve--encrypt', scheme: 'weave-sleeve', encrypt: true },
  ...VARIANT_SCHEMES.offloadsOff.map((s) => ({ file: `${s}--offloads-off`, scheme: s, flags: { offloads: 'off' } })),
  { file: 'calico--offloads-on', scheme: 'calico', flags: { offloads: 'on' } },
  ...VARIANT_SCHEMES.linkRate.map((s) => ({ file: `${s}--link-rate-1gbit`, scheme: s, flags: { linkRate: '1gbit' } })),
  ...VARIANT_SCHEMES.hosts3.map((s) => ({ file: `${s}--hosts-3`, scheme: s, flags: { hosts: '3' } })),
  ...VARIANT_SCHEMES.preferred.map((s) => ({ file: `${s}--preferred`, scheme: s, preferred: true })),
  { file: 'ovs--containers-17', scheme: 'ovs', flags: { containers: '17' } },
  { file: 'calico--mtu-9000-containers-2', scheme: 'calico', flags: { mtu: '9000', containers: '2' } },
  { file: 'flannel-vxlan--hosts-3-link-rate-offloads', scheme: 'flannel-vxlan', flags: { hosts: '3', linkRate: '10gbit', offloads: 'on' } },
  { file: 'flannel-vxlan--etcd-3', scheme: 'flannel-vxlan', flags: { etcd: '3' } },
  { file: 'calico--tenants-2-containers-2', scheme: 'calico', flags: { tenants: '2', containers: '2' } },
  { file: 'weave-sleeve--tenants-2', scheme: 'weave-sleeve', flags: { tenants: '2' } },
  { file: 'docker-overlay--tenants-2', scheme: 'docker-overlay', flags: { tenants: '2' } },
  { file: 'canal--tenants-2', scheme: 'canal', flags: { tenants: '2' } },
  { file: 'cni--bridge-bandwidth', scheme: '', cni: 'bridge-bandwidth.conflist' },
];

/** The plan script for one case, with machine-specific paths replaced by stable words. */
function renderCase(c: Case): string {
  const scheme = c.cni
    ? schemeFromConflist(join(ROOT, 'test', 'fixtures', 'conflists', c.cni), { peerRoutes: false })
    : schemeLookup(c.encrypt === true)(c.scheme);
  const lab = resolveLab(loadTopology({ lab: LAB, ...c.flags }));
  const text = renderPlan(planLab(lab, scheme, { preferred: c.preferred === true }).plan, '/usr/lib/cni');
  return text.split(STATE_ROOT).join('/run/cnlab').split(ROOT).join('<repo>').split(process.execPath).join('<node>');
}

describe('cnlab plan renders every scheme exactly as captured', () => {
  const update = process.env.CNLAB_GOLDEN_UPDATE === '1';
  it('has a case per registered scheme', () => {
    for (const s of SCHEMES) expect(CASES.some((c) => c.scheme === s.name && !c.flags && !c.preferred)).toBe(true);
  });
  for (const c of CASES) {
    it(c.file, () => {
      const file = join(FIXTURES, `${c.file}.sh`);
      const got = renderCase(c);
      if (update || !existsSync(file)) writeFileSync(file, got);
      expect(got).toBe(readFileSync(file, 'utf8'));
    });
  }
});
