/**
 * Capability detection: root, Linux, binaries, kernel features, CNI plugins.
 *
 * Kernel features come from /proc/config.gz when it exists (see kconfig.ts for the `=y`/`=m`
 * rule), otherwise from probing: each feature is tried for real inside a throwaway network
 * namespace `cnl-probe<pid>-scratch`, which is always deleted afterwards. Probes are
 * serialised within the process, so the fixed namespace name never collides with itself.
 */
import { accessSync, constants, existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { release } from 'node:os';
import { delimiter, join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { RunError } from '../errors.js';
import { execArgs, type ExecResult } from '../util/exec.js';
import { featureFromConfig, parseKernelConfig, parseModulesDep, type ModuleEnv } from './kconfig.js';
import { KERNEL_FEATURES, type Capabilities, type KernelFeature, type Requirement } from './types.js';

export const DEFAULT_BINARIES = ['ip', 'tc', 'nft', 'ping', 'iperf3'] as const;
export const DEFAULT_CNI_PATH = '/usr/lib/cni';
export const CNI_PACKAGE = 'containernetworking-plugins';
const EXTRA_DIRS = ['/usr/local/sbin', '/usr/sbin', '/sbin'];
const PROBE_TIMEOUT_MS = 10_000;

// ---------------------------------------------------------------- binaries

/** Absolute path of an executable, searching PATH plus /usr/local/sbin, /usr/sbin, /sbin. */
export function findBinary(name: string, pathEnv: string | undefined = process.env.PATH): string | null {
  const isExec = (p: string): boolean => {
    try {
      if (!statSync(p).isFile()) return false;
      accessSync(p, constants.X_OK);
      return true;
    } catch {
      return false;
    }
  };
  if (name.includes('/')) return isExec(name) ? name : null;
  const dirs = [...(pathEnv ?? '').split(delimiter), ...EXTRA_DIRS].filter((d) => d.startsWith('/'));
  for (const dir of new Set(dirs)) {
    const p = join(dir, name);
    if (isExec(p)) return p;
  }
  return null;
}

// ---------------------------------------------------------------- CNI

/** The CNI plugin directory: the first entry of $CNI_PATH, else /usr/lib/cni. */
export function cniDir(env: NodeJS.ProcessEnv = process.env): string {
  return (env.CNI_PATH ?? '').split(delimiter).find((s) => s.length > 0) ?? DEFAULT_CNI_PATH;
}

/** Names of the executable regular files in a CNI plugin directory (sorted; [] when missing). */
export function listCniPlugins(dir: string): string[] {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return [];
  }
  return names.filter((n) => findBinary(join(dir, n)) !== null).sort();
}

// ---------------------------------------------------------------- kernel: config

/** The module-loading environment of the running kernel (see kconfig.ts). */
export function readModuleEnv(): ModuleEnv {
  const tree = `/lib/modules/${release()}`;
  const loadable = existsSync('/proc/modules') && existsSync(tree);
  if (!loadable) return { loadable };
  try {
    return { loadable, available: parseModulesDep(readFileSync(join(tree, 'modules.dep'), 'utf8')) };
  } catch {
    return { loadable };
  }
}

/** The text of /proc/config.gz, or null when it is absent or unreadable. */
export function readKernelConfigText(file = '/proc/config.gz'): string | null {
  try {
    return gunzipSync(readFileSync(file)).toString('utf8');
  } catch {
    return null;
  }
}

/** Every kernel feature decided from config text and a module environment. */
export function kernelFromConfig(text: string, modules: ModuleEnv): Record<KernelFeature, boolean> {
  const config = parseKernelConfig(text);
  return Object.fromEntries(KERNEL_FEATURES.map((f) => [f, featureFromConfig(config, f, modules)])) as Record<KernelFeature, boolean>;
}

// ---------------------------------------------------------------- kernel: probes

/** Name of this process's scratch namespace. */
export function scratchNamespace(): string {
  return `cnl-probe${process.pid}-scratch`;
}

interface ProbeCtx {
  /** `ip -n NS …` */
  ip(args: string[]): Promise<boolean>;
  /** `ip netns exec NS file …` (file resolved on the host first). */
  inNs(file: string, args: string[], input?: string): Promise<boolean>;
  /** A veth `cp0` inside the namespace to hang macvlan/ipvlan on; false when it cannot exist. */
  parent(): Promise<boolean>;
}

const nftNat = (table: string, action: string): string =>
  `add table ip ${table}\n` +
  `add chain ip ${table} post { type nat hook postrouting priority 100; }\n` +
  `add rule ip ${table} post ip saddr 198.18.0.0/15 ${action}\n`;

const PROBES: Record<KernelFeature, (c: ProbeCtx) => Promise<boolean>> = {
  VETH: (c) => c.ip(['link', 'add', 'pv0', 'type', 'veth', 'peer', 'name', 'pv1']),
  BRIDGE: (c) => c.ip(['link', 'add', 'pb0', 'type', 'bridge']),
  VXLAN: (c) => c.ip(['link', 'add', 'px0', 'type', 'vxlan', 'id', '1', 'dstport', '4789']),
  MACVLAN: async (c) => (await c.parent()) && c.ip(['link', 'add', 'pm0', 'link', 'cp0', 'type', 'macvlan', 'mode', 'bridge']),
  IPVLAN: async (c) => (await c.parent()) && c.ip(['link', 'add', 'pi0', 'link', 'cp0', 'type', 'ipvlan', 'mode', 'l2']),
  NET_IPIP: (c) => c.ip(['link', 'add', 'pt0', 'type', 'ipip', 'local', '198.18.0.1', 'remote', '198.18.0.2']),
  WIREGUARD: (c) => c.ip(['link', 'add', 'pw0', 'type', 'wireguard']),
  // The OVS datapath is a generic-netlink family, not a link kind; asking for it by name
  // also makes the kernel try to autoload the module.
  OPENVSWITCH: async (c) =>
    findBinary('genl') ? c.inNs('genl', ['ctrl', 'get', 'name', 'ovs_datapath']) : existsSync('/sys/module/openvswitch'),
  TUN: (c) => c.ip(['tuntap', 'add', 'pu0', 'mode', 'tap']),
  NF_TABLES: (c) => c.inNs('nft', ['-f', '-'], 'add table inet cnlprobe\n'),
  NFT_NAT: (c) => c.inNs('nft', ['-f', '-'], nftNat('cnlprobe_nat', 'snat to 198.18.0.1')),
  NFT_MASQ: (c) => c.inNs('nft', ['-f', '-'], nftNat('cnlprobe_masq', 'masquerade')),
  NFT_FIB: (c) =>
    c.inNs(
      'nft',
      ['-f', '-'],
      'add table inet cnlprobe_fib\n' +
        'add chain inet cnlprobe_fib pre { type filter hook prerouting priority 0; }\n' +
        'add rule inet cnlprobe_fib pre fib daddr type local accept\n',
    ),
  // The namespace's own loopback is a fine device for a root qdisc.
  NET_SCH_TBF: (c) => c.inNs('tc', ['qdisc', 'add', 'dev', 'lo', 'root', 'tbf', 'rate', '1mbit', 'burst', '32kbit', 'latency', '400ms']),
  // bpffs's mount point appears in sysfs only when the kernel has the bpf() system call.
  BPF_SYSCALL: async () => existsSync('/sys/fs/bpf'),
  NET_SCH_INGRESS: (c) => c.inNs('tc', ['qdisc', 'replace', 'dev', 'lo', 'clsact']),
  // A one-instruction classic BPF program ("accept") needs no compiler.
  NET_CLS_BPF: async (c) =>
    (await c.inNs('tc', ['qdisc', 'replace', 'dev', 'lo', 'clsact'])) &&
    c.inNs('tc', ['filter', 'add', 'dev', 'lo', 'ingress', 'bpf', 'bytecode', '1,6 0 0 4294967295,']),
};

let probeChain: Promise<unknown> = Promise.resolve();
function serial<T>(fn: () => Promise<T>): Promise<T> {
  const p = probeChain.then(fn, fn);
  probeChain = p.catch(() => undefined);
  return p;
}

const succeeded = (run: Promise<ExecResult>): Promise<boolean> =>
  run.then(
    (r) => r.code === 0,
    () => false,
  );

/**
 * Probe kernel features for real inside one scratch namespace, deleted in `finally`.
 * A probe that fails for any reason counts the feature as absent.
 * Throws RunError when the namespace itself cannot be created (no `ip`, not root, …).
 */
export function probeFeatures<F extends KernelFeature>(features: readonly F[]): Promise<Record<F, boolean>> {
  return serial(async () => {
    const ipBin = findBinary('ip');
    if (!ipBin) throw new RunError('cannot probe kernel features: `ip` is not installed', 'apt-get install iproute2');
    const ns = scratchNamespace();
    const add = await execArgs(ipBin, ['netns', 'add', ns], { timeoutMs: PROBE_TIMEOUT_MS });
    if (add.code !== 0) {
      const why = (add.stderr || add.stdout).trim() || `exit ${add.code ?? add.signal}`;
      throw new RunError(`cannot create probe namespace ${ns}: ${why}`, `if it is left over, remove it with: ip netns del ${ns}`);
    }
    try {
      let parent: Promise<boolean> | undefined;
      const ctx: ProbeCtx = {
        ip: (args) => succeeded(execArgs(ipBin, ['-n', ns, ...args], { timeoutMs: PROBE_TIMEOUT_MS })),
        inNs: (file, args, input) => {
          const path = findBinary(file);
          if (!path) return Promise.resolve(false);
          return succeeded(execArgs(ipBin, ['netns', 'exec', ns, path, ...args], { input, timeoutMs: PROBE_TIMEOUT_MS }));
        },
        parent: () => (parent ??= ctx.ip(['link', 'add', 'cp0', 'type', 'veth', 'peer', 'name', 'cp1'])),
      };
      const out = {} as Record<F, boolean>;
      for (const f of features) out[f] = await PROBES[f](ctx);
      return out;
    } finally {
      await execArgs(ipBin, ['netns', 'del', ns], { timeoutMs: PROBE_TIMEOUT_MS }).catch(() => undefined);
    }
  });
}

// ---------------------------------------------------------------- detect

type Base = Omit<Capabilities, 'binaries'>;
let cached: Promise<Base> | undefined;

async function detectBase(): Promise<Base> {
  const linux = process.platform === 'linux';
  const root = typeof process.getuid === 'function' && process.getuid() === 0;
  const cniPath = cniDir();
  const cniPlugins = listCniPlugins(cniPath);
  const none = Object.fromEntries(KERNEL_FEATURES.map((f) => [f, false])) as Record<KernelFeature, boolean>;
  if (!linux) return { root, linux, kernel: none, kernelSource: 'probe', cniPath, cniPlugins };
  const text = readKernelConfigText();
  if (text !== null) {
    return { root, linux, kernel: kernelFromConfig(text, readModuleEnv()), kernelSource: 'config', cniPath, cniPlugins };
  }
  // Probing needs root (namespaces); without it nothing can be shown to work.
  const kernel = root ? await probeFeatures(KERNEL_FEATURES) : none;
  return { root, linux, kernel, kernelSource: 'probe', cniPath, cniPlugins };
}

/**
 * What this machine offers. The kernel/CNI part is computed once per process (pass
 * `fresh: true` to redo it); binaries (DEFAULT_BINARIES plus `binaries`) are looked up per call.
 */
export async function detect(opts: { binaries?: string[]; fresh?: boolean } = {}): Promise<Capabilities> {
  if (opts.fresh || !cached) {
    const p = detectBase();
    cached = p;
    p.catch(() => {
      if (cached === p) cached = undefined;
    });
  }
  const base = await cached;
  const binaries: Record<string, string | null> = {};
  for (const name of new Set([...DEFAULT_BINARIES, ...(opts.binaries ?? [])])) binaries[name] = findBinary(name);
  return { ...base, binaries };
}

// ---------------------------------------------------------------- requirements

/** One human phrase per unmet requirement (deduplicated, in order). */
export function unmet(reqs: readonly Requirement[], caps: Capabilities): string[] {
  const out: string[] = [];
  for (const r of reqs) {
    let phrase: string | undefined;
    if (r.kind === 'kernel') {
      if (!caps.kernel[r.feature]) phrase = `needs CONFIG_${r.feature}`;
    } else if (r.kind === 'binary') {
      if (!caps.binaries[r.name]) phrase = `needs ${r.name} (apt-get install ${r.pkg})`;
    } else if (r.kind === 'file') {
      if (!existsSync(r.path)) phrase = r.phrase;
    } else if (!caps.cniPlugins.includes(r.plugin)) {
      phrase = `needs CNI plugin ${r.plugin} in ${caps.cniPath} (apt-get install ${CNI_PACKAGE})`;
    }
    if (phrase && !out.includes(phrase)) out.push(phrase);
  }
  return out;
}

/** "supported", or "unsupported here: " followed by the unmet phrases. */
export function supportLine(reqs: readonly Requirement[], caps: Capabilities): string {
  const missing = unmet(reqs, caps);
  return missing.length === 0 ? 'supported' : `unsupported here: ${missing.join(', ')}`;
}

/** Throw unless running as root on Linux. */
export function assertRootLinux(caps: Pick<Capabilities, 'root' | 'linux'>): void {
  if (!caps.root || !caps.linux) {
    throw new RunError('cnlab must run as root on Linux (it creates network namespaces) — run it with sudo');
  }
}
