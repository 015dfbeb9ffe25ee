import { constants } from 'node:fs';
import { access } from 'node:fs/promises';
import { join } from 'node:path';
import { InputError, RunError } from '../errors.js';
import type { CniConfList } from './types.js';
import type { CniStep } from './types.js';
import { execArgs, inNetns, type ExecResult } from '../util/exec.js';
import { LOCAL, type Executor } from '../util/executor.js';
import { CNI_NAME_RE, isPlainName } from './conflist.js';
import { parseResult, type CniResult } from './result.js';

/**
 * The runtime side of CNI spec 1.0, as containerd or cri-o do it: run each plugin of a network
 * configuration list with the CNI_* environment and its config on stdin, chain ADD results as
 * `prevResult`, and run DEL in reverse order.
 */

export { containerAddress, parseResult, type CniResult } from './result.js';

export const DEFAULT_CNI_PATH = '/usr/lib/cni';
/** The only PATH plugins see (bridge and portmap call iptables, the IPAM plugins nothing). */
export const PLUGIN_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';
const DEFAULT_TIMEOUT_MS = 60_000;

export interface CniInvocation {
  conflist: CniConfList;
  containerId: string;
  /** The container's network namespace as a path, e.g. /run/netns/<ns>. */
  netnsPath: string;
  /** Interface name inside the container, e.g. eth0. */
  ifName: string;
  /** Named network namespace the plugins themselves run in (where host-side objects appear). */
  hostNs: string;
  /** Directory holding the plugin binaries (default /usr/lib/cni). */
  cniPath?: string;
  /** Runtime capabilities; each plugin gets only the keys its `capabilities` declares. */
  runtimeConfig?: Record<string, unknown>;
  /** For DEL: the result of the ADD. */
  prevResult?: CniResult;
  /** Where the conflist came from, for error messages (e.g. the file name). */
  source?: string;
  /** Kill a plugin that runs longer than this (default 60 s). */
  timeoutMs?: number;
  /** The machine the namespaces live on (default this one; an inventory host's SSH executor). */
  executor?: Executor;
}

export type CniCommand = 'ADD' | 'DEL';

/** The runtimeConfig keys this plugin declares in `capabilities`, or undefined when none match. */
export function capabilityArgs(
  plugin: Record<string, unknown>,
  runtimeConfig: Record<string, unknown> | undefined,
): Record<string, unknown> | undefined {
  const caps = plugin.capabilities;
  if (!runtimeConfig || !caps || typeof caps !== 'object') return undefined;
  const picked: Record<string, unknown> = {};
  for (const [key, on] of Object.entries(caps as Record<string, unknown>)) {
    if (on === true && Object.hasOwn(runtimeConfig, key)) picked[key] = runtimeConfig[key];
  }
  return Object.keys(picked).length ? picked : undefined;
}

/**
 * The stdin of plugin `index`: the plugin object with the list's cniVersion and name, the
 * runtimeConfig keys it declares, and prevResult when given.
 */
export function pluginConfig(
  list: CniConfList,
  index: number,
  runtimeConfig?: Record<string, unknown>,
  prevResult?: unknown,
): Record<string, unknown> {
  const plugin = list.plugins[index];
  if (!plugin) throw new RangeError(`no plugin ${index} in CNI config ${list.name}`);
  const { cniVersion: _v, name: _n, ...rest } = plugin;
  const config: Record<string, unknown> = { cniVersion: list.cniVersion, name: list.name, ...rest };
  const picked = capabilityArgs(plugin, runtimeConfig);
  if (picked) config.runtimeConfig = picked;
  if (prevResult !== undefined) config.prevResult = prevResult;
  return config;
}

/** The environment a plugin runs with (spec: CNI_* parameters, plus a minimal PATH). */
export function pluginEnv(command: CniCommand, inv: CniInvocation): Record<string, string> {
  return {
    CNI_COMMAND: command,
    CNI_CONTAINERID: inv.containerId,
    CNI_NETNS: inv.netnsPath,
    CNI_IFNAME: inv.ifName,
    CNI_PATH: inv.cniPath ?? DEFAULT_CNI_PATH,
    PATH: PLUGIN_PATH,
  };
}

/** argv running plugin `type` inside the host namespace: ip netns exec HOSTNS CNI_PATH/TYPE. */
export function pluginArgv(hostNs: string, cniPath: string, type: string): [string, string[]] {
  return inNetns(hostNs, join(cniPath, type), []);
}

