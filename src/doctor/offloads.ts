import type { Lab } from '../lab/types.js';
import { tunnelDevices, underlayDevices, type Device } from '../plan/offloads.js';
import type { Stage } from '../plan/types.js';
import { readIn } from './live.js';
import { inNs, type Finding } from './types.js';

/**
 * Overlay state: offload settings that differ between the two ends. Each host's underlay port and
 * each tunnel device the plan makes under the same name on several hosts (flannel.1, vxlan.calico,
 * weave's vxlan-6784…) are read with `ethtool --json -k` and compared feature by feature. S1 found
 * VXLAN without UDP tunnel offload near 55 % of bare metal: an end that lost TSO, GSO, GRO or
 * checksum offload (a driver reload, a stray `ethtool -K`) makes one direction slow while the
 * other is not. The expected value is the plan's when `--offloads` set one, else what most ends
 * have (ties: the first host's); the fix sets the odd end to it. A feature the driver fixes
 * cannot be changed: named, without a fix.
 */

/** ethtool's JSON key → the short name `ethtool -K` takes. */
export const COMPARED: Readonly<Record<string, string>> = {
  'rx-checksumming': 'rx',
  'tx-checksumming': 'tx',
  'tcp-segmentation-offload': 'tso',
  'generic-segmentation-offload': 'gso',
  'generic-receive-offload': 'gro',
  'tx-udp_tnl-segmentation': 'tx-udp_tnl-segmentation',
};

interface FeatureState {
  active: boolean;
  fixed?: boolean | null;
}

/** One device's features as `ethtool --json -k` prints them (one object per device). */
export type EthtoolFeatures = Record<string, unknown> & { ifname?: string };

export interface EndFeatures extends Device {
  /** The group it is compared within: "underlay" or the tunnel device's name. */
  group: string;
  features: EthtoolFeatures;
}

function feature(f: EthtoolFeatures, key: string): FeatureState | undefined {
  const v = f[key] as FeatureState | undefined;
  return v && typeof v === 'object' && typeof v.active === 'boolean' ? v : undefined;
}

/** Pure: which devices are compared with which — host underlay ports, and tunnels of one name on 2+ hosts. */
export function offloadGroups(lab: Lab, stages: Stage[]): { group: string; devices: Device[] }[] {
  const hostNs = new Set(lab.hosts.map((h) => h.ns));
  const groups = [{ group: 'underlay', devices: underlayDevices(lab).filter((d) => hostNs.has(d.ns)) }];
  const tunnels = new Map<string, Device[]>();
  for (const t of tunnelDevices(stages)) tunnels.set(t.dev, [...(tunnels.get(t.dev) ?? []), t]);
  for (const [dev, devices] of tunnels) if (devices.length > 1) groups.push({ group: dev, devices });
  return groups.filter((g) => g.devices.length > 1);
}

/** Pure: the ends read back, the plan's --offloads value if any → findings. */
export function judgeOffloads(ends: readonly EndFeatures[], planned?: 'on' | 'off'): Finding[] {
  const out: Finding[] = [];
  for (const group of [...new Set(ends.map((e) => e.group))]) {
    const members = ends.filter((e) => e.group === group);
    for (const [key, short] of Object.entries(COMPARED)) {
      const known = members.flatMap((e) => {
        const f = feature(e.features, key);
        return f ? [{ e, f }] : [];
      });
      if (known.length < 2 || known.every((k) => k.f.active === known[0].f.active)) continue;
      const on = known.filter((k) => k.f.active).length;
      const want = planned ? planned === 'on' : on * 2 === known.length ? known[0].f.active : on * 2 > known.length;
      const where = (v: boolean) =>
        known
          .filter((k) => k.f.active === v)
          .map((k) => `${k.e.ns} ${k.e.dev}`)
          .join(', ');
      for (const { e, f } of known.filter((k) => k.f.active !== want)) {
        out.push({
          check: 'offloads',
          rank: 45,
          what: `${e.ns}: ${e.dev} has ${short} ${f.active ? 'on' : 'off'} where ${planned ? 'the plan (--offloads)' : 'the other ends'} ${planned ? 'sets' : 'have'} it ${want ? 'on' : 'off'}: the two directions of the path are handled differently`,
          evidence: `ethtool -k: ${key} on at ${where(true) || 'none'}; off at ${where(false) || 'none'}${f.fixed ? ` (fixed by ${e.dev}'s driver)` : ''}`,
          fix: f.fixed ? [] : [inNs(e.ns, ['ethtool', '-K', e.dev, short, want ? 'on' : 'off'])],
        });
      }
    }
  }
  return out;
}

/** Pure: `ethtool --json -k DEV` output → its feature object, or null. */
export function parseEthtoolJson(out: string | null): EthtoolFeatures | null {
  if (!out?.trim()) return null;
  try {
    const v = JSON.parse(out) as unknown;
    const first = Array.isArray(v) ? (v[0] as unknown) : v;
    return first && typeof first === 'object' ? (first as EthtoolFeatures) : null;
  } catch {
    return null;
  }
}

export async function checkOffloads(lab: Lab, stages: Stage[]): Promise<Finding[]> {
  const groups = offloadGroups(lab, stages);
  const ends = await Promise.all(
    groups.flatMap((g) =>
      g.devices.map(async (d) => {
        const features = parseEthtoolJson(await readIn(d.ns, 'ethtool', ['--json', '-k', d.dev]));
        return features ? [{ ...d, group: g.group, features }] : [];
      }),
    ),
  );
  return judgeOffloads(ends.flat(), lab.topology.offloads);
}
