import { PING_OVERHEAD } from '../apply/mtu-check.js';
import type { Workload } from '../lab/types.js';
import type { QdiscStep, Step } from '../plan/types.js';
import { execArgs, netOnly } from '../util/exec.js';
import { jsonIn } from './live.js';
import { inNs, type Finding } from './types.js';

/**
 * Resources: packets dropped by a device or a qdisc in the lab while doctor's probe (a burst of
 * pings along the path) runs — `ip -s -j link` and `tc -s -j qdisc` in every lab namespace, read
 * before and after it. A qdisc the plan does not have that drops is the likely cause (its fix
 * deletes it); one the plan has is the shaping the plan asks for; a device's own drop counter
 * is evidence with no single fix.
 */

interface DevCount {
  ns: string;
  dev: string;
  rx: number;
  tx: number;
}

interface QdiscCount {
  ns: string;
  dev: string;
  kind: string;
  handle: string;
  /** Absent for a root qdisc. */
  parent?: string;
  drops: number;
}

export interface Counters {
  devs: DevCount[];
  qdiscs: QdiscCount[];
}

/** The burst: many small-interval pings, enough to overrun a shaper, short enough for every doctor run. */
export const BURST = { count: 40, intervalS: 0.005, size: 1000 };

/** Pure: `ip -s -j link show` in NS → drop counters per device. */
export function parseLinkStats(
  ns: string,
  links: ReadonlyArray<{ ifname: string; stats64?: { rx?: { dropped?: number }; tx?: { dropped?: number } } }>,
): DevCount[] {
  return links.map((l) => ({ ns, dev: l.ifname, rx: l.stats64?.rx?.dropped ?? 0, tx: l.stats64?.tx?.dropped ?? 0 }));
}

/** Pure: `tc -s -j qdisc show` in NS → drop counters per qdisc. */
export function parseQdiscStats(
  ns: string,
  qdiscs: ReadonlyArray<{ kind: string; handle: string; dev?: string; root?: boolean; parent?: string; drops?: number }>,
): QdiscCount[] {
  return qdiscs.map((q) => ({
    ns,
    dev: q.dev ?? '',
    kind: q.kind,
    handle: q.handle,
    parent: q.root ? undefined : q.parent,
    drops: q.drops ?? 0,
  }));
}

/** A device counter that grew by fewer than this during the burst is noise (a stray multicast frame). */
const DEVICE_NOISE = 2;

/**
 * Pure: counters before and after the probe, the plan's steps, what the probe was and how many of
 * its pings went unanswered → findings. A device's drop counter is a finding only when the probe
 * lost pings: with every ping answered, what a device dropped was other traffic (a fresh lab's IPv6
 * router solicitations and MLD reports, multicast a VXLAN device has no FDB entry for).
 */
export function judgeDrops(before: Counters, after: Counters, steps: readonly Step[], probe: string, lost: number): Finding[] {
  const planned = steps.filter((s): s is QdiscStep => s.kind === 'qdisc');
  const out: Finding[] = [];
  const qdiscDevs = new Set<string>();
  for (const q of after.qdiscs) {
    const was = before.qdiscs.find((b) => b.ns === q.ns && b.dev === q.dev && b.handle === q.handle && b.kind === q.kind);
    const n = q.drops - (was?.drops ?? 0);
    if (!was || n <= 0) continue;
    qdiscDevs.add(`${q.ns} ${q.dev}`);
    const evidence = `tc -s qdisc show dev ${q.dev}: ${q.kind} ${q.handle}${q.parent ? ` parent ${q.parent}` : ' root'} dropped ${n} during ${probe}`;
    if (planned.some((p) => p.ns === q.ns && p.dev === q.dev && p.qdisc.type === q.kind))
      out.push({
        check: 'drops',
        rank: 60,
        what: `${q.ns}: the plan's ${q.kind} qdisc on ${q.dev} drops packets (the shaping it asks for)`,
        evidence,
        fix: [],
      });
    else
      out.push({
        check: 'drops',
        rank: 10,
        what: `${q.ns}: a ${q.kind} qdisc the plan does not have drops packets on ${q.dev} (${n} during the probe)`,
        evidence,
        fix: [inNs(q.ns, ['tc', 'qdisc', 'del', 'dev', q.dev, ...(q.parent ? ['parent', q.parent, 'handle', q.handle] : ['root'])])],
      });
  }
  for (const d of after.devs) {
    const was = before.devs.find((b) => b.ns === d.ns && b.dev === d.dev);
    if (!was || lost === 0 || qdiscDevs.has(`${d.ns} ${d.dev}`)) continue;
    const rx = d.rx - was.rx;
    const tx = d.tx - was.tx;
    if (rx < DEVICE_NOISE && tx < DEVICE_NOISE) continue;
    out.push({
      check: 'drops',
      rank: 30,
      what: `${d.ns}: ${d.dev} dropped packets during the probe (rx +${rx}, tx +${tx})`,
      evidence: `ip -s link show ${d.dev}: dropped counters grew during ${probe}`,
      fix: [],
    });
  }
  return out;
}

async function readCounters(namespaces: readonly string[]): Promise<Counters> {
  const per = await Promise.all(
    namespaces.map(async (ns) => {
      const [links, qdiscs] = await Promise.all([
        jsonIn<Parameters<typeof parseLinkStats>[1][number]>(ns, 'ip', ['-s', 'link', 'show']),
        jsonIn<Parameters<typeof parseQdiscStats>[1][number]>(ns, 'tc', ['-s', 'qdisc', 'show']),
      ]);
      return { devs: parseLinkStats(ns, links), qdiscs: parseQdiscStats(ns, qdiscs) };
    }),
  );
  return { devs: per.flatMap((p) => p.devs), qdiscs: per.flatMap((p) => p.qdiscs) };
}

/** Count drops in NAMESPACES around a burst of pings FROM → TARGET (payload fitting the path MTU). */
export async function checkDrops(
  namespaces: readonly string[],
  from: Workload,
  target: string,
  mtu: number,
  steps: readonly Step[],
): Promise<Finding[]> {
  const size = Math.min(BURST.size, mtu - PING_OVERHEAD);
  const before = await readCounters(namespaces);
  const argv = ['-q', '-c', String(BURST.count), '-i', String(BURST.intervalS), '-s', String(size), '-W', '1', target];
  const r = await execArgs(...netOnly(from.ns, 'ping', argv), { timeoutMs: 10_000 });
  const after = await readCounters(namespaces);
  const summary = /(\d+) packets transmitted, (\d+) received/.exec(r.stdout);
  const probe = `${BURST.count} pings of ${size} B from ${from.node} to ${target}${summary ? ` (${summary[2]} of ${summary[1]} answered)` : ''}`;
  const lost = summary ? Number(summary[1]) - Number(summary[2]) : BURST.count;
  return judgeDrops(before, after, steps, probe, lost);
}
