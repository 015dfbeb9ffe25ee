import type { Plan, Step } from '../plan/types.js';

/**
 * Pure: what a scheme's plan built, read back from its steps — devices and their kinds, bridge
 * ports, veth peers, routes, NAT rules, daemons, OVS bridges and ports. The report derives the
 * packet's path and the scheme's family from these facts, never from the scheme's name.
 */

export interface Device {
  ns: string;
  name: string;
  /** veth, bridge, vxlan, macvlan, ipvlan, ipip, gre, geneve, wireguard, tun, tap, ovs-bridge, ovs-port… */
  type: string;
  /** Options after `type X` (e.g. vxlan id, dstport), or an OVS interface's options. */
  attrs: Record<string, string>;
  master?: string;
  mtu?: number;
  /** For a veth end: the other end. */
  peer?: { ns: string; name: string };
  /** The parent device (`link PARENT` for macvlan/ipvlan/vlan, `dev X` for vxlan). */
  parent?: string;
  /** The namespace it was created in, when it was moved since. */
  origin?: string;
}

export interface Route {
  ns: string;
  dest: string;
  via?: string;
  dev?: string;
  blackhole: boolean;
}

export interface CniAttachment {
  ns: string;
  containerNs: string;
  ifName: string;
  /** Plugin types in chain order, e.g. ["bridge", "portmap", "bandwidth"]. */
  chain: string[];
  main: Record<string, unknown> & { type: string };
}

export interface PlanFacts {
  devices: Device[];
  routes: Route[];
  cni: CniAttachment[];
  /** Namespaces whose nftables rules masquerade/SNAT or DNAT. */
  nat: Array<{ ns: string; snat: boolean; dnat: boolean }>;
  daemons: Array<{ ns: string; name: string; argv: string[] }>;
  /** Namespaces where an OVS bridge uses the userspace (netdev) datapath. */
  ovsUserspace: string[];
  /** Addresses added to devices: ns → device → CIDRs. */
  addresses: Array<{ ns: string; dev: string; cidr: string }>;
}

/** key value pairs from `args` (e.g. ["mtu","1450","master","br0","up"] → {mtu, master}). */
function pairs(args: string[], keys: string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (let i = 0; i < args.length - 1; i++) if (keys.includes(args[i])) out[args[i]] = args[i + 1];
  return out;
}

function find(f: PlanFacts, ns: string, name: string): Device | undefined {
  return f.devices.find((d) => d.ns === ns && d.name === name);
}

/** Move a device to another namespace, keeping a veth peer's view of it in step. */
function moveDevice(f: PlanFacts, d: Device, ns: string): void {
  for (const o of f.devices) if (o.peer && o.peer.ns === d.ns && o.peer.name === d.name) o.peer = { ns, name: d.name };
  d.origin ??= d.ns;
  d.ns = ns;
}

/** `ip link add … type X` options that take no value. */
const FLAGS = ['nolearning', 'learning', 'external', 'proxy', 'l2miss', 'l3miss', 'udpcsum', 'noudpcsum', 'gbp'];

/** Devices the kernel creates in every namespace when the tunnel module loads. */
const FALLBACK_TUNNELS: Record<string, string> = { tunl0: 'ipip', gre0: 'gre', gretap0: 'gretap', sit0: 'sit' };

function ipStep(f: PlanFacts, ns: string, args: string[]): void {
  const [obj, verb] = args;
  if (obj === 'link' && verb === 'add') {
    const name = args[2];
    const t = args.indexOf('type');
    const type = t >= 0 ? args[t + 1] : 'unknown';
    const head = pairs(args.slice(3, t >= 0 ? t : undefined), ['link', 'mtu', 'netns']);
    const tail = t >= 0 ? args.slice(t + 2) : [];
    const attrs: Record<string, string> = {};
    for (let i = 0; i < tail.length; i++) {
      if (tail[i] === 'peer') break;
      const next = tail[i + 1];
      if (next !== undefined && !FLAGS.includes(tail[i])) {
        attrs[tail[i]] = next;
        i++;
      } else attrs[tail[i]] = 'on';
    }
    const dev: Device = { ns: head.netns ?? ns, name, type, attrs, mtu: head.mtu ? Number(head.mtu) : undefined, parent: head.link ?? attrs.dev, origin: head.netns ? ns : undefined };
    f.devices.push(dev);
    if (type === 'veth') {
      const p = tail.indexOf('peer');
      const rest = p >= 0 ? pairs(tail.slice(p + 1), ['name', 'netns', 'mtu']) : {};
      const peer: Device = { ns: rest.netns ?? ns, name: rest.name ?? `${name}-peer`, type: 'veth', attrs: {}, mtu: dev.mtu, peer: { ns: dev.ns, name } };
      dev.peer = { ns: peer.ns, name: peer.name };
      f.devices.push(peer);
    }
  } else if (obj === 'link' && verb === 'set') {
    let d = find(f, ns, args[2]);
    // The kernel's fallback tunnel devices exist once their module loads, without a `link add`.
    if (!d && FALLBACK_TUNNELS[args[2]]) f.devices.push((d = { ns, name: args[2], type: FALLBACK_TUNNELS[args[2]], attrs: {} }));
    if (!d) return;
    const kv = pairs(args.slice(3), ['master', 'mtu', 'netns']);
    if (kv.master) d.master = kv.master;
    if (args.includes('nomaster')) d.master = undefined;
    if (kv.mtu) d.mtu = Number(kv.mtu);
    if (kv.netns) moveDevice(f, d, kv.netns);
  } else if (obj === 'tuntap' && verb === 'add') {
    const rest = args.slice(2).filter((a) => a !== 'dev');
    const kv = pairs(rest, ['mode']);
    f.devices.push({ ns, name: rest[0], type: kv.mode ?? 'tun', attrs: {} });
  } else if (obj === 'route' && (verb === 'add' || verb === 'replace' || verb === 'append')) {
    const blackhole = args[2] === 'blackhole';
    const dest = blackhole ? args[3] : args[2];
    const kv = pairs(args.slice(blackhole ? 4 : 3), ['via', 'dev']);
    f.routes.push({ ns, dest, via: kv.via, dev: kv.dev, blackhole });
  } else if (obj === 'addr' && verb === 'add') {
    const kv = pairs(args.slice(3), ['dev']);
    if (kv.dev) f.addresses.push({ ns, dev: kv.dev, cidr: args[2] });
  }
}

