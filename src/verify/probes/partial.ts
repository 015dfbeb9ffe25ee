import { join } from 'node:path';
import { encapHostDir } from '../../encap/counters.js';
import type { HostNode } from '../../lab/types.js';
import type { Evidence, Verdict } from '../../result/verify.js';
import { NotRun, type Probe, type ProbeContext } from '../types.js';

/**
 * Partial connectivity (issue 13, probe 6): three hosts on the lab's switch; the probe drops the
 * underlay traffic between h1 and h3 only — an nftables table of its own in the switch's bridge
 * family, matching the MAC addresses of the two hosts' underlay interfaces both ways (so routed
 * packets, which carry container addresses, are cut as well as tunnels), removed afterwards — and asks
 * whether c1 (on h1) still reaches c3 (on h3), pinging up to DEADLINE seconds: the time it took is
 * the time the scheme needed to route around the cut. The hosts' own pings h1↔h2 and h2↔h3 show
 * the cut is partial, h1→h3 that it is in place. Where h2 runs cnlab's encapsulation daemon, its
 * counters say how many datagrams it relayed.
 */

const TABLE = 'cnlab_partial_cut';
/** Seconds c1 keeps pinging c3 with the cut in place. */
export const DEADLINE = 6;
const INTERVAL = 0.2;

export interface PartialData {
  hosts: { h1: string; h2: string; h3: string };
  from: string;
  to: string;
  /** c1→c3 before the cut. */
  before: boolean;
  /** Underlay pings with the cut in place. */
  underlay: { h1h2: boolean; h2h3: boolean; h1h3: boolean };
  /** c1→c3 with the cut in place: the first reply, and how long it took (ms, from the cut). */
  after: boolean;
  afterMs: number;
  /** Three more pings once the first came back: the route holds. */
  steady?: boolean;
  /** Datagrams h2's encapsulation daemon passed on for other hosts, when it has one. */
  relayedByH2?: number;
}

const nft = (ctx: ProbeContext, args: string[]) => ctx.exec('sw', 'nft', args);

async function macOf(ctx: ProbeContext, h: HostNode): Promise<string> {
  const r = await ctx.exec(h.name, 'ip', ['-j', 'link', 'show', 'dev', h.underlayIf]);
  let mac: unknown;
  try {
    mac = (JSON.parse(r.stdout) as Array<{ address?: string }>)[0]?.address;
  } catch {
    mac = undefined;
  }
  if (typeof mac !== 'string' || !/^([0-9a-f]{2}:){5}[0-9a-f]{2}$/.test(mac))
    throw new NotRun(`no MAC address for ${h.name}'s ${h.underlayIf}`);
  return mac;
}

async function cut(ctx: ProbeContext, h1: HostNode, h3: HostNode): Promise<void> {
  const [a, b] = [await macOf(ctx, h1), await macOf(ctx, h3)];
  const steps = [
    ['add', 'table', 'bridge', TABLE],
    ['add', 'chain', 'bridge', TABLE, 'forward', '{', 'type', 'filter', 'hook', 'forward', 'priority', '0', ';', '}'],
    ['add', 'rule', 'bridge', TABLE, 'forward', 'ether', 'saddr', a, 'ether', 'daddr', b, 'counter', 'drop'],
    ['add', 'rule', 'bridge', TABLE, 'forward', 'ether', 'saddr', b, 'ether', 'daddr', a, 'counter', 'drop'],
  ];
  for (const s of steps) {
    const r = await nft(ctx, s);
    if (r.code !== 0) throw new NotRun(`could not cut h1↔h3 on the switch: nft ${s.slice(0, 3).join(' ')}: ${r.stderr.trim()}`);
  }
}

const pingOk = async (ctx: ProbeContext, node: string, ip: string, wait = 1) =>
  (await ctx.exec(node, 'ping', ['-n', '-c', '1', '-W', String(wait), ip])).code === 0;

async function relayedBy(ctx: ProbeContext, host: string): Promise<number | undefined> {
  const r = await ctx.exec(host, 'cat', [join(encapHostDir(ctx.up.state.stateDir, host), 'counters.json')]);
  if (r.code !== 0) return undefined;
  try {
    return (JSON.parse(r.stdout) as { relay?: { forwarded?: number } }).relay?.forwarded;
  } catch {
    return undefined;
  }
}

