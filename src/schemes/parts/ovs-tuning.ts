import { exec } from '../../plan/steps.js';
import type { Step } from '../../plan/types.js';

/**
 * How Open vSwitch's userspace datapath (the stand-in without the openvswitch module) is tuned.
 * Each setting was measured (bench/ovs.ts: cross-host TCP through `ovs` as a share of host);
 * USERSPACE_TUNING is what helped and is what every OVS scheme builds. The kernel datapath ignores
 * these: userspace-tso-enable only concerns netdev ports.
 *
 * - tso: `other_config:userspace-tso-enable=true` (set in the database before ovs-vswitchd starts:
 *   it is read once) — OVS's netdev-linux ports exchange 64 KiB TCP super-packets with the kernel
 *   through the virtio-net header instead of MTU-sized frames; the containers keep tx checksum
 *   offload (and so TSO) on. Without it, their tx checksum offload must be off (the userspace
 *   datapath would never fill the checksum in).
 */
export interface OvsTuning {
  tso: boolean;
}

/** The stand-in as OVS ships it: no TSO, containers' tx checksum offload off. */
export const UNTUNED: OvsTuning = { tso: false };

/** What every OVS scheme builds on the userspace datapath (measured: see bench/ovs.ts, README). */
export const USERSPACE_TUNING: OvsTuning = { tso: true };

/** Open_vSwitch other_config entries for a tuning. */
export function otherConfig(t: OvsTuning): string[] {
  return t.tso ? ['other_config:userspace-tso-enable=true'] : [];
}

/** Steps between the database's `init` and ovs-vswitchd's start: settings it reads once. */
export function tuningSteps(ns: string, db: string, t: OvsTuning): Step[] {
  const cfg = otherConfig(t);
  return cfg.length ? [exec(ns, ['ovs-vsctl', `--db=${db}`, '--no-wait', 'set', 'Open_vSwitch', '.', ...cfg])] : [];
}

/** The result's label: which userspace datapath options ran. */
export function tuningNote(t: OvsTuning): string {
  const opts = otherConfig(t);
  return `userspace datapath options: ${opts.length ? opts.join(', ') : 'none (OVS defaults)'}; ports netdev-linux (AF_PACKET/tap), no PMD threads; container tx checksum offload ${t.tso ? 'on' : 'off'}`;
}
