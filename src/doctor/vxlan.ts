import { toolArgs } from '../plan/argv.js';
import type { Step } from '../plan/types.js';
import { jsonIn } from './live.js';
import type { Finding } from './types.js';

/**
 * Overlay state: each VXLAN device the plan makes, its VNI and UDP port read back with
 * `ip -d -j link show`. A device whose VNI or port differs from the plan's — and so from its
 * peers', which the plan gives the same — drops every packet they encapsulate to it. The fix
 * deletes the device and re-runs the plan's own commands for it (link, addresses, state, FDB
 * entries, neighbours, routes), from the static control-plane plan so peer entries come back.
 */

interface PlannedVxlan {
  ns: string;
  name: string;
  vni: number;
  port: number;
  /** Moved to another namespace after it was made (docker-overlay): no single-namespace fix. */
  moved: boolean;
}

export interface LiveVxlan {
  ifname: string;
  linkinfo?: { info_kind?: string; info_data?: { id?: number; port?: number } };
}

/** Pure: the plan's VXLAN devices with a VNI, where they end up. */
function plannedVxlans(steps: readonly Step[]): PlannedVxlan[] {
  const out: PlannedVxlan[] = [];
  for (const s of steps) {
    if (s.kind === 'link' && s.type === 'vxlan' && s.vxlan.id !== undefined)
      out.push({ ns: s.ns, name: s.name, vni: s.vxlan.id, port: s.vxlan.dstport, moved: false });
    else if (s.kind === 'link-set' && s.netns !== undefined) {
      const v = out.find((x) => x.ns === s.ns && x.name === s.name);
      if (v) Object.assign(v, { ns: s.netns, moved: true });
    }
  }
  return out;
}

/** Pure: the plan's commands that make device NAME in NS and what hangs on it, after deleting it. */
function recreate(steps: readonly Step[], ns: string, name: string): string[][] {
  const mine = steps.filter(
    (s) =>
      s.ns === ns &&
      ((s.kind === 'link' && s.name === name) ||
        (s.kind === 'link-set' && s.name === name) ||
        ((s.kind === 'addr' || s.kind === 'route' || s.kind === 'neigh' || s.kind === 'fdb') && s.dev === name)),
  );
  return [
    ['ip', '-n', ns, 'link', 'del', name],
    ...mine.flatMap((s) => {
      const t = toolArgs(s);
      return t ? [[t.tool, '-n', ns, ...t.args]] : [];
    }),
  ];
}

/** Pure: the plan's steps against the live VXLAN devices by namespace → findings. */
export function judgeVxlan(steps: readonly Step[], live: ReadonlyMap<string, readonly LiveVxlan[]>): Finding[] {
  const planned = plannedVxlans(steps);
  const out: Finding[] = [];
  for (const p of planned) {
    const l = (live.get(p.ns) ?? []).find((x) => x.ifname === p.name && x.linkinfo?.info_kind === 'vxlan');
    const d = l?.linkinfo?.info_data;
    if (!d || (d.id === p.vni && d.port === p.port)) continue;
    const peers = planned.filter((x) => x !== p && x.vni === p.vni && x.port === p.port).map((x) => `${x.ns} ${x.name}`);
    const diff = [d.id !== p.vni ? `VNI ${d.id}` : '', d.port !== p.port ? `port ${d.port}` : ''].filter(Boolean).join(', ');
    out.push({
      check: 'vxlan',
      rank: 19,
      what: `${p.ns}: ${p.name} has ${diff}; the plan${peers.length ? ` and its peers (${peers.join(', ')})` : ''} use VNI ${p.vni} port ${p.port}: what they encapsulate to it is dropped`,
      evidence: `ip -d link show ${p.name}: vxlan id ${d.id ?? '?'} dstport ${d.port ?? '?'}`,
      fix: p.moved ? [] : recreate(steps, p.ns, p.name),
    });
  }
  return out;
}

export async function checkVxlan(steps: readonly Step[]): Promise<Finding[]> {
  const namespaces = [...new Set(plannedVxlans(steps).map((p) => p.ns))];
  const live = new Map<string, LiveVxlan[]>();
  await Promise.all(namespaces.map(async (ns) => live.set(ns, await jsonIn<LiveVxlan>(ns, 'ip', ['-d', 'link', 'show']))));
  return judgeVxlan(steps, live);
}
