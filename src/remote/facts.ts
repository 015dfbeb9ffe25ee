import type { Requirement } from '../caps/types.js';

/** Pure parsers for what `cnlab hosts check` reads from a host (unit-tested on captured output). */

export interface CpuFacts {
  model: string;
  count: number;
}

/** /proc/cpuinfo → model name (or Hardware/CPU part on ARM) and the number of processors. */
export function parseCpuinfo(text: string): CpuFacts {
  let count = 0;
  let model: string | undefined;
  for (const line of text.split('\n')) {
    const m = /^([^:]+?)\s*:\s*(.*)$/.exec(line);
    if (!m) continue;
    if (m[1] === 'processor') count++;
    else if (!model && (m[1] === 'model name' || m[1] === 'Hardware' || m[1] === 'cpu model')) model = m[2].trim();
  }
  return { model: model ?? 'unknown', count };
}

export interface DriverFacts {
  driver: string;
  version?: string;
  firmware?: string;
  bus?: string;
}

/** `ethtool -i DEV` → driver, version, firmware, bus. */
export function parseEthtoolDriver(text: string): DriverFacts {
  const kv = new Map<string, string>();
  for (const line of text.split('\n')) {
    const m = /^([a-z-]+):\s*(.*)$/.exec(line.trim());
    if (m) kv.set(m[1], m[2].trim());
  }
  const opt = (k: string) => {
    const v = kv.get(k);
    return v && v !== 'N/A' ? v : undefined;
  };
  return { driver: kv.get('driver') || 'unknown', version: opt('version'), firmware: opt('firmware-version'), bus: opt('bus-info') };
}

/** `ethtool -k DEV` → feature → on/off (", fixed" noted); sub-features indented the same way. */
export function parseEthtoolFeatures(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of text.split('\n')) {
    const m = /^\s*([a-z0-9_-]+):\s+(on|off)(\s+\[fixed\])?\s*$/.exec(line);
    if (m) out[m[1]] = m[3] ? `${m[2]} (fixed)` : m[2];
  }
  return out;
}

/** The offloads that decide overlay throughput (S1: VXLAN without UDP tunnel offload). */
export const KEY_OFFLOADS = [
  'tx-checksumming',
  'scatter-gather',
  'tcp-segmentation-offload',
  'generic-segmentation-offload',
  'generic-receive-offload',
  'large-receive-offload',
  'tx-udp_tnl-segmentation',
  'tx-udp_tnl-csum-segmentation',
  'rx-udp-gro-forwarding',
] as const;

/** /sys/class/net/DEV/speed: Mbit/s, or null when the link has none (veth, down links print -1 or fail). */
export function parseSpeed(text: string): number | null {
  const n = Number(text.trim());
  return Number.isInteger(n) && n > 0 ? n : null;
}

/** SSH_CONNECTION "client port server port" → the client address. */
export function sshClientAddress(text: string): string | null {
  const parts = text.trim().split(/\s+/);
  return parts.length === 4 ? parts[0] : null;
}

/** `ip -j route get ADDR` → the device the route leaves by. */
export function routeDevice(json: string): string | null {
  try {
    const routes = JSON.parse(json) as Array<{ dev?: string }>;
    return routes[0]?.dev ?? null;
  } catch {
    return null;
  }
}

/** Output of the tools script: one `name=path` line per tool, empty path when absent. */
export function parseToolPaths(text: string): Record<string, string | null> {
  const out: Record<string, string | null> = {};
  for (const line of text.split('\n')) {
    const i = line.indexOf('=');
    if (i > 0) out[line.slice(0, i)] = line.slice(i + 1) || null;
  }
  return out;
}

export interface ToolNeed {
  name: string;
  pkg: string;
  /** Who needs it: "every run", or scheme names. */
  neededBy: string[];
}

/** Binary requirements of everything → one entry per tool with who needs it, in first-seen order. */
export function toolNeeds(groups: Array<{ who: string; requires: readonly Requirement[] }>): ToolNeed[] {
  const byName = new Map<string, ToolNeed>();
  for (const g of groups) {
    for (const r of g.requires) {
      if (r.kind !== 'binary') continue;
      const t = byName.get(r.name) ?? { name: r.name, pkg: r.pkg, neededBy: [] };
      if (!t.neededBy.includes(g.who)) t.neededBy.push(g.who);
      byName.set(r.name, t);
    }
  }
  return [...byName.values()];
}

/** The one apt line that installs these packages (sorted, deduplicated), or null when none. */
export function aptLine(pkgs: readonly string[]): string | null {
  const uniq = [...new Set(pkgs)].sort();
  return uniq.length ? `apt-get install -y --no-install-recommends ${uniq.join(' ')}` : null;
}