/** The invocation that a plan's 'cni' step describes. */
export function stepInvocation(step: CniStep, cniPath?: string): CniInvocation {
  return {
    conflist: step.conflist,
    containerId: step.containerId,
    netnsPath: `/run/netns/${step.containerNs}`,
    ifName: step.ifName,
    hostNs: step.ns,
    cniPath,
    runtimeConfig: step.runtimeConfig,
  };
}

function sourceOf(inv: CniInvocation): string {
  return inv.source ?? `network ${inv.conflist.name}`;
}

/** Spec limits on the parameters, checked before anything runs. */
function checkParams(inv: CniInvocation): void {
  const bad = (what: string) => new InputError(`bad CNI invocation (${sourceOf(inv)}): ${what}`);
  const { containerId, ifName, netnsPath, hostNs } = inv;
  if (!CNI_NAME_RE.test(containerId)) {
    throw bad(`container id ${JSON.stringify(containerId)} must be letters, digits, '.', '_', '-'`);
  }
  if (!/^[^\s/:]{1,15}$/.test(ifName) || ifName === '.' || ifName === '..') {
    throw bad(`interface name ${JSON.stringify(ifName)} must be 1-15 characters without spaces, '/' or ':'`);
  }
  if (!netnsPath.startsWith('/')) throw bad(`netns ${JSON.stringify(netnsPath)} must be an absolute path`);
  if (!isPlainName(hostNs)) throw bad(`host namespace ${JSON.stringify(hostNs)} is not a namespace name`);
  if (!inv.conflist.plugins.length) throw bad('the config lists no plugins');
}

async function isExecutable(path: string): Promise<boolean> {
  return access(path, constants.X_OK).then(
    () => true,
    () => false,
  );
}

/**
 * Every plugin (and IPAM plugin) binary exists in cniPath and the host namespace exists; for ADD
 * the container namespace too (a DEL must still clean up after the container's netns is gone).
 */
async function checkPlugins(command: CniCommand, inv: CniInvocation): Promise<void> {
  const cniPath = inv.cniPath ?? DEFAULT_CNI_PATH;
  const ex = inv.executor ?? LOCAL;
  const types = inv.conflist.plugins.flatMap((p) => {
    const ipam = p.ipam as { type?: unknown } | undefined;
    return typeof ipam?.type === 'string' ? [p.type, ipam.type] : [p.type];
  });
  for (const type of types) {
    if (!isPlainName(type)) {
      throw new InputError(`bad CNI plugin type ${JSON.stringify(type)} (from ${sourceOf(inv)}): not a file name`);
    }
  }
  const namespaces = command === 'ADD' ? [`/run/netns/${inv.hostNs}`, inv.netnsPath] : [`/run/netns/${inv.hostNs}`];
  // On another machine: one session asks which binaries are not executable and which namespaces are missing.
  const missing =
    ex === LOCAL
      ? null
      : await remoteMissing(
          ex,
          [...new Set(types)].map((t) => join(cniPath, t)),
          namespaces,
        );
  for (const type of types) {
    const path = join(cniPath, type);
    if (missing ? missing.has(path) : !(await isExecutable(path))) {
      throw new InputError(
        `CNI plugin "${type}" not found in ${cniPath} (from ${sourceOf(inv)})`,
        `install containernetworking-plugins${ex.host ? ` on host ${ex.host}` : ''} or point the CNI path at the plugins`,
      );
    }
  }
  for (const path of namespaces) {
    const exists = missing
      ? !missing.has(path)
      : await access(path).then(
          () => true,
          () => false,
        );
    if (!exists) throw new RunError(`network namespace ${path} does not exist${ex.host ? ` on host ${ex.host}` : ''}`);
  }
}

/** Of these paths on ex's machine: the binaries that are not executable and the files that do not exist. */
async function remoteMissing(ex: Executor, binaries: string[], files: string[]): Promise<Set<string>> {
  const script = 'for f; do case $f in -x) t=-x ;; -e) t=-e ;; *) test $t "$f" || printf "%s\\n" "$f" ;; esac; done';
  const res = await ex.run(['sh', '-c', script, 'sh', '-x', ...binaries, '-e', ...files], { timeoutMs: 30_000 });
  if (res.code !== 0) throw new RunError(`host ${ex.host}: checking the CNI plugins: ${lastLines(res.stderr) || `exit ${res.code}`}`);
  return new Set(res.stdout.split('\n').filter(Boolean));
}

