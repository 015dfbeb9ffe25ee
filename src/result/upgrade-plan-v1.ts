import type { LinkKind, OvsOp, Step } from '../plan/types.js';

/**
 * Result version 1 → 2: version 1 stored plan steps as argv (`{kind:'ip', args}`, `bridge`, `tc`,
 * ovs-vsctl/ovs-ofctl through `exec`). This turns them into the typed steps of plan/types.ts, so
 * reports read old files as they read new ones. It is the only argv parser outside render/apply,
 * and exists only because version-1 files exist. What it does not recognise stays an `exec` step
 * with the same command line (the report ignores it).
 */

type Old = Record<string, unknown> & { kind: string; ns: string };

/** key value pairs from `args` (e.g. ["mtu","1450","master","br0","up"] → {mtu, master}). */
function pairs(args: string[], keys: string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (let i = 0; i < args.length - 1; i++) if (keys.includes(args[i])) out[args[i]] = args[i + 1];
  return out;
}

const num = (v: string | undefined): number | undefined => (v === undefined || !/^\d+$/.test(v) ? undefined : Number(v));
const asExec = (ns: string, argv: string[]): Step => ({ kind: 'exec', ns, argv });

function linkKind(type: string, tail: string[], head: Record<string, string>): LinkKind | undefined {
  const kv = pairs(tail, ['id', 'local', 'remote', 'dev', 'dstport', 'mode', 'name', 'mtu', 'netns']);
  switch (type) {
    case 'veth': {
      const p = tail.indexOf('peer');
      const peer = p >= 0 ? pairs(tail.slice(p + 1), ['name', 'netns', 'mtu']) : {};
      return peer.name
        ? { type, peer: { name: peer.name, ...(num(peer.mtu) ? { mtu: num(peer.mtu) } : {}), ...(peer.netns ? { ns: peer.netns } : {}) } }
        : undefined;
    }
    case 'bridge':
    case 'dummy':
    case 'wireguard':
      return { type };
    case 'vxlan': {
      const has = (w: string) => tail.includes(w) || undefined;
      const learning = tail.includes('nolearning') ? false : tail.includes('learning') ? true : undefined;
      return {
        type,
        vxlan: {
          id: num(kv.id) ?? 0,
          local: kv.local,
          dev: kv.dev,
          dstport: num(kv.dstport) ?? 0,
          learning,
          proxy: has('proxy'),
          l2miss: has('l2miss'),
          l3miss: has('l3miss'),
          external: has('external'),
        },
      };
    }
    case 'ipip':
    case 'gre':
    case 'gretap':
    case 'sit':
      return { type, tunnel: { local: kv.local, remote: kv.remote, dev: kv.dev } };
    case 'macvlan':
    case 'ipvlan':
      return head.link ? { type, parent: head.link, mode: kv.mode ?? (type === 'macvlan' ? 'vepa' : 'l3') } : undefined;
    default:
      return undefined;
  }
}

function ipStep(ns: string, a: string[]): Step[] {
  const [obj, verb] = a;
  if (obj === 'link' && verb === 'add') {
    const t = a.indexOf('type');
    const head = pairs(a.slice(3, t >= 0 ? t : undefined), ['link', 'mtu', 'netns']);
    const kind = t >= 0 ? linkKind(a[t + 1], a.slice(t + 2), head) : undefined;
    if (!kind) return [asExec(ns, ['ip', ...a])];
    const link = { kind: 'link', ns, name: a[2], ...(num(head.mtu) ? { mtu: num(head.mtu) } : {}), ...kind } as Step;
    return head.netns ? [link, { kind: 'link-set', ns, name: a[2], netns: head.netns }] : [link];
  }
  if (obj === 'link' && verb === 'set') {
    const rest = a.slice(3);
    const kv = pairs(rest, ['address', 'mtu', 'txqueuelen', 'master', 'netns']);
    const state = rest.includes('up') ? true : rest.includes('down') ? false : undefined;
    return [
      {
        kind: 'link-set',
        ns,
        name: a[2],
        address: kv.address,
        mtu: num(kv.mtu),
        txqueuelen: num(kv.txqueuelen),
        master: rest.includes('nomaster') ? null : kv.master,
        netns: kv.netns,
        up: state,
      },
    ];
  }
  if (obj === 'tuntap' && verb === 'add') {
    const rest = a.slice(2).filter((x) => x !== 'dev' && x !== 'name');
    const mode = pairs(rest, ['mode']).mode === 'tap' ? 'tap' : 'tun';
    return [{ kind: 'link', ns, name: rest[0], type: mode }];
  }
  if (obj === 'route' && (verb === 'add' || verb === 'replace' || verb === 'append')) {
    const blackhole = a[2] === 'blackhole';
    const rest = a.slice(blackhole ? 4 : 3);
    const kv = pairs(rest, ['via', 'dev', 'scope']);
    return [
      {
        kind: 'route',
        ns,
        dest: blackhole ? a[3] : a[2],
        blackhole: blackhole || undefined,
        via: kv.via,
        dev: kv.dev,
        scope: kv.scope as 'link' | undefined,
        onlink: rest.includes('onlink') || undefined,
      },
    ];
  }
  if (obj === 'addr' && (verb === 'add' || verb === 'del')) {
    const dev = pairs(a.slice(3), ['dev']).dev;
    if (dev) return [{ kind: 'addr', ns, op: verb, cidr: a[2], dev }];
  }
  if (obj === 'neigh' && verb === 'add') {
    const kv = pairs(a.slice(3), ['lladdr', 'dev']);
    if (kv.lladdr && kv.dev) return [{ kind: 'neigh', ns, addr: a[2], lladdr: kv.lladdr, dev: kv.dev }];
  }
  return [asExec(ns, ['ip', ...a])];
}

