import type { Lab } from '../lab/types.js';
import type { Workload } from '../schemes/types.js';
import type { Stage, Step } from './types.js';

/**
 * The --offloads knob as a plan stage (pure): `ethtool -K DEV tso X gso X gro X tx X rx X` on every
 * underlay port, every tunnel device the plan creates with `ip link add … type <tunnel>` (followed
 * through `ip link set … netns`), and every workload interface. It runs last, once the scheme has
 * made its devices. Devices made outside the plan (a userspace daemon's TUN/TAP, ovs-vswitchd's
 * ports) are not known here and keep the kernel's defaults: the result records each workload
 * interface's offloads as read back.
 */

export const OFFLOAD_FEATURES = ['tso', 'gso', 'gro', 'tx', 'rx'] as const;
const TUNNEL_TYPES = new Set(['vxlan', 'geneve', 'ipip', 'gre', 'gretap', 'ip6tnl', 'ip6gre', 'sit', 'wireguard', 'tun', 'tap', 'fou', 'bareudp']);

export interface Device {
  ns: string;
  dev: string;
}

/** Pure: tunnel devices created by the ip steps of these stages, in the namespace they end up in. */
export function tunnelDevices(stages: Stage[]): Device[] {
  const where = new Map<string, Device>();
  const key = (ns: string, dev: string) => `${ns}\u0000${dev}`;
  for (const step of stages.flatMap((s) => s.steps)) {
    if (step.kind !== 'ip') continue;
    const a = step.args;
    if (a[0] === 'link' && a[1] === 'add') {
      const name = a[2] === 'name' || a[2] === 'dev' ? a[3] : a[2];
      const type = a[a.indexOf('type') + 1];
      if (!a.includes('type') || !TUNNEL_TYPES.has(type)) continue;
      where.set(key(step.ns, name), { ns: step.ns, dev: name });
    } else if (a[0] === 'tuntap' && a[1] === 'add') {
      // ip tuntap add [dev|name] NAME mode tun|tap
      const name = a[2] === 'dev' || a[2] === 'name' ? a[3] : a[2];
      if (name && name !== 'mode') where.set(key(step.ns, name), { ns: step.ns, dev: name });
    } else if (a[0] === 'link' && a[1] === 'set' && a.includes('netns')) {
      const name = a[2] === 'dev' ? a[3] : a[2];
      const moved = where.get(key(step.ns, name));
      if (moved) {
        where.delete(key(step.ns, name));
        const ns = a[a.indexOf('netns') + 1];
        where.set(key(ns, name), { ns, dev: name });
      }
    }
  }
  return [...where.values()];
}

/** Pure: underlay ports (each host's, and the switch's when there is one). */
export function underlayDevices(lab: Lab): Device[] {
  const out = lab.hosts.map((h) => ({ ns: h.ns, dev: h.underlayIf }));
  if (lab.switch) out.push(...lab.hosts.map((h) => ({ ns: lab.switch!.ns, dev: `p${h.index}` })));
  return out;
}

export function ethtoolStep(d: Device, value: 'on' | 'off'): Step {
  return { kind: 'exec', ns: d.ns, argv: ['ethtool', '-K', d.dev, ...OFFLOAD_FEATURES.flatMap((f) => [f, value])] };
}

/** Pure: the knob's stage, or none when the knob is not set. */
export function offloadStages(lab: Lab, stages: Stage[], workloads: Workload[]): Stage[] {
  const value = lab.topology.offloads;
  if (!value) return [];
  const seen = new Set<string>();
  const devices = [...underlayDevices(lab), ...tunnelDevices(stages), ...workloads.map((w) => ({ ns: w.ns, dev: w.ifName }))].filter((d) => {
    const k = `${d.ns}\u0000${d.dev}`;
    if (seen.has(k)) return false;
    seen.add(k);
    return true;
  });
  return [{ title: `offloads ${value}: ethtool -K ${OFFLOAD_FEATURES.join('/')} ${value} on underlay, tunnel and workload devices`, steps: devices.map((d) => ethtoolStep(d, value)) }];
}
