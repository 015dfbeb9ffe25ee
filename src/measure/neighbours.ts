import { readFileSync } from 'node:fs';

/**
 * The kernel's IPv4 neighbour (ARP) table is one table for the whole machine: every namespace's
 * entries count against net.ipv4.neigh.default.gc_thresh3 of the initial namespace (1024 by
 * default). Past it the kernel refuses new entries ("neighbour: arp_cache: neighbor table
 * overflow!") and drops what needed one: BGP connects time out, probes go unanswered. A BGP full
 * mesh of H hosts alone needs H×(H−1) entries (2,450 at 50 hosts). cnlab never changes host
 * settings; it reads the limit and the kernel's overflow counter and says so.
 */

/** Pure: the summed table_fulls column of /proc/net/stat/arp_cache (one hex row per CPU), or null. */
export function tableFulls(stat: string): number | null {
  const [head, ...rows] = stat.trim().split('\n');
  const col = head?.trim().split(/\s+/).indexOf('table_fulls') ?? -1;
  if (col < 0) return null;
  return rows.reduce((sum, r) => sum + (parseInt(r.trim().split(/\s+/)[col] ?? '0', 16) || 0), 0);
}

/** Pure: the note for a run: the mesh's need against the limit, and overflows the kernel counted meanwhile. */
export function neighbourNote(o: { hosts: number; fullMesh: boolean; limit: number | null; overflows: number | null }): string | undefined {
  const parts: string[] = [];
  const need = o.hosts * (o.hosts - 1);
  if (o.fullMesh && o.limit !== null && need >= o.limit)
    parts.push(`a BGP full mesh of ${o.hosts} hosts needs about ${need} ARP entries, the kernel's table holds ${o.limit}`);
  if (o.overflows) parts.push(`the kernel's neighbour table overflowed ${o.overflows} time${o.overflows === 1 ? '' : 's'} during the run`);
  if (!parts.length) return undefined;
  return `limit: ${parts.join('; ')} (net.ipv4.neigh.default.gc_thresh3, one table shared by every namespace on this machine, other labs included): packets needing a new entry are dropped, so sessions, leases and probes stall. Raise gc_thresh3 on the host to measure this size; cnlab does not change host settings.`;
}

const read = (path: string): string | null => {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return null;
  }
};

export function neighbourLimit(): number | null {
  const t = read('/proc/sys/net/ipv4/neigh/default/gc_thresh3');
  return t === null ? null : Number(t.trim()) || null;
}

export function neighbourOverflows(): number | null {
  const s = read('/proc/net/stat/arp_cache');
  return s === null ? null : tableFulls(s);
}
