/**
 * Path walk: the packet from the source workload to the target, hop by hop as the live kernel
 * forwards it. In each namespace `ip route get DST from SRC [iif DEV]` (the kernel's own input
 * lookup, reverse-path check included) picks the device; a veth leads to its peer (found by its
 * netns id and ifindex), a bridge or a bridge port forwards by the next hop's MAC (neighbour, then
 * bridge FDB), a VXLAN device encapsulates to the VTEP its FDB names (the namespace owning that
 * address receives it on its device of the same VNI). Other devices (TUN, OVS, macvlan) end the
 * walk as not followed. The walker is pure over a `Kernel` (live, or captured output in tests).
 */

export interface RouteAnswer {
  type?: string;
  dev?: string;
  gateway?: string;
  /** ip's error line when the lookup failed (e.g. "Invalid cross-device link": reverse-path filter). */
  error?: string;
}

export interface LinkRec {
  ifindex: number;
  ifname: string;
  link_index?: number;
  link_netnsid?: number;
  master?: string;
  address?: string;
  linkinfo?: { info_kind?: string; info_data?: { id?: number } };
}

/** One namespace as the walker reads it (`ip -j -d link`, `ip -j netns list-id`, neighbours, FDB, addresses). */
export interface NsView {
  links: LinkRec[];
  nsids: Array<{ nsid: number; name?: string }>;
  neigh: Array<{ dst: string; dev?: string; lladdr?: string }>;
  fdb: Array<{ mac: string; ifname?: string; master?: string; dst?: string; flags?: string[]; state?: string }>;
  addrs: string[];
}

export interface Kernel {
  namespaces: readonly string[];
  view(ns: string): Promise<NsView>;
  routeGet(ns: string, dst: string, src: string, iif?: string): Promise<RouteAnswer>;
}

export interface WalkHop {
  ns: string;
  /** The device the packet arrived on (absent where it starts). */
  iif?: string;
  /** The device the kernel sends it out of; for a switched or tunnelled step, what forwarded it. */
  dev?: string;
  gateway?: string;
  note: string;
}

export interface Walk {
  hops: WalkHop[];
  /**
   * dropped: the kernel refused it (a route lookup error, an unreachable or blackhole route, a
   * loop); stopped: the walker found no neighbour, FDB entry or peer to go on with; unfollowed: a
   * device the walk does not follow.
   */
  end: 'delivered' | 'dropped' | 'stopped' | 'unfollowed';
  /** Why the walk ended where it did, when not delivered. */
  reason?: string;
}

const MAX_HOPS = 24;

interface Arrival {
  ns: string;
  iif: string;
  note: string;
}

export async function walkPath(k: Kernel, fromNs: string, toNs: string, src: string, dst: string): Promise<Walk> {
  const hops: WalkHop[] = [];
  let at: { ns: string; iif?: string } = { ns: fromNs };
  const seen = new Set<string>();
  for (let i = 0; i < MAX_HOPS; i++) {
    const key = `${at.ns} ${at.iif ?? ''}`;
    if (seen.has(key)) return { hops, end: 'dropped', reason: `loop: back in ${at.ns} on ${at.iif ?? 'its own stack'}` };
    seen.add(key);
    const r = await k.routeGet(at.ns, dst, src, at.iif);
    const hop: WalkHop = { ns: at.ns, iif: at.iif, note: '' };
    hops.push(hop);
    if (r.error) {
      hop.note = `ip route get: ${r.error}`;
      return { hops, end: 'dropped', reason: `${at.ns}: ${r.error}` };
    }
    if (r.type === 'local') {
      hop.note = 'local: delivered';
      if (at.ns === toNs) return { hops, end: 'delivered' };
      // A published port: the host's own address, a DNAT rule forwards it on (not followed).
      return { hops, end: 'unfollowed', reason: `not followed: ${at.ns} takes ${dst} as its own address (a DNAT rule may forward it)` };
    }
    if (r.type && r.type !== 'unicast') {
      hop.note = `route type ${r.type}`;
      return { hops, end: 'dropped', reason: `${at.ns}: route to ${dst} is ${r.type}` };
    }
    if (!r.dev) return { hops, end: 'stopped', reason: `${at.ns}: no device for ${dst}` };
    hop.dev = r.dev;
    hop.gateway = r.gateway;
    hop.note = `out ${r.dev}${r.gateway ? ` via ${r.gateway}` : ''}`;
    const next = await leave(k, at.ns, r.dev, r.gateway ?? dst, hops);
    if (typeof next === 'string') return { hops, end: next.startsWith('not followed') ? 'unfollowed' : 'stopped', reason: next };
    at = { ns: next.ns, iif: next.iif };
  }
  return { hops, end: 'dropped', reason: `more than ${MAX_HOPS} hops` };
}

const kindOf = (l: LinkRec): string | undefined => l.linkinfo?.info_kind;

/** The MAC the kernel sends to for next hop NH on DEV (its neighbour entry). */
function macFor(v: NsView, dev: string, nh: string): string | undefined {
  return v.neigh.find((n) => n.dst === nh && n.dev === dev && n.lladdr)?.lladdr?.toLowerCase();
}

