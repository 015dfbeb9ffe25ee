import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Requirement } from '../caps/types.js';
import { cniDir, findBinary } from '../caps/detect.js';
import { parseConflist } from '../cni/conflist.js';
import { InputError } from '../errors.js';
import type { HostNode, Lab } from '../lab/types.js';
import type { CniConfList } from '../cni/types.js';
import type { Stage, Step } from '../plan/types.js';
import { podGateway, podIp } from './parts/addresses.js';
import { cniAttach } from './parts/cni-attach.js';
import { peerRoutes } from './parts/fabric.js';
import { hostBlock } from './parts/routed-veth.js';
import { containerWorkloads, direct } from './parts/workloads.js';
import type { Scheme } from '../plan/scheme.js';

/**
 * `--cni FILE`: any CNI network configuration list as a scheme, its containers attached by
 * running the config's own plugins from the CNI plugin directory, chained, as a runtime does.
 *
 * What cnlab changes in the config, and nothing else:
 * - the one plugin carrying an `ipam` section must use host-local: cnlab replaces its ranges with
 *   the host's pod block (gateway .1), keeps its other keys (routes…), points `dataDir` at the
 *   lab's state directory, and asks for each container's address through the `ips` capability
 *   (added to that plugin), so the plan knows every address before anything runs;
 * - the runtime passes only that `ips` capability (no portMappings, no bandwidth runtimeConfig:
 *   put rates in the plugin's own keys).
 * What cnlab builds around it: the namespaces, the underlay, IP forwarding on the hosts, and with
 * `peerRoutes` a static route per peer's pod block via the peer's underlay address (flannel
 * host-gw's fabric). Without it there is no cross-host fabric: that is the config's concern.
 */

export interface CniFileOptions {
  /** Add a route per peer host's pod block via its underlay address (--cni-peer-routes). */
  peerRoutes?: boolean;
}

type Plugin = CniConfList['plugins'][number];

/** A lab name derived from a scheme's or a CNI config's name: lowercase, hyphens, at most 16 characters (a longer name: its first 11 and a 4-hex digest). */
export function cniLabName(name: string): string {
  let s = name
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '');
  if (!/^[a-z]/.test(s)) s = `cni-${s}`;
  if (s.length <= 16) return s;
  // Too long: a prefix and a short digest of the whole name, so two long names never share a lab.
  const digest = createHash('sha256').update(s).digest('hex').slice(0, 4);
  return `${s.slice(0, 11).replace(/-+$/, '')}-${digest}`;
}

function ipamIndex(list: CniConfList, source: string): number {
  const withIpam = list.plugins.flatMap((p, i) => (p.ipam ? [i] : []));
  if (withIpam.length !== 1) {
    throw new InputError(
      `CNI config ${source}: cnlab needs exactly one plugin with an "ipam" section, found ${withIpam.length}`,
      "cnlab assigns each container an address from the lab's pod blocks through host-local IPAM",
    );
  }
  const i = withIpam[0];
  const type = (list.plugins[i].ipam as { type: string }).type;
  if (type !== 'host-local') {
    throw new InputError(
      `CNI config ${source}: plugins[${i}].ipam.type is "${type}"; cnlab supports host-local only`,
      "cnlab sets host-local ranges per host from the lab's pod blocks so that it knows every address",
    );
  }
  return i;
}

/** The config as cnlab hands it to host h's plugins (see the file comment). */
export function hostConflist(lab: Lab, h: HostNode, list: CniConfList, ipamAt: number): CniConfList {
  const plugins = list.plugins.map((p, i): Plugin => {
    if (i !== ipamAt) return p;
    const { ranges: _r, subnet: _s, rangeStart: _rs, rangeEnd: _re, gateway: _g, dataDir: _d, ...keep } = p.ipam as Record<string, unknown>;
    const ipam = { ...keep, ranges: [[{ subnet: hostBlock(h), gateway: podGateway(h) }]], dataDir: join(lab.stateDir, 'ipam') };
    const capabilities = { ...(p.capabilities as Record<string, boolean> | undefined), ips: true };
    return { ...p, ipam, capabilities };
  });
  return { ...list, plugins };
}

/** Every plugin binary the config names (plugins and their IPAM), in order, once each. */
export function pluginTypes(list: CniConfList): string[] {
  const types = list.plugins.flatMap((p) => [p.type, ...(p.ipam ? [(p.ipam as { type: string }).type] : [])]);
  return [...new Set(types)];
}

