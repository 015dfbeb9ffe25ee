import { PING_OVERHEAD } from '../../apply/mtu-check.js';
import type { Evidence, Verdict } from '../../result/verify.js';
import { crossPair } from '../traffic.js';
import type { Probe, ProbeContext } from '../types.js';

interface Attempt {
  /** IP packet size. */
  size: number;
  crossed: boolean;
  /** ping's output said why (an ICMP "frag needed" back, or a local "message too long"). */
  told: boolean;
}

interface Direction {
  from: string;
  to: string;
  attempts: Attempt[];
}

export interface MtuData {
  workloadMtu: number;
  directions: Direction[];
}

const TOLD = /frag needed|message too long|mtu\s*=/i;

async function dfPing(ctx: ProbeContext, from: string, target: string, size: number): Promise<Attempt> {
  const r = await ctx.exec(from, 'ping', ['-n', '-c', '1', '-W', '1', '-M', 'do', '-s', String(size - PING_OVERHEAD), target]);
  return { size, crossed: r.code === 0, told: TOLD.test(r.stdout + r.stderr) };
}

/** The largest DF packet that crosses (binary search below the workload MTU when it does not). */
async function direction(ctx: ProbeContext, from: string, target: string, mtu: number): Promise<Attempt[]> {
  const attempts = [await dfPing(ctx, from, target, 100)];
  if (!attempts[0].crossed) return attempts;
  const full = await dfPing(ctx, from, target, mtu);
  attempts.push(full);
  if (full.crossed) {
    attempts.push(await dfPing(ctx, from, target, mtu + 1));
    return attempts;
  }
  let lo = 100;
  let hi = mtu;
  while (hi - lo > 1) {
    const mid = (lo + hi) >> 1;
    const a = await dfPing(ctx, from, target, mid);
    attempts.push(a);
    if (a.crossed) lo = mid;
    else hi = mid;
  }
  return attempts;
}

/** Pure: the largest size that crossed. */
function largest(d: Direction): number {
  return Math.max(0, ...d.attempts.filter((a) => a.crossed).map((a) => a.size));
}

/** Probe 11: the largest DF packet per direction against the workload interface's MTU. */
export const mtu: Probe<MtuData> = {
  aspect: 'mtu',
  name: 'mtu',
  title: 'MTU: the largest DF packet per direction',
  needs: () => ({ hosts: 2, containersPerHost: 1 }),
  skip: (s) => (s.containers ? null : 'no containers (host baseline)'),
  async run(ctx) {
    const { a, b, target } = crossPair(ctx);
    const back = ctx.up.build.targetIp(b, a);
    const m = ctx.up.build.mtu;
    return {
      workloadMtu: m,
      directions: [
        { from: a.node, to: b.node, attempts: await direction(ctx, a.node, target, m) },
        { from: b.node, to: a.node, attempts: await direction(ctx, b.node, back, m) },
      ],
    };
  },
  judge(e: Evidence<MtuData>): Verdict {
    const m = e.data.workloadMtu;
    const parts = e.data.directions.map((d) => {
      const big = largest(d);
      const full = d.attempts.find((a) => a.size === m);
      const hole = full && !full.crossed && !full.told;
      return { d, big, hole, text: `${d.from}→${d.to} ${big || 'none'}${hole ? ' (black hole: DF dropped, no ICMP back)' : ''}` };
    });
    const text = `${parts.map((p) => p.text).join(', ')}; workload MTU ${m}`;
    if (parts.some((p) => p.big === 0)) return { mark: 'no', key: 'no-path', text };
    if (parts.some((p) => p.hole)) return { mark: 'no', key: 'black-hole', text };
    if (parts.every((p) => p.big === m)) return { mark: 'yes', key: 'equal', text };
    return { mark: 'no', key: 'differs', text };
  },
};
