import { kernelFromConfig } from '../caps/detect.js';
import { parseModulesDep, type ModuleEnv } from '../caps/kconfig.js';
import { KERNEL_FEATURES, type KernelFeature } from '../caps/types.js';
import type { ExecResult } from '../util/exec.js';
import type { Executor } from '../util/executor.js';
import {
  aptLine,
  KEY_OFFLOADS,
  parseCpuinfo,
  parseEthtoolDriver,
  parseEthtoolFeatures,
  parseSpeed,
  parseToolPaths,
  routeDevice,
  sshClientAddress,
  type CpuFacts,
  type DriverFacts,
  type ToolNeed,
} from './facts.js';

/**
 * What one host offers, read through an Executor (over SSH for a real host): kernel, CPU, the
 * lab NIC (driver, speed, offloads), kernel features (from its /proc/config.gz with the same rule
 * as caps/detect.ts), the tools cnlab runs and the apt line for those it lacks. Only reads: no
 * command here changes anything on the host.
 */

export const CNI_DIR = '/usr/lib/cni';
export const CNI_PACKAGE = 'containernetworking-plugins';

/** Prints `name=path` per tool (empty path when absent), PATH widened as caps/detect.ts findBinary does. */
const TOOLS_SCRIPT = 'PATH="$PATH:/usr/local/sbin:/usr/sbin:/sbin"; for t; do printf "%s=%s\\n" "$t" "$(command -v "$t")"; done';

export interface HostFacts {
  name: string;
  ssh: string;
  /** Set when the host could not be checked at all (unreachable, no such NIC, not root). */
  error?: string;
  uid?: number;
  kernel?: string;
  arch?: string;
  cpu?: CpuFacts;
  nic?: { name: string; driver?: DriverFacts; speedMbps: number | null; offloads: Record<string, string> };
  /** The device the SSH connection's route leaves by on the host. */
  sshDevice?: string | null;
  /** null when the host has no /proc/config.gz (features are not probed over SSH yet). */
  kernelFeatures?: Record<KernelFeature, boolean> | null;
  tools?: Record<string, string | null>;
  cniPlugins?: string[];
  missing?: Array<{ name: string; pkg: string; neededBy: string[] }>;
  fix?: string | null;
}

export interface CheckInput {
  name: string;
  ssh: string;
  nic: string;
  /** Runs commands as the inventory says (with sudo when asked). */
  ex: Executor;
  /** Runs as the login user, never through sudo (sudo resets SSH_CONNECTION). */
  plain: Executor;
}

const firstLine = (r: ExecResult) => (r.stderr || r.stdout).trim().split('\n').filter(Boolean).slice(-1)[0] ?? `exit ${r.code ?? r.signal}`;

async function out(ex: Executor, argv: string[]): Promise<string | null> {
  const r = await ex.run(argv, { timeoutMs: 30_000 });
  return r.code === 0 ? r.stdout : null;
}

async function kernelFeatures(ex: Executor, release: string): Promise<Record<KernelFeature, boolean> | null> {
  const config = await ex.run(['zcat', '/proc/config.gz'], { timeoutMs: 30_000 });
  if (config.code !== 0 || !config.stdout) return null;
  const loadable = (await ex.run(['test', '-e', '/proc/modules'])).code === 0;
  const dep = loadable ? await out(ex, ['cat', `/lib/modules/${release}/modules.dep`]) : null;
  const modules: ModuleEnv = dep === null ? { loadable } : { loadable, available: parseModulesDep(dep) };
  return kernelFromConfig(config.stdout, modules);
}

/** The device the SSH connection's route leaves by on the host; `plain` must not go through sudo (it resets SSH_CONNECTION). */
export async function sshDevice(plain: Executor): Promise<string | null> {
  const conn = sshClientAddress((await out(plain, ['printenv', 'SSH_CONNECTION'])) ?? '');
  return conn ? routeDevice((await out(plain, ['ip', '-j', 'route', 'get', conn])) ?? '') : null;
}