function lastLines(text: string): string {
  return text.trim().split('\n').slice(-3).join('; ');
}

/** The one-line error for a plugin that exited non-zero (spec error JSON if it printed one). */
export function pluginFailure(type: string, command: CniCommand, res: ExecResult): RunError {
  let parsed: unknown;
  try {
    parsed = JSON.parse(res.stdout);
  } catch {
    parsed = undefined;
  }
  const err = parsed as { code?: unknown; msg?: unknown; details?: unknown } | undefined;
  if (err && typeof err === 'object' && (typeof err.code === 'number' || typeof err.msg === 'string')) {
    const msg = typeof err.msg === 'string' && err.msg ? err.msg : '(no message)';
    const details = typeof err.details === 'string' && err.details ? `: ${err.details}` : '';
    return new RunError(`CNI plugin ${type} failed (code ${String(err.code ?? '?')}): ${msg}${details}`);
  }
  const how = res.signal ? `was killed by ${res.signal}` : `exited ${res.code}`;
  const out = lastLines(res.stderr) || lastLines(res.stdout) || 'no output';
  return new RunError(`CNI plugin ${type} ${how} on ${command} without an error result: ${out}`);
}

/** Run one plugin; resolves with its stdout, rejects with a RunError. */
async function invoke(command: CniCommand, inv: CniInvocation, index: number, prevResult?: unknown): Promise<string> {
  const cniPath = inv.cniPath ?? DEFAULT_CNI_PATH;
  const type = inv.conflist.plugins[index]!.type;
  const config = pluginConfig(inv.conflist, index, inv.runtimeConfig, prevResult);
  const [file, args] = pluginArgv(inv.hostNs, cniPath, type);
  const env = pluginEnv(command, inv);
  const ex = inv.executor ?? LOCAL;
  let res: ExecResult;
  try {
    const opts = { input: JSON.stringify(config), timeoutMs: inv.timeoutMs ?? DEFAULT_TIMEOUT_MS };
    // Over SSH the environment travels in the argv (`env -i K=V… ip netns exec …`): nothing else of the login's.
    res =
      ex === LOCAL
        ? await execArgs(file, args, { ...opts, env })
        : await ex.run(['env', '-i', ...Object.entries(env).map(([k, v]) => `${k}=${v}`), file, ...args], opts);
  } catch (e) {
    throw new RunError(`cannot run CNI plugin ${type}: ${e instanceof Error ? e.message : String(e)}`);
  }
  if (res.code !== 0) throw pluginFailure(type, command, res);
  return res.stdout;
}

/**
 * ADD: run the plugins in order, each later one getting the previous result as prevResult, and
 * resolve with the last result. If a plugin fails, DEL runs for the whole list (spec 1.0:
 * "the runtime should execute DEL for all plugins in the list") before the error is thrown.
 */
export async function cniAdd(inv: CniInvocation): Promise<CniResult> {
  checkParams(inv);
  await checkPlugins('ADD', inv);
  let result: CniResult | undefined;
  for (let i = 0; i < inv.conflist.plugins.length; i++) {
    try {
      const stdout = await invoke('ADD', inv, i, result);
      const type = inv.conflist.plugins[i]!.type;
      try {
        result = parseResult(stdout);
      } catch (e) {
        throw new RunError(`CNI plugin ${type} returned a bad ADD result: ${(e as Error).message}`);
      }
    } catch (e) {
      await cniDel({ ...inv, prevResult: result }).catch(() => undefined);
      throw e;
    }
  }
  return result!;
}

/**
 * DEL: run the plugins in reverse order, each given the ADD result as prevResult. Every plugin
 * runs even if an earlier one failed; the failures are reported together afterwards.
 */
export async function cniDel(inv: CniInvocation): Promise<void> {
  checkParams(inv);
  await checkPlugins('DEL', inv);
  const failures: string[] = [];
  for (let i = inv.conflist.plugins.length - 1; i >= 0; i--) {
    try {
      await invoke('DEL', inv, i, inv.prevResult);
    } catch (e) {
      failures.push((e as Error).message);
    }
  }
  if (failures.length === 1) throw new RunError(`CNI DEL (${sourceOf(inv)}): ${failures[0]}`);
  if (failures.length) {
    throw new RunError(`CNI DEL (${sourceOf(inv)}) failed in ${failures.length} plugins: ${failures.join('; ')}`);
  }
}
