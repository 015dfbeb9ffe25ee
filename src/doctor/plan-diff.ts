import type { AddrStep, Step } from '../plan/types.js';
import { jsonIn, readSysctls } from './live.js';

/**
 * `cnlab doctor --plan-diff LAB`: every object the plan says should exist (devices with their MTU
 * and state, addresses, routes, sysctls, FDB entries, neighbours) against the kernel's, as
 * `terraform plan` shows drift: missing, changed, and extra devices in namespaces only the plan
 * fills (not those where CNI plugins or daemons add their own).
 */

export interface Drift {
  change: 'missing' | 'changed' | 'extra';
  ns: string;
  object: string;
  detail?: string;
}

export interface LiveNs {
  links: Array<{ ifname: string; mtu?: number; flags?: string[] }>;
  addrs: Array<{ ifname: string; addr_info?: Array<{ local: string; prefixlen: number }> }>;
  routes: Array<{ dst: string; dev?: string; gateway?: string }>;
  sysctls: Map<string, string>;
  fdb: Array<{ mac: string; ifname?: string; dst?: string }>;
  neigh: Array<{ dst: string; dev?: string; lladdr?: string }>;
}

interface WantLink {
  ns: string;
  name: string;
  mtu?: number;
  up?: boolean;
}

/** Pure: the devices the plan leaves, where, with MTU and state (following veth peers and netns moves). */
export function plannedLinks(steps: readonly Step[]): Map<string, WantLink> {
  const links = new Map<string, WantLink>();
  const k = (ns: string, name: string) => `${ns} ${name}`;
  for (const s of steps) {
    if (s.kind === 'link') {
      links.set(k(s.ns, s.name), { ns: s.ns, name: s.name, mtu: s.mtu });
      if (s.type === 'veth')
        links.set(k(s.peer.ns ?? s.ns, s.peer.name), { ns: s.peer.ns ?? s.ns, name: s.peer.name, mtu: s.peer.mtu ?? s.mtu });
    } else if (s.kind === 'link-set') {
      const cur = links.get(k(s.ns, s.name)) ?? { ns: s.ns, name: s.name };
      if (s.mtu !== undefined) cur.mtu = s.mtu;
      if (s.up !== undefined) cur.up = s.up;
      if (s.netns !== undefined) {
        links.delete(k(s.ns, s.name));
        cur.ns = s.netns;
      }
      links.set(k(cur.ns, cur.name), cur);
    } else if (s.kind === 'daemon') for (const d of s.devices ?? []) links.set(k(s.ns, d.name), { ns: s.ns, name: d.name });
  }
  return links;
}

/**
 * Pure: the addresses the plan leaves in place — an `addr del` later in the plan removes an earlier
 * add (bridge-l2 and the OVS schemes move a host's underlay address from eth0 to the bridge).
 */
export function plannedAddrs(steps: readonly Step[]): AddrStep[] {
  const addrs = new Map<string, AddrStep>();
  for (const s of steps)
    if (s.kind === 'addr') {
      const key = `${s.ns} ${s.dev} ${s.cidr}`;
      if (s.op === 'add') addrs.set(key, s);
      else addrs.delete(key);
    }
  return [...addrs.values()];
}

/** Pure: the namespaces where a CNI plugin, daemon, OVS or script makes devices and routes beside the plan's own steps. */
export function othersMakeIn(steps: readonly Step[]): Set<string> {
  return new Set(
    steps.flatMap((s) =>
      s.kind === 'cni' ? [s.ns, s.containerNs] : s.kind === 'daemon' || s.kind === 'ovs' || s.kind === 'exec' ? [s.ns] : [],
    ),
  );
}