/** Check one host; never throws for the host's own problems (they go in `error`). */
export async function checkHost(h: CheckInput, needs: readonly ToolNeed[], cniPlugins: readonly string[]): Promise<HostFacts> {
  const facts: HostFacts = { name: h.name, ssh: h.ssh };
  let probe: ExecResult;
  try {
    probe = await h.plain.run(['uname', '-r', '-m'], { timeoutMs: 60_000 });
  } catch (e) {
    return { ...facts, error: `cannot run ssh: ${(e as Error).message}` };
  }
  if (probe.code !== 0) return { ...facts, error: `unreachable: ${firstLine(probe)}` };
  [facts.kernel, facts.arch] = probe.stdout.trim().split(/\s+/);

  facts.sshDevice = await sshDevice(h.plain);

  const id = await h.ex.run(['id', '-u']);
  facts.uid = id.code === 0 ? Number(id.stdout.trim()) : undefined;

  const cpuinfo = await out(h.plain, ['cat', '/proc/cpuinfo']);
  if (cpuinfo !== null) facts.cpu = parseCpuinfo(cpuinfo);

  const link = await h.plain.run(['ip', '-j', 'link', 'show', 'dev', h.nic]);
  if (link.code !== 0) facts.error = `nic ${h.nic}: ${firstLine(link)}`;
  else {
    const drv = await out(h.plain, ['ethtool', '-i', h.nic]);
    const feats = await out(h.plain, ['ethtool', '-k', h.nic]);
    const speed = await out(h.plain, ['cat', `/sys/class/net/${h.nic}/speed`]);
    const all = feats === null ? {} : parseEthtoolFeatures(feats);
    const offloads = Object.fromEntries(KEY_OFFLOADS.filter((k) => k in all).map((k) => [k, all[k]]));
    facts.nic = {
      name: h.nic,
      driver: drv === null ? undefined : parseEthtoolDriver(drv),
      speedMbps: speed === null ? null : parseSpeed(speed),
      offloads,
    };
  }

  facts.kernelFeatures = facts.kernel ? await kernelFeatures(h.plain, facts.kernel) : null;

  const tools = await out(h.plain, ['sh', '-c', TOOLS_SCRIPT, 'sh', ...needs.map((t) => t.name)]);
  facts.tools = tools === null ? {} : parseToolPaths(tools);
  const cni = await out(h.plain, ['find', CNI_DIR, '-maxdepth', '1', '-type', 'f', '-perm', '-u+x', '-printf', '%f\\n']);
  facts.cniPlugins = (cni ?? '').split('\n').filter(Boolean).sort();

  facts.missing = needs.filter((t) => !facts.tools?.[t.name]).map((t) => ({ ...t }));
  const cniMissing = cniPlugins.filter((p) => !facts.cniPlugins?.includes(p));
  if (cniMissing.length)
    facts.missing.push({ name: `CNI plugins (${cniMissing.join(', ')})`, pkg: CNI_PACKAGE, neededBy: ['schemes using CNI'] });
  facts.fix = aptLine(facts.missing.map((m) => m.pkg));
  if (!facts.error && facts.uid !== 0) facts.error = `not root there (uid ${facts.uid ?? '?'}): log in as root or set sudo: true`;
  return facts;
}

/** Kernel features a host lacks, as CONFIG_ names. */
export function missingFeatures(f: HostFacts): string[] {
  if (!f.kernelFeatures) return [];
  return KERNEL_FEATURES.filter((k) => !f.kernelFeatures?.[k]).map((k) => `CONFIG_${k}`);
}

/** The commands `hosts prepare` runs on a host lacking packages (argv, through the executor). */
export function prepareArgvs(pkgs: readonly string[]): string[][] {
  const uniq = [...new Set(pkgs)].sort();
  if (!uniq.length) return [];
  const env = ['env', 'DEBIAN_FRONTEND=noninteractive'];
  return [
    [...env, 'apt-get', 'update', '-qq'],
    [...env, 'apt-get', 'install', '-y', '-qq', '--no-install-recommends', ...uniq],
  ];
}
