import { describe, expect, it } from 'vitest';
import { execArgs } from '../src/util/exec.js';
import { RunError } from '../src/errors.js';
import { featureFromConfig, parseKernelConfig, parseModulesDep } from '../src/caps/kconfig.js';
import {
  assertRootLinux,
  cniDir,
  detect,
  probeFeatures,
  readKernelConfigText,
  readModuleEnv,
  supportLine,
  unmet,
} from '../src/caps/detect.js';
import { KERNEL_FEATURES, type Capabilities, type KernelFeature, type Requirement } from '../src/caps/types.js';

const FIXTURE = `#
# Automatically generated file; DO NOT EDIT.
#
CONFIG_VETH=y
CONFIG_VXLAN=m
# CONFIG_IPVLAN is not set
CONFIG_LOCALVERSION="-lab"
CONFIG_LOG_BUF_SHIFT=17

# comment: CONFIG_BOGUS=y
CONFIG_NET_IPIP=m
`;

describe('parseKernelConfig', () => {
  const cfg = parseKernelConfig(FIXTURE);
  it('reads y, m, not-set, strings and numbers; skips comments', () => {
    expect(cfg.get('CONFIG_VETH')).toBe('y');
    expect(cfg.get('CONFIG_VXLAN')).toBe('m');
    expect(cfg.get('CONFIG_IPVLAN')).toBe('n');
    expect(cfg.get('CONFIG_LOCALVERSION')).toBe('-lab');
    expect(cfg.get('CONFIG_LOG_BUF_SHIFT')).toBe('17');
    expect(cfg.has('CONFIG_BOGUS')).toBe(false);
    expect(cfg.has('CONFIG_BRIDGE')).toBe(false);
    expect(cfg.size).toBe(6);
  });
  it('counts =m only when the module can be loaded', () => {
    const mono = { loadable: false };
    expect(featureFromConfig(cfg, 'VETH', mono)).toBe(true);
    expect(featureFromConfig(cfg, 'VXLAN', mono)).toBe(false);
    expect(featureFromConfig(cfg, 'IPVLAN', mono)).toBe(false);
    expect(featureFromConfig(cfg, 'BRIDGE', mono)).toBe(false);
    const mods = { loadable: true, available: parseModulesDep('kernel/drivers/net/vxlan/vxlan.ko.xz: kernel/net/ipv4/udp_tunnel.ko\n') };
    expect(featureFromConfig(cfg, 'VXLAN', mods)).toBe(true);
    expect(featureFromConfig(cfg, 'NET_IPIP', mods)).toBe(false);
    expect(featureFromConfig(cfg, 'NET_IPIP', { loadable: true })).toBe(true);
  });
});

function caps(over: Partial<Capabilities> = {}): Capabilities {
  const kernel = Object.fromEntries(KERNEL_FEATURES.map((f) => [f, true])) as Record<KernelFeature, boolean>;
  return {
    root: true,
    linux: true,
    binaries: { ip: '/usr/sbin/ip', iperf3: '/usr/bin/iperf3', bird: null },
    kernel,
    kernelSource: 'config',
    cniPath: '/usr/lib/cni',
    cniPlugins: ['bridge', 'macvlan'],
    ...over,
  };
}

