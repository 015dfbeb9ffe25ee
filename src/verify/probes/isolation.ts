import { addrAt, intToIp, ipToInt, maskOf, size } from '../../lab/ipv4.js';
import type { ContainerNode } from '../../lab/types.js';
import type { Workload } from '../../plan/scheme.js';
import type { Evidence, Verdict } from '../../result/verify.js';
import { UDP_RECEIVER_JS, UDP_SENDER_JS } from '../traffic.js';
import { NotRun, type Probe, type ProbeContext } from '../types.js';

/**
 * Application isolation with two tenants (issue 13, probe 3). From the first container of
 * tenant 1 on host 1 (A): a ping to a peer of its own tenant and one of the other, each on the
 * same host and across hosts. Then the spoof test: A takes an address that belongs to the other
 * tenant — where the target's address has a subnet (CIDR isolation), an unused address of that
 * subnet with its prefix; where it is a /32 (Calico), the address of another member of the
 * target's profile — and sends UDP datagrams carrying the run's marker from it to the target,
 * which listens: did the marker arrive? The address is removed afterwards (the lab is shared).
 */

const PORT = 5399;

export interface PairResult {
  from: string;
  to: string;
  toIp: string;
  sameHost: boolean;
  sameTenant: boolean;
  reached: boolean;
}

export interface IsolationData {
  pairs: PairResult[];
  spoof?: { from: string; to: string; addr: string; how: 'subnet' | 'member'; arrived: boolean };
}

function containerOf(ctx: ProbeContext, w: Workload): ContainerNode | undefined {
  return ctx.up.lab.hosts.flatMap((h) => h.containers).find((c) => c.name === w.node);
}

async function spoofAddress(ctx: ProbeContext, a: Workload, target: Workload, tenantOf: (w: Workload) => number | undefined) {
  const shown = await ctx.exec(target.node, 'ip', ['-o', '-4', 'addr', 'show', 'dev', target.ifName]);
  const m = new RegExp(`inet ${target.ip.replace(/\./g, '\\.')}/(\\d+)`).exec(shown.stdout);
  const prefix = m ? Number(m[1]) : 32;
  if (prefix < 32) {
    const net = { network: intToIp((ipToInt(target.ip) & maskOf(prefix)) >>> 0), prefix };
    return { addr: addrAt(net, size(net) - 2), prefix, how: 'subnet' as const };
  }
  const members = ctx.up.build.workloads.filter((w) => w !== target && w !== a && tenantOf(w) === tenantOf(target));
  const member = members.find((w) => w.hostIndex === a.hostIndex) ?? members[0];
  if (!member) return undefined;
  return { addr: member.ip, prefix: 32, how: 'member' as const };
}

async function run(ctx: ProbeContext): Promise<IsolationData> {
  const workloads = ctx.up.build.workloads;
  const tenantOf = (w: Workload) => containerOf(ctx, w)?.tenant;
  const a = workloads.find((w) => w.hostIndex === 1 && tenantOf(w) === 1);
  if (!a) throw new NotRun('needs a lab with tenants (--tenants 2)');
  const pairs: PairResult[] = [];
  const peers: Record<string, Workload | undefined> = {};
  for (const sameHost of [true, false]) {
    for (const sameTenant of [true, false]) {
      const b = workloads.find(
        (w) =>
          w !== a &&
          (w.hostIndex === a.hostIndex) === sameHost &&
          (tenantOf(w) === tenantOf(a)) === sameTenant &&
          tenantOf(w) !== undefined,
      );
      peers[`${sameHost}/${sameTenant}`] = b;
      if (!b) continue;
      const toIp = ctx.up.build.targetIp(a, b);
      const r = await ctx.exec(a.node, 'ping', ['-c', '1', '-W', '1', toIp]);
      pairs.push({ from: a.node, to: b.node, toIp, sameHost, sameTenant, reached: r.code === 0 });
    }
  }
  const target = peers['false/false'] ?? peers['true/false'];
  if (!target) return { pairs };
  const spoof = await spoofAddress(ctx, a, target, tenantOf);
  if (!spoof) return { pairs };
  const added = await ctx.exec(a.node, 'ip', ['addr', 'add', `${spoof.addr}/${spoof.prefix}`, 'dev', a.ifName]);
  if (added.code !== 0) throw new NotRun(`could not add ${spoof.addr} in ${a.node}: ${added.stderr.trim()}`);
  try {
    const message = `${ctx.marker}-spoof`;
    const receiver = await ctx.background(target.node, process.execPath, ['-e', UDP_RECEIVER_JS, String(PORT), '3000']);
    await new Promise((r) => setTimeout(r, 300));
    await ctx.exec(a.node, process.execPath, ['-e', UDP_SENDER_JS, spoof.addr, ctx.up.build.targetIp(a, target), String(PORT), message]);
    const got = await receiver.stop();
    return { pairs, spoof: { from: a.node, to: target.node, addr: spoof.addr, how: spoof.how, arrived: got.stdout.includes(message) } };
  } finally {
    await ctx.exec(a.node, 'ip', ['addr', 'del', `${spoof.addr}/${spoof.prefix}`, 'dev', a.ifName]);
  }
}

const where = (p: PairResult) => `${p.from}→${p.to} (${p.sameHost ? 'same host' : 'cross-host'})`;

/** Pure: the pings and the spoofed datagram → profile / CIDR / none. */
export function judgeIsolation(e: Evidence<IsolationData>): Verdict {
  const { pairs, spoof } = e.data;
  const within = pairs.filter((p) => p.sameTenant);
  const across = pairs.filter((p) => !p.sameTenant);
  if (!across.length) return { mark: 'not-run', text: 'not run: needs containers of two tenants' };
  const broken = within.filter((p) => !p.reached);
  if (broken.length) return { mark: 'no', key: 'broken', text: `within a tenant fails: ${broken.map(where).join(', ')}` };
  const leaks = across.filter((p) => p.reached);
  if (leaks.length) {
    return { mark: 'no', key: 'none', text: 'nothing isolates tenants', detail: `across tenants reached: ${leaks.map(where).join(', ')}` };
  }
  const blocked = `across tenants blocked (${across.map((p) => (p.sameHost ? 'same host' : 'cross-host')).join(', ')})`;
  if (!spoof) return { mark: 'value', key: 'cidr', text: `${blocked}; spoof test not run (no address to take)` };
  const took = spoof.how === 'member' ? `the address of profile member ${spoof.addr}` : `${spoof.addr} of the other subnet`;
  if (spoof.arrived) {
    return {
      mark: 'value',
      key: 'cidr',
      text: 'CIDR only: a spoofed address gets through',
      detail: `${blocked}; ${spoof.from} took ${took}: its datagrams reached ${spoof.to}`,
    };
  }
  const key = spoof.how === 'member' ? 'profile' : 'segment';
  const text = spoof.how === 'member' ? 'profiles: blocked, spoof dropped' : 'separate segments: blocked, spoof dropped';
  return { mark: 'yes', key, text, detail: `${blocked}; ${spoof.from} took ${took}: nothing reached ${spoof.to}` };
}

export const isolationProbe: Probe<IsolationData> = {
  aspect: 'isolation',
  name: 'isolation',
  title: 'Application isolation between two tenants, with a spoofed address',
  needs: () => ({ hosts: 2, containersPerHost: 2, sameHost: true, tenants: 2 }),
  skip: (scheme) => (scheme.tenancy ? null : 'tenants not built for this scheme'),
  run,
  judge: judgeIsolation,
};