/** Read and validate a conflist file and make it a scheme named after the config's `name`. */
export function schemeFromConflist(path: string, opts: CniFileOptions = {}): Scheme {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw new InputError(`cannot read CNI config ${path}: ${(e as NodeJS.ErrnoException).code ?? String(e)}`);
  }
  const list = parseConflist(text, path);
  const ipamAt = ipamIndex(list, path);
  const main = list.plugins[ipamAt];
  const mtu = typeof main.mtu === 'number' && Number.isInteger(main.mtu) && main.mtu > 0 ? main.mtu : 1500;
  const types = pluginTypes(list);
  const requires: Requirement[] = types.map((plugin) => ({ kind: 'cni', plugin }));
  return {
    name: list.name,
    summary: `CNI config ${path}: ${list.plugins.map((p) => p.type).join(' + ')}`,
    attach: 'cni',
    requires,
    notes: [
      `user CNI config ${path} (host-local ranges set per host by cnlab)`,
      opts.peerRoutes ? 'cross-host fabric: static peer routes added by cnlab' : 'cross-host fabric: none added by cnlab',
    ],
    containers: true,
    overhead: 0,
    build(lab) {
      const attach: Step[] = [];
      for (const h of lab.hosts) {
        const hostList = hostConflist(lab, h, list, ipamAt);
        for (const c of h.containers) attach.push(cniAttach(h, c, hostList, podIp(h, c), h.podBlock.prefix));
      }
      const stages: Stage[] = [
        { title: `containers attached by ${list.name}: ${list.plugins.map((p) => p.type).join(' -> ')}`, steps: attach },
      ];
      if (opts.peerRoutes)
        stages.push({ title: 'inter-host routes (--cni-peer-routes): each peer block via the peer', steps: peerRoutes(lab) });
      return { stages, workloads: containerWorkloads(lab, podIp), mtu, targetIp: direct };
    },
  };
}

/**
 * Like schemeFromConflist, then checks that every plugin it names is an executable in the CNI
 * plugin directory: a user's config naming a missing plugin is their input's problem (exit 2),
 * found before anything is created.
 */
export function loadCniScheme(path: string, opts: CniFileOptions = {}, dir: string = cniDir()): Scheme {
  const scheme = schemeFromConflist(path, opts);
  for (const r of scheme.requires) {
    if (r.kind === 'cni' && !findBinary(join(dir, r.plugin))) {
      throw new InputError(
        `CNI plugin "${r.plugin}" not found in ${dir} (from ${path})`,
        "install it there (the directory is CNI_PATH's first entry, or /usr/lib/cni)",
      );
    }
  }
  return scheme;
}

/**
 * The --cni and --cni-peer-routes flags → the scheme, or undefined without --cni. `checkPlugins`
 * (run, up) also requires every plugin to be present; `plan` prints without them.
 */
export function cniFromFlags(o: Record<string, unknown>, checkPlugins: boolean): Scheme | undefined {
  if (o.cni === undefined) {
    if (o.cniPeerRoutes) throw new InputError('--cni-peer-routes needs --cni FILE');
    return undefined;
  }
  const opts = { peerRoutes: o.cniPeerRoutes === true };
  return checkPlugins ? loadCniScheme(String(o.cni), opts) : schemeFromConflist(String(o.cni), opts);
}

/** `chosen` plus the CNI scheme, whose name must not be taken (nor be "host", the baseline). */
export function withCniScheme(chosen: Scheme[], cni: Scheme): Scheme[] {
  if (cni.name === 'host' || chosen.some((s) => s.name === cni.name)) {
    throw new InputError(`CNI config name "${cni.name}" is also the name of a scheme in this run`, 'rename the config\'s "name"');
  }
  return [...chosen, cni];
}

/**
 * `plan`/`up`: a scheme name or --cni FILE, not both. The default lab name is the scheme's or the
 * CNI config's name made a lab name (cniLabName).
 */
export function schemeArg(
  name: string | undefined,
  cni: Scheme | undefined,
  lookup: (n: string) => Scheme,
): { scheme: Scheme; lab: string } {
  if (cni && name !== undefined) throw new InputError(`give a scheme or --cni FILE, not both (got "${name}" and --cni)`);
  if (cni) return { scheme: cni, lab: cniLabName(cni.name) };
  if (name === undefined) throw new InputError('missing scheme', 'see: cnlab schemes, or use --cni FILE');
  const scheme = lookup(name);
  // Scheme names may be longer than a lab name may be (flannel-udp-encrypted): derive one that fits.
  return { scheme, lab: cniLabName(scheme.name) };
}

/** The --cni flags of `plan` and `up` (`run` words them for measuring beside other schemes). */
export function cniFlags<C extends { option(flags: string, description: string): C }>(cmd: C): C {
  return cmd
    .option('--cni <file>', 'a CNI config list (.conflist) as the scheme, instead of a scheme name')
    .option('--cni-peer-routes', "with --cni: route each peer host's pod block via the peer");
}
