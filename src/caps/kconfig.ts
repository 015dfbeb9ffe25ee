/**
 * Pure helpers for the kernel build configuration (the text of /proc/config.gz).
 *
 * Presence rule (decided here, used by detect()):
 *  - `CONFIG_X=y`  → present (built in).
 *  - `CONFIG_X=m`  → present only when modules can actually be loaded: the kernel has module
 *    support (/proc/modules exists) AND a module tree exists for the running kernel
 *    (/lib/modules/$(uname -r)) AND, when that tree's modules.dep could be read, it lists the
 *    module. A monolithic kernel (no /proc/modules, no module tree) therefore does NOT have a
 *    `=m` feature — the code was built but there is nothing to load.
 *  - anything else (`# CONFIG_X is not set`, absent, other values) → not present.
 */
import type { KernelFeature } from './types.js';

/**
 * Parse kernel config text into CONFIG_NAME → value.
 * Keys keep their `CONFIG_` prefix. `=y` / `=m` map to 'y' / 'm'; quoted string values are
 * unquoted; other values are kept verbatim. `# CONFIG_X is not set` lines map to 'n';
 * other comments and blank lines are ignored.
 */
export function parseKernelConfig(text: string): Map<string, 'y' | 'm' | string> {
  const out = new Map<string, string>();
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (!line) continue;
    const unset = /^#\s*(CONFIG_[A-Za-z0-9_]+) is not set$/.exec(line);
    if (unset) {
      out.set(unset[1], 'n');
      continue;
    }
    if (line.startsWith('#')) continue;
    const kv = /^(CONFIG_[A-Za-z0-9_]+)=(.*)$/.exec(line);
    if (!kv) continue;
    let value = kv[2];
    if (value.length >= 2 && value.startsWith('"') && value.endsWith('"')) {
      value = value.slice(1, -1).replace(/\\(["\\])/g, '$1');
    }
    out.set(kv[1], value);
  }
  return out;
}

/** The loadable module that provides each feature when it is built as `=m`. */
export const FEATURE_MODULES: Record<KernelFeature, string> = {
  VETH: 'veth',
  BRIDGE: 'bridge',
  VXLAN: 'vxlan',
  MACVLAN: 'macvlan',
  IPVLAN: 'ipvlan',
  NET_IPIP: 'ipip',
  WIREGUARD: 'wireguard',
  OPENVSWITCH: 'openvswitch',
  TUN: 'tun',
  NF_TABLES: 'nf_tables',
  NFT_NAT: 'nft_nat',
  NFT_MASQ: 'nft_masq',
  NFT_FIB: 'nft_fib',
  NET_SCH_TBF: 'sch_tbf',
  BPF_SYSCALL: 'bpf',
  NET_SCH_INGRESS: 'sch_ingress',
  NET_CLS_BPF: 'cls_bpf',
};

/** What the machine offers for loading modules. */
export interface ModuleEnv {
  /** Kernel module support is on and a module tree exists for the running kernel. */
  loadable: boolean;
  /** Module names (underscored) listed in modules.dep; undefined when it could not be read. */
  available?: ReadonlySet<string>;
}

/** Normalise a module file or name to its underscored name: "nft-nat.ko.xz" → "nft_nat". */
export function moduleName(fileOrName: string): string {
  const base = fileOrName.slice(fileOrName.lastIndexOf('/') + 1);
  return base.replace(/\.ko(\.(xz|gz|zst))?$/, '').replace(/-/g, '_');
}

/** Module names listed in the text of modules.dep ("kernel/…/veth.ko: deps…" per line). */
export function parseModulesDep(text: string): Set<string> {
  const out = new Set<string>();
  for (const line of text.split('\n')) {
    const colon = line.indexOf(':');
    if (colon > 0) out.add(moduleName(line.slice(0, colon).trim()));
  }
  return out;
}

/** Whether a feature is present according to the config map and the module environment. */
export function featureFromConfig(config: ReadonlyMap<string, string>, feature: KernelFeature, modules: ModuleEnv): boolean {
  const v = config.get(`CONFIG_${feature}`);
  if (v === 'y') return true;
  if (v !== 'm') return false;
  if (!modules.loadable) return false;
  return modules.available ? modules.available.has(FEATURE_MODULES[feature]) : true;
}
