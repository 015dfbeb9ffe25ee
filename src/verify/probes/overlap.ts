import type { Evidence, Verdict } from '../../result/verify.js';
import { UDP_RECEIVER_JS, UDP_SENDER_JS } from '../traffic.js';
import { NotRun, type Probe, type ProbeContext } from '../types.js';

/**
 * IP overlap (issue 13, probe 8): two tenants built with the same container addresses on the same
 * hosts (--tenants 2 --overlap). Per tenant, its container on host 1 pings its peer on host 2 and
 * sends UDP datagrams carrying a marker of its own (the run's random marker and the tenant) to the
 * peer's address — which is also the other tenant's peer's address. Both peers listen: each pair
 * must talk, and no marker may arrive in the other tenant. Schemes that put every container in one
 * network cannot give two containers one address: their build is refused, and that is the answer.
 */

const PORT = 5398;

export interface OverlapPair {
  tenant: number;
  from: string;
  to: string;
  fromIp: string;
  toIp: string;
  pinged: boolean;
  /** What the peer's receiver printed: the markers that arrived there. */
  received: string[];
}

export interface OverlapData {
  pairs: OverlapPair[];
  /** Tenant → its marker. */
  markers: Record<string, string>;
}

async function run(ctx: ProbeContext): Promise<OverlapData> {
  const tenantOf = new Map(ctx.up.lab.hosts.flatMap((h) => h.containers).map((c) => [c.name, c.tenant]));
  const ws = ctx.up.build.workloads;
  const ends = [1, 2].map((t) => ({
    t,
    a: ws.find((w) => w.hostIndex === 1 && tenantOf.get(w.node) === t),
    b: ws.find((w) => w.hostIndex === 2 && tenantOf.get(w.node) === t),
  }));
  if (ends.some((e) => !e.a || !e.b)) throw new NotRun('needs containers of two tenants on two hosts (--tenants 2)');
  const markers = Object.fromEntries(ends.map((e) => [String(e.t), `${ctx.marker}-tenant${e.t}`]));
  const receivers = await Promise.all(
    ends.map((e) => ctx.background(e.b!.node, process.execPath, ['-e', UDP_RECEIVER_JS, String(PORT), '4000'])),
  );
  await new Promise((r) => setTimeout(r, 300));
  const pairs: OverlapPair[] = [];
  for (const { t, a, b } of ends) {
    const toIp = ctx.up.build.targetIp(a!, b!);
    const ping = await ctx.exec(a!.node, 'ping', ['-c', '1', '-W', '1', toIp]);
    await ctx.exec(a!.node, process.execPath, ['-e', UDP_SENDER_JS, a!.ip, toIp, String(PORT), markers[String(t)]]);
    pairs.push({ tenant: t, from: a!.node, to: b!.node, fromIp: a!.ip, toIp, pinged: ping.code === 0, received: [] });
  }
  for (const [i, r] of receivers.entries()) {
    const out = await r.stop();
    pairs[i].received = [...new Set(out.stdout.split('\n').filter(Boolean))];
  }
  return { pairs, markers };
}

/** Pure: the build (refused or not), the addresses, pings and markers → yes / no. */
export function judgeOverlap(e: Evidence<OverlapData>): Verdict {
  if (e.buildError) {
    return {
      mark: 'no',
      key: 'refused',
      text: 'no: one network, one address space (build with overlapping tenants refused)',
      detail: e.buildError,
    };
  }
  const { pairs, markers } = e.data;
  if (pairs.length < 2) return { mark: 'not-run', text: 'not run: needs containers of two tenants' };
  const [p, q] = pairs;
  const same = p.fromIp === q.fromIp && p.toIp === q.toIp;
  const where = (x: OverlapPair) => `tenant ${x.tenant}: ${x.from} ${x.fromIp} → ${x.to} ${x.toIp}`;
  const detail = pairs.map(
    (x) => `${where(x)}: ping ${x.pinged ? 'answered' : 'unanswered'}, received ${x.received.join(', ') || 'nothing'}`,
  );
  if (!same) return { mark: 'no', key: 'distinct', text: 'the tenants got different addresses', detail: detail.join('\n') };
  const leaks = pairs.filter((x) => x.received.some((m) => m !== markers[String(x.tenant)] && Object.values(markers).includes(m)));
  if (leaks.length) {
    return {
      mark: 'no',
      key: 'cross-talk',
      text: `cross-talk: another tenant's marker arrived in tenant ${leaks.map((x) => x.tenant).join(', ')}`,
      detail: detail.join('\n'),
    };
  }
  const broken = pairs.filter((x) => !x.pinged || !x.received.includes(markers[String(x.tenant)]));
  if (broken.length) {
    return {
      mark: 'no',
      key: 'broken',
      text: `same addresses, but tenant ${broken.map((x) => x.tenant).join(', ')} cannot talk`,
      detail: detail.join('\n'),
    };
  }
  return {
    mark: 'yes',
    key: 'yes',
    text: `both tenants use ${p.fromIp} → ${p.toIp}: each pair talks, no cross-talk`,
    detail: detail.join('\n'),
  };
}

export const overlapProbe: Probe<OverlapData> = {
  aspect: 'ip-overlap',
  name: 'overlap',
  title: 'IP overlap: two tenants with the same addresses, without cross-talk',
  needs: () => ({ hosts: 2, containersPerHost: 2, tenants: 2, topology: { overlap: true }, buildMayFail: true }),
  skip: (scheme) => (scheme.tenancy ? null : 'tenants not built for this scheme'),
  run,
  judge: judgeOverlap,
};
