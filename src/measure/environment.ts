import { cpus, release } from 'node:os';
import { check as iperf3Check } from '../runners/iperf3.js';
import type { Environment, InterfaceInfo } from '../result/types.js';
import type { Workload } from '../schemes/types.js';
import { execArgs } from '../util/exec.js';

/** Run metadata: kernel, CPU, tool versions; per-interface MTU and offloads. */

async function firstLine(file: string, args: string[]): Promise<string> {
  try {
    const r = await execArgs(file, args);
    return (r.stdout || r.stderr).trim().split('\n')[0] ?? 'unknown';
  } catch {
    return 'not installed';
  }
}

export const CPU_METHOD =
  'system-wide /proc/stat deltas over each client run: busy = user + nice + system + irq + softirq (steal excluded), in CPU-seconds (USER_HZ 100); per Gbit = busy / (received bytes × 8 / 1e9)';

export async function collectEnvironment(): Promise<Environment> {
  const [iperf3, ip, nft, cni] = await Promise.all([
    iperf3Check(),
    firstLine('ip', ['-V']),
    firstLine('nft', ['--version']),
    firstLine('dpkg-query', ['-W', '-f', '${Version}', 'containernetworking-plugins']),
  ]);
  return {
    kernel: release(),
    cpuModel: cpus()[0]?.model ?? 'unknown',
    cpus: cpus().length,
    node: process.version,
    tools: { iperf3: iperf3.version ?? iperf3.reason ?? 'unknown', iproute2: ip, nftables: nft, 'cni-plugins': cni },
    cpuMethod: CPU_METHOD,
  };
}

const OFFLOADS = ['tcp-segmentation-offload', 'generic-segmentation-offload', 'generic-receive-offload', 'tx-checksumming', 'rx-checksumming'];

/** Pure: `ethtool -k` output → the features that matter for throughput. */
export function parseEthtoolFeatures(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of text.split('\n')) {
    const m = /^([a-z0-9-]+):\s+(on|off)/.exec(line.trim());
    if (m && OFFLOADS.includes(m[1])) out[m[1]] = m[2];
  }
  return out;
}

export async function interfaceInfo(w: Pick<Workload, 'node' | 'ns' | 'ifName'>): Promise<InterfaceInfo> {
  const link = await execArgs('ip', ['-n', w.ns, '-j', 'link', 'show', 'dev', w.ifName]);
  let mtu = 0;
  try {
    mtu = (JSON.parse(link.stdout) as Array<{ mtu: number }>)[0]?.mtu ?? 0;
  } catch {
    /* left 0: recorded as unknown */
  }
  const eth = await execArgs('ip', ['netns', 'exec', w.ns, 'ethtool', '-k', w.ifName]).catch(() => null);
  return { node: w.node, ns: w.ns, ifName: w.ifName, mtu, offloads: eth && eth.code === 0 ? parseEthtoolFeatures(eth.stdout) : {} };
}
