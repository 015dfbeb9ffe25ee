import type { Lab } from '../lab/types.js';
import type { Workload } from './scheme.js';
import { exec } from './steps.js';
import { isTunnelType, TUNTAP_TYPES, type Stage, type Step } from './types.js';

/**
 * The --offloads knob as a plan stage (pure): `ethtool -K DEV tso X gso X gro X tx X rx X` on every
 * underlay port, every tunnel device the plan's link steps create (followed through a move to
 * another namespace), and every workload interface. It runs last, once the scheme has
 * made its devices. Devices made outside the plan (a userspace daemon's TUN/TAP, ovs-vswitchd's
 * ports) are not known here and keep the kernel's defaults: the result records each workload
 * interface's offloads as read back.
 */

export const OFFLOAD_FEATURES = ['tso', 'gso', 'gro', 'tx', 'rx'] as const;

export interface Device {
  ns: string;
  dev: string;
}

/**
 * Pure: tunnel devices (plan/types.ts TUNNEL_TYPES, and persistent TUN/TAP devices) created by
 * link steps of these stages, in the namespace they end up in.
 */
export function tunnelDevices(stages: Stage[]): Device[] {
  const where = new Map<string, Device>();
  const key = (ns: string, dev: string) => `${ns}\u0000${dev}`;
  for (const step of stages.flatMap((s) => s.steps)) {
    if (step.kind === 'link' && (isTunnelType(step.type) || (TUNTAP_TYPES as readonly string[]).includes(step.type))) {
      where.set(key(step.ns, step.name), { ns: step.ns, dev: step.name });
    } else if (step.kind === 'link-set' && step.netns) {
      const moved = where.get(key(step.ns, step.name));
      if (moved) {
        where.delete(key(step.ns, step.name));
        where.set(key(step.netns, step.name), { ns: step.netns, dev: step.name });
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
  return exec(d.ns, ['ethtool', '-K', d.dev, ...OFFLOAD_FEATURES.flatMap((f) => [f, value])]);
}

/** Pure: the knob's stage, or none when the knob is not set. */
export function offloadStages(lab: Lab, stages: Stage[], workloads: Workload[]): Stage[] {
  const value = lab.topology.offloads;
  if (!value) return [];
  const seen = new Set<string>();
  const devices = [...underlayDevices(lab), ...tunnelDevices(stages), ...workloads.map((w) => ({ ns: w.ns, dev: w.ifName }))].filter(
    (d) => {
      const k = `${d.ns}\u0000${d.dev}`;
      if (seen.has(k)) return false;
      seen.add(k);
      return true;
    },
  );
  return [
    {
      title: `offloads ${value}: ethtool -K ${OFFLOAD_FEATURES.join('/')} ${value} on underlay, tunnel and workload devices`,
      steps: devices.map((d) => ethtoolStep(d, value)),
    },
  ];
}