function ovsStep(ns: string, argv: string[]): Step {
  const db = argv.find((x) => x.startsWith('--db='))?.slice('--db='.length) ?? '';
  const cmds: string[][] = [[]];
  for (const x of argv.slice(1)) {
    if (x === '--') cmds.push([]);
    else if (!x.startsWith('--')) cmds[cmds.length - 1].push(x);
  }
  const ops: OvsOp[] = [];
  for (const c of cmds) {
    if (c[0] === 'add-br' && c[1]) ops.push({ op: 'add-br', bridge: c[1], datapath: 'system', failMode: 'standalone' });
    else if (c[0] === 'add-port' && c[1] && c[2]) ops.push({ op: 'add-port', bridge: c[1], port: c[2] });
    else if (c[0] === 'set' && /^bridge$/i.test(c[1] ?? '')) {
      const br = ops.find((o) => o.op === 'add-br' && o.bridge === c[2]);
      if (br?.op === 'add-br') {
        if (c.includes('datapath_type=netdev')) br.datapath = 'netdev';
        if (c.includes('fail_mode=secure')) br.failMode = 'secure';
      }
    } else if (c[0] === 'set' && /^interface$/i.test(c[1] ?? '')) {
      const port = ops.find((o) => o.op === 'add-port' && o.port === c[2]);
      if (port?.op !== 'add-port') continue;
      for (const kv of c.slice(3)) {
        const m = /^(type|options:[\w-]+)=(.*)$/.exec(kv);
        if (!m) continue;
        if (m[1] === 'type') port.type = m[2] as 'vxlan';
        else port.options = { ...port.options, [m[1].slice('options:'.length)]: m[2].replace(/^"|"$/g, '') };
      }
    }
  }
  return { kind: 'ovs', ns, db, ops };
}

/** A daemon holding a TUN/TAP device (`--mode tun|tap --dev NAME`, cnlab's encap daemon) declares it. */
function daemonStep(s: Old): Step {
  const argv = Array.isArray(s.argv) ? s.argv.map(String) : [];
  const kv = pairs(argv, ['--mode', '--dev']);
  const mode = kv['--mode'];
  const devices = kv['--dev'] && (mode === 'tun' || mode === 'tap') ? [{ name: kv['--dev'], type: mode as 'tun' | 'tap' }] : undefined;
  return { ...(s as unknown as Step & { kind: 'daemon' }), argv, ...(devices ? { devices } : {}) };
}

/** One version-1 step → typed steps. */
export function upgradeStep(s: Old): Step[] {
  const args = Array.isArray(s.args) ? s.args.map(String) : [];
  switch (s.kind) {
    case 'ip':
      return ipStep(s.ns, args);
    case 'bridge': {
      const kv = pairs(args.slice(3), ['dev', 'dst']);
      if (args[0] === 'fdb' && (args[1] === 'add' || args[1] === 'append') && kv.dev)
        return [{ kind: 'fdb', ns: s.ns, op: args[1], mac: args[2], dev: kv.dev, dst: kv.dst }];
      return [asExec(s.ns, ['bridge', ...args])];
    }
    case 'tc': {
      const kv = pairs(args, ['dev', 'rate', 'burst', 'latency']);
      if (args[0] === 'qdisc' && args[1] === 'add' && kv.dev && args.includes('tbf')) {
        return [
          {
            kind: 'qdisc',
            ns: s.ns,
            dev: kv.dev,
            qdisc: { type: 'tbf', rate: kv.rate ?? '', burst: kv.burst ?? '', latency: kv.latency ?? '' },
          },
        ];
      }
      return [asExec(s.ns, ['tc', ...args])];
    }
    case 'nft': {
      const ruleset = String(s.ruleset ?? '');
      const snat = /\b(masquerade|snat)\b/.test(ruleset);
      const dnat = /\bdnat\b/.test(ruleset);
      return [{ kind: 'nft', ns: s.ns, ruleset, ...(snat || dnat ? { nat: { snat, dnat } } : {}) }];
    }
    case 'exec': {
      const argv = Array.isArray(s.argv) ? s.argv.map(String) : [];
      if (/(^|\/)ovs-vsctl$/.test(argv[0] ?? '') && argv.includes('--timeout=30')) return [ovsStep(s.ns, argv)];
      return [s as unknown as Step];
    }
    case 'daemon':
      return [daemonStep(s)];
    default:
      return [s as unknown as Step];
  }
}

/** A version-1 result file's schemes with their plans' steps typed. */
export function upgradePlansV1(r: Record<string, unknown>): Record<string, unknown> {
  const schemes = Array.isArray(r.schemes) ? r.schemes : [];
  return {
    ...r,
    schemes: schemes.map((sc: Record<string, unknown>) => {
      const plan = sc?.plan as { stages?: Array<{ steps?: Old[] }> } | undefined;
      if (!plan || !Array.isArray(plan.stages)) return sc;
      return {
        ...sc,
        plan: {
          ...plan,
          stages: plan.stages.map((st) => ({
            ...st,
            steps: Array.isArray(st.steps)
              ? st.steps.flatMap((x): unknown[] => (x && typeof x.kind === 'string' ? upgradeStep(x) : [x]))
              : st.steps,
          })),
        },
      };
    }),
  };
}