async function run(ctx: ProbeContext): Promise<PartialData> {
  const [h1, h2, h3] = ctx.up.lab.hosts;
  if (!h3 || !ctx.up.lab.switch) throw new NotRun('needs three hosts on a switch');
  const ws = ctx.up.build.workloads;
  const c1 = ws.find((w) => w.hostIndex === 1);
  const c3 = ws.find((w) => w.hostIndex === 3);
  if (!c1 || !c3) throw new NotRun('needs a container on h1 and on h3');
  const target = ctx.up.build.targetIp(c1, c3);
  const before = (await ctx.exec(c1.node, 'ping', ['-n', '-c', '3', '-i', String(INTERVAL), '-w', '3', target])).code === 0;
  const hosts = { h1: h1.underlayIp, h2: h2.underlayIp, h3: h3.underlayIp };
  const base = { hosts, from: c1.node, to: c3.node, before };
  if (!before) return { ...base, underlay: { h1h2: false, h2h3: false, h1h3: false }, after: false, afterMs: 0 };
  await cut(ctx, h1, h3);
  try {
    const t0 = performance.now();
    const first = await ctx.exec(c1.node, 'ping', ['-n', '-c', '1', '-i', String(INTERVAL), '-w', String(DEADLINE), target], {
      timeoutMs: (DEADLINE + 2) * 1000,
    });
    const afterMs = Math.round(performance.now() - t0);
    const after = first.code === 0;
    const steady = after
      ? (await ctx.exec(c1.node, 'ping', ['-n', '-c', '3', '-i', String(INTERVAL), '-W', '1', target])).code === 0
      : undefined;
    const [h1h2, h2h3, h1h3] = await Promise.all([
      pingOk(ctx, h1.name, h2.underlayIp),
      pingOk(ctx, h2.name, h3.underlayIp),
      pingOk(ctx, h1.name, h3.underlayIp),
    ]);
    const relayedByH2 = await relayedBy(ctx, h2.name);
    await nft(ctx, ['list', 'table', 'bridge', TABLE]);
    return { ...base, underlay: { h1h2, h2h3, h1h3 }, after, afterMs, steady, ...(relayedByH2 !== undefined ? { relayedByH2 } : {}) };
  } finally {
    await nft(ctx, ['delete', 'table', 'bridge', TABLE]);
  }
}

/** Pure: the pings (and h2's relay counter) → relayed / no. */
export function judgePartial(e: Evidence<PartialData>): Verdict {
  const d = e.data;
  if (!d.before) return { mark: 'not-run', text: `not run: ${d.from}→${d.to} fails even without the cut` };
  if (d.underlay.h1h3) return { mark: 'not-run', text: 'not run: the cut did not take (h1 still reaches h3 on the underlay)' };
  if (!d.underlay.h1h2 || !d.underlay.h2h3) {
    return { mark: 'not-run', text: 'not run: the cut was not partial (h1↔h2 or h2↔h3 failed too)' };
  }
  const cutText = 'h1↔h3 cut on the underlay, h1↔h2 and h2↔h3 up';
  if (!d.after) {
    return {
      mark: 'no',
      key: 'no',
      text: `${d.from}→${d.to} lost while h1↔h3 is cut`,
      detail: `${cutText}; no reply within ${DEADLINE} s`,
    };
  }
  const secs = (d.afterMs / 1000).toFixed(1);
  const how = d.relayedByH2 ? `relayed by h2 (${d.relayedByH2} datagrams)` : 'reached around the cut';
  const holds = d.steady === false ? '; the next pings failed (route not stable)' : '';
  return {
    mark: d.steady === false ? 'value' : 'yes',
    key: d.steady === false ? 'flapping' : 'relayed',
    text: `${how}, after ${secs} s`,
    detail: `${cutText}; ${d.from}→${d.to}: first reply ${secs} s after the cut${holds}`,
  };
}

export const partialConnectivity: Probe<PartialData> = {
  aspect: 'partial-connectivity',
  name: 'partial',
  title: 'Partial connectivity: h1↔h3 cut on the underlay',
  needs: () => ({ hosts: 3, containersPerHost: 1 }),
  requires: [{ kind: 'binary', name: 'nft', pkg: 'nftables' }],
  skip: (s) => (s.containers ? null : 'no containers (host baseline)'),
  run,
  judge: judgePartial,
};