/** Out of DEV in NS towards next hop NH: where the packet arrives (or why it does not). */
async function leave(k: Kernel, ns: string, dev: string, nh: string, hops: WalkHop[]): Promise<Arrival | string> {
  const v = await k.view(ns);
  const l = v.links.find((x) => x.ifname === dev);
  if (!l) return `${ns}: no device ${dev}`;
  const kind = kindOf(l);
  if (kind === 'veth' || kind === 'vxlan' || kind === 'bridge') {
    const mac = macFor(v, dev, nh);
    if (!mac) return `${ns}: no neighbour entry for ${nh} on ${dev}`;
    return send(k, ns, l, mac, hops, 0);
  }
  return `not followed: ${ns} ${dev} is ${kind ?? 'a device'} the walk does not follow`;
}

/** A frame to MAC sent out of (or switched to) link L in NS. */
async function send(k: Kernel, ns: string, l: LinkRec, mac: string, hops: WalkHop[], depth: number): Promise<Arrival | string> {
  if (depth > 8) return `${ns}: L2 loop at ${l.ifname}`;
  const v = await k.view(ns);
  const kind = kindOf(l);
  if (kind === 'bridge') {
    if (l.address?.toLowerCase() === mac) return { ns, iif: l.ifname, note: 'to the bridge itself' };
    const e = v.fdb.find((f) => f.mac.toLowerCase() === mac && f.master === l.ifname && f.ifname !== l.ifname);
    if (!e?.ifname) return `${ns}: bridge ${l.ifname} has no FDB entry for ${mac}`;
    const port = v.links.find((x) => x.ifname === e.ifname);
    if (!port) return `${ns}: no device ${e.ifname}`;
    hops.push({ ns, dev: port.ifname, note: `bridge ${l.ifname} → port ${port.ifname} (fdb ${mac})` });
    return send(k, ns, port, mac, hops, depth + 1);
  }
  if (kind === 'veth') {
    const peerNs = l.link_netnsid === undefined ? ns : v.nsids.find((n) => n.nsid === l.link_netnsid)?.name;
    if (!peerNs) return `${ns}: ${l.ifname}'s peer is in a namespace the walk cannot name`;
    const peer = (await k.view(peerNs)).links.find((x) => x.ifindex === l.link_index);
    if (!peer) return `${peerNs}: no veth peer of ${ns} ${l.ifname}`;
    return arrive(k, peerNs, peer, mac, hops, depth);
  }
  if (kind === 'vxlan') {
    const e =
      v.fdb.find((f) => f.mac.toLowerCase() === mac && f.ifname === l.ifname && f.dst) ??
      v.fdb.find((f) => f.mac === '00:00:00:00:00:00' && f.ifname === l.ifname && f.dst);
    if (!e?.dst) return `${ns}: ${l.ifname} has no FDB entry (remote VTEP) for ${mac}`;
    const vni = l.linkinfo?.info_data?.id;
    for (const other of k.namespaces) {
      if (!(await k.view(other)).addrs.includes(e.dst)) continue;
      const rx = await vxlanOf(k, other, vni);
      if (!rx) return `${other} owns VTEP ${e.dst} but has no VXLAN device with VNI ${vni}`;
      hops.push({
        ns,
        dev: l.ifname,
        note: `vxlan VNI ${vni}: ${mac} → VTEP ${e.dst} (${other}${rx.ns === other ? '' : `, device in ${rx.ns}`})`,
      });
      return arrive(k, rx.ns, rx.link, mac, hops, depth);
    }
    return `${ns}: VTEP ${e.dst} (for ${mac}) is no namespace of the lab`;
  }
  return `not followed: ${ns} ${l.ifname} is ${kind ?? 'a device'} the walk does not follow`;
}

/**
 * The VXLAN device with VNI that receives on VTEP namespace NS: in NS itself, or one created there
 * and moved to another namespace (docker-overlay's sandbox), which names NS by its link netns id.
 */
async function vxlanOf(k: Kernel, ns: string, vni: number | undefined): Promise<{ ns: string; link: LinkRec } | undefined> {
  for (const n of [ns, ...k.namespaces.filter((x) => x !== ns)]) {
    const v = await k.view(n);
    const link = v.links.find(
      (x) =>
        kindOf(x) === 'vxlan' &&
        x.linkinfo?.info_data?.id === vni &&
        (x.link_netnsid === undefined ? n === ns : v.nsids.find((i) => i.nsid === x.link_netnsid)?.name === ns),
    );
    if (link) return { ns: n, link };
  }
  return undefined;
}

/** The frame arrives at link L in NS: switched on if L is a bridge port, else received there. */
async function arrive(k: Kernel, ns: string, l: LinkRec, mac: string, hops: WalkHop[], depth: number): Promise<Arrival | string> {
  if (l.master) {
    const br = (await k.view(ns)).links.find((x) => x.ifname === l.master);
    if (!br || kindOf(br) !== 'bridge') return `not followed: ${ns} ${l.ifname} is a port of ${l.master}, not a Linux bridge`;
    hops.push({ ns, iif: l.ifname, note: `into bridge ${br.ifname}` });
    return send(k, ns, br, mac, hops, depth + 1);
  }
  return { ns, iif: l.ifname, note: '' };
}

/** Pure: the walk as lines (one per hop). */
export function walkLines(w: Walk): string[] {
  const lines = w.hops.map((h, i) => `${String(i + 1).padStart(2)}. ${h.ns}${h.iif ? ` in ${h.iif}` : ''}: ${h.note}`);
  lines.push(w.end === 'delivered' ? '    delivered' : `    ${w.end}: ${w.reason ?? ''}`);
  return lines;
}