/** ovs-vsctl argv: add-br, add-port with `-- set interface P type=… options:…`, datapath_type. */
function ovsStep(f: PlanFacts, ns: string, argv: string[]): void {
  const cmds: string[][] = [[]];
  for (const a of argv.slice(1)) {
    if (a === '--') cmds.push([]);
    else if (!a.startsWith('--')) cmds[cmds.length - 1].push(a);
  }
  for (const c of cmds) {
    if (c[0] === 'add-br' && c[1]) {
      if (!find(f, ns, c[1])) f.devices.push({ ns, name: c[1], type: 'ovs-bridge', attrs: {} });
    } else if (c[0] === 'add-port' && c[1] && c[2]) {
      const existing = find(f, ns, c[2]);
      if (existing) existing.master = c[1];
      else f.devices.push({ ns, name: c[2], type: 'ovs-port', attrs: {}, master: c[1] });
    } else if (c[0] === 'set' && (c[1] === 'interface' || c[1] === 'Interface') && c[2]) {
      const d = find(f, ns, c[2]);
      for (const kv of c.slice(3)) {
        const m = /^(type|options:[\w-]+)=(.*)$/.exec(kv);
        if (!m || !d) continue;
        if (m[1] === 'type') d.type = `ovs-${m[2]}`;
        else d.attrs[m[1].slice('options:'.length)] = m[2].replace(/^"|"$/g, '');
      }
    } else if (c[0] === 'set' && (c[1] === 'bridge' || c[1] === 'Bridge') && c.some((x) => x === 'datapath_type=netdev')) {
      f.ovsUserspace.push(ns);
    }
  }
}

/** A daemon; one that holds a TUN/TAP device (`--mode tun|tap --dev NAME`) creates that device. */
function daemonStep(f: PlanFacts, ns: string, name: string, argv: string[]): void {
  f.daemons.push({ ns, name, argv });
  const kv = pairs(argv, ['--mode', '--dev']);
  if (kv['--dev'] && (kv['--mode'] === 'tun' || kv['--mode'] === 'tap') && !find(f, ns, kv['--dev'])) {
    f.devices.push({ ns, name: kv['--dev'], type: kv['--mode'], attrs: { daemon: name } });
  }
}

function cniStep(f: PlanFacts, s: Extract<Step, { kind: 'cni' }>): void {
  const plugins = s.conflist?.plugins ?? [];
  if (!plugins.length) return;
  const main = plugins[0];
  f.cni.push({ ns: s.ns, containerNs: s.containerNs, ifName: s.ifName, chain: plugins.map((p) => String(p.type)), main });
  // What the main plugin creates on the host side, as devices.
  if (main.type === 'bridge' && typeof main.bridge === 'string' && !find(f, s.ns, main.bridge)) {
    f.devices.push({ ns: s.ns, name: main.bridge, type: 'bridge', attrs: {}, mtu: typeof main.mtu === 'number' ? main.mtu : undefined });
  }
  if (plugins.some((p) => p.type === 'portmap') || (main.type === 'bridge' && main.ipMasq === true)) {
    f.nat.push({ ns: s.ns, snat: main.ipMasq === true, dnat: plugins.some((p) => p.type === 'portmap') });
  }
}

export function planFacts(plan: Plan | undefined): PlanFacts {
  const f: PlanFacts = { devices: [], routes: [], cni: [], nat: [], daemons: [], ovsUserspace: [], addresses: [] };
  for (const stage of plan?.stages ?? []) {
    for (const s of stage.steps as Step[]) {
      if (s.kind === 'ip' && Array.isArray(s.args)) ipStep(f, s.ns, s.args.map(String));
      else if (s.kind === 'cni') cniStep(f, s);
      else if (s.kind === 'nft' && typeof s.ruleset === 'string') {
        const snat = /\b(masquerade|snat)\b/.test(s.ruleset);
        const dnat = /\bdnat\b/.test(s.ruleset);
        if (snat || dnat) f.nat.push({ ns: s.ns, snat, dnat });
      } else if (s.kind === 'exec' && Array.isArray(s.argv) && /(^|\/)ovs-vsctl$/.test(String(s.argv[0]))) ovsStep(f, s.ns, s.argv.map(String));
      else if (s.kind === 'daemon') daemonStep(f, s.ns, String(s.name), (s.argv ?? []).map(String));
    }
  }
  return f;
}

export const TUNNEL_TYPES = ['vxlan', 'ipip', 'gre', 'gretap', 'geneve', 'wireguard', 'sit', 'ovs-vxlan', 'ovs-geneve', 'ovs-gre'];

/** Devices in `ns` (optionally of `types`). */
export function devicesIn(f: PlanFacts, ns: string, types?: string[]): Device[] {
  return f.devices.filter((d) => d.ns === ns && (!types || types.includes(d.type)));
}

export function deviceNamed(f: PlanFacts, ns: string, name: string): Device | undefined {
  return find(f, ns, name);
}