/** Pure: the plan's steps against live state by namespace → drift. */
export function diffPlan(steps: readonly Step[], live: ReadonlyMap<string, LiveNs>): Drift[] {
  const out: Drift[] = [];
  const links = plannedLinks(steps);
  for (const w of links.values()) {
    const l = live.get(w.ns)?.links.find((x) => x.ifname === w.name);
    if (!l) out.push({ change: 'missing', ns: w.ns, object: `link ${w.name}` });
    else {
      if (w.mtu !== undefined && l.mtu !== w.mtu)
        out.push({ change: 'changed', ns: w.ns, object: `link ${w.name}`, detail: `mtu ${l.mtu} (plan ${w.mtu})` });
      if (w.up && !(l.flags ?? []).includes('UP'))
        out.push({ change: 'changed', ns: w.ns, object: `link ${w.name}`, detail: 'down (plan up)' });
    }
  }
  // Extra devices only where nothing but the plan's own steps makes them.
  const othersMake = othersMakeIn(steps);
  for (const [ns, l] of live)
    if (!othersMake.has(ns))
      for (const x of l.links)
        if (x.ifname !== 'lo' && !links.has(`${ns} ${x.ifname}`)) out.push({ change: 'extra', ns, object: `link ${x.ifname}` });
  for (const s of plannedAddrs(steps)) {
    const [a, p] = s.cidr.split('/');
    const has = live
      .get(s.ns)
      ?.addrs.some((x) => x.ifname === s.dev && (x.addr_info ?? []).some((i) => i.local === a && String(i.prefixlen) === (p ?? '32')));
    if (!has) out.push({ change: 'missing', ns: s.ns, object: `address ${s.cidr} on ${s.dev}` });
  }
  const sysctls = new Map<string, { ns: string; key: string; value: string }>();
  for (const s of steps) {
    const l = live.get(s.ns);
    if (s.kind === 'route') {
      const r = l?.routes.find((x) => x.dst === s.dest || (s.dest.endsWith('/32') && x.dst === s.dest.slice(0, -3)));
      if (!r) out.push({ change: 'missing', ns: s.ns, object: `route ${s.dest}` });
      else if (s.via !== undefined && r.gateway !== s.via)
        out.push({ change: 'changed', ns: s.ns, object: `route ${s.dest}`, detail: `via ${r.gateway ?? '-'} (plan ${s.via})` });
    } else if (s.kind === 'sysctl') sysctls.set(`${s.ns} ${s.key}`, s);
    else if (s.kind === 'fdb') {
      const ok = l?.fdb.some(
        (x) => x.mac.toLowerCase() === s.mac.toLowerCase() && x.ifname === s.dev && (s.dst === undefined || x.dst === s.dst),
      );
      if (!ok) out.push({ change: 'missing', ns: s.ns, object: `fdb ${s.mac} dev ${s.dev}${s.dst ? ` dst ${s.dst}` : ''}` });
    } else if (s.kind === 'neigh') {
      const n = l?.neigh.find((x) => x.dst === s.addr && x.dev === s.dev);
      if (!n) out.push({ change: 'missing', ns: s.ns, object: `neighbour ${s.addr} dev ${s.dev}` });
      else if (n.lladdr?.toLowerCase() !== s.lladdr.toLowerCase())
        out.push({
          change: 'changed',
          ns: s.ns,
          object: `neighbour ${s.addr} dev ${s.dev}`,
          detail: `lladdr ${n.lladdr ?? '-'} (plan ${s.lladdr})`,
        });
    }
  }
  for (const s of sysctls.values()) {
    const got = live.get(s.ns)?.sysctls.get(s.key);
    if (got === undefined) out.push({ change: 'missing', ns: s.ns, object: `sysctl ${s.key}` });
    else if (got !== s.value) out.push({ change: 'changed', ns: s.ns, object: `sysctl ${s.key}`, detail: `${got} (plan ${s.value})` });
  }
  return out;
}

export async function readLive(steps: readonly Step[], namespaces: readonly string[]): Promise<Map<string, LiveNs>> {
  const live = new Map<string, LiveNs>();
  await Promise.all(
    namespaces.map(async (ns) => {
      const keys = [...new Set(steps.flatMap((s) => (s.kind === 'sysctl' && s.ns === ns ? [s.key] : [])))];
      const [links, addrs, routes, fdb, neigh, sysctls] = await Promise.all([
        jsonIn<LiveNs['links'][number]>(ns, 'ip', ['link', 'show']),
        jsonIn<LiveNs['addrs'][number]>(ns, 'ip', ['addr', 'show']),
        jsonIn<LiveNs['routes'][number]>(ns, 'ip', ['route', 'show']),
        jsonIn<LiveNs['fdb'][number]>(ns, 'bridge', ['fdb', 'show']),
        jsonIn<LiveNs['neigh'][number]>(ns, 'ip', ['neigh', 'show']),
        readSysctls(ns, keys),
      ]);
      live.set(ns, { links, addrs, routes, fdb, neigh, sysctls });
    }),
  );
  return live;
}