describe('unmet / supportLine', () => {
  const reqs: Requirement[] = [
    { kind: 'kernel', feature: 'IPVLAN' },
    { kind: 'binary', name: 'iperf3', pkg: 'iperf3' },
    { kind: 'binary', name: 'bird', pkg: 'bird2' },
    { kind: 'cni', plugin: 'macvlan' },
    { kind: 'cni', plugin: 'ipvlan' },
  ];
  it('reports supported when everything is there', () => {
    const c = caps({ binaries: { iperf3: '/usr/bin/iperf3', bird: '/usr/sbin/bird' }, cniPlugins: ['macvlan', 'ipvlan'] });
    expect(unmet(reqs, c)).toEqual([]);
    expect(supportLine(reqs, c)).toBe('supported');
    expect(supportLine([], caps())).toBe('supported');
  });
  it('lists what is missing, in order', () => {
    const c = caps({ kernel: { ...caps().kernel, IPVLAN: false }, binaries: { iperf3: null } });
    expect(unmet(reqs, c)).toEqual([
      'needs CONFIG_IPVLAN',
      'needs iperf3 (apt-get install iperf3)',
      'needs bird (apt-get install bird2)',
      'needs CNI plugin ipvlan in /usr/lib/cni (apt-get install containernetworking-plugins)',
    ]);
    expect(supportLine(reqs.slice(0, 3), c)).toBe(
      'unsupported here: needs CONFIG_IPVLAN, needs iperf3 (apt-get install iperf3), needs bird (apt-get install bird2)',
    );
  });
  it('cniDir takes the first CNI_PATH entry', () => {
    expect(cniDir({})).toBe('/usr/lib/cni');
    expect(cniDir({ CNI_PATH: ':/opt/cni/bin:/usr/lib/cni' })).toBe('/opt/cni/bin');
  });
  it('assertRootLinux', () => {
    expect(() => assertRootLinux(caps())).not.toThrow();
    expect(() => assertRootLinux(caps({ root: false }))).toThrow(RunError);
    expect(() => assertRootLinux(caps({ linux: false }))).toThrow(
      'cnlab must run as root on Linux (it creates network namespaces) — run it with sudo',
    );
  });
});

const isRootLinux = process.platform === 'linux' && process.getuid?.() === 0;

describe.skipIf(!isRootLinux)('on this machine', () => {
  const text = readKernelConfigText();
  const config = text === null ? null : parseKernelConfig(text);
  const modules = readModuleEnv();
  const expected = (f: KernelFeature): boolean | undefined => (config ? featureFromConfig(config, f, modules) : undefined);

  it('detect() finds root, Linux, binaries and the CNI path', async () => {
    const c = await detect({ fresh: true, binaries: ['ip', 'definitely-not-a-binary-cnl'] });
    expect(c.root).toBe(true);
    expect(c.linux).toBe(true);
    expect(c.binaries.ip).toMatch(/^\/.*\/ip$/);
    expect(c.binaries['definitely-not-a-binary-cnl']).toBeNull();
    expect(c.cniPath).toBe(process.env.CNI_PATH?.split(':').find(Boolean) ?? '/usr/lib/cni');
  });

  // Visible as skipped (not silently passed) where the kernel publishes no config to compare with.
  it.skipIf(config === null)('detect() agrees with the kernel config (needs /proc/config.gz or /boot/config-*)', async () => {
    const c = await detect({ fresh: true });
    expect(c.kernelSource).toBe('config');
    for (const f of KERNEL_FEATURES) expect([f, c.kernel[f]]).toEqual([f, expected(f)]);
    // The cache hands back the same kernel facts without redoing them.
    expect((await detect()).kernel).toEqual(c.kernel);
  });

  it('probes agree with the config and leave no namespace behind', async () => {
    const feats = ['VETH', 'BRIDGE', 'VXLAN', 'MACVLAN', 'IPVLAN', 'NET_IPIP', 'TUN', 'WIREGUARD', 'OPENVSWITCH'] as const;
    const probed = await probeFeatures(feats);
    if (config) {
      for (const f of ['VXLAN', 'MACVLAN', 'IPVLAN', 'NET_IPIP', 'TUN'] as const) {
        expect([f, probed[f]]).toEqual([f, expected(f)]);
      }
    }
    // VETH and BRIDGE are a baseline every cnlab host needs.
    expect(probed.VETH).toBe(true);
    expect(probed.BRIDGE).toBe(true);
    const list = await execArgs('ip', ['netns', 'list']);
    expect(list.stdout).not.toMatch(/cnl-probe/);
  });

  it('probes the nftables and tbf features', async () => {
    const feats = ['NF_TABLES', 'NFT_NAT', 'NFT_MASQ', 'NFT_FIB', 'NET_SCH_TBF'] as const;
    const probed = await probeFeatures(feats);
    if (config) for (const f of feats) expect([f, probed[f]]).toEqual([f, expected(f)]);
    expect((await execArgs('ip', ['netns', 'list'])).stdout).not.toMatch(/cnl-probe/);
  });
});
