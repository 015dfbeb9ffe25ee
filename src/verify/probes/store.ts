import { blockOf } from '../../control/bird.js';
import { controlPlaneOf } from '../../lab/types.js';
import { addContainer, leaseAttempt, mechanismOf, restartDaemon, stopDaemon, type Mechanism } from '../../measure/converge-lab.js';
import { Probe } from '../../measure/probe.js';
import type { Evidence, Verdict } from '../../result/verify.js';
import { crossPair } from '../traffic.js';
import type { Probe as VerifyProbe, ProbeContext } from '../types.js';

/**
 * Distributed store (issue 13, probe 5), on the control planes of issue 11. The store is etcd for
 * flannel (the lab's one etcd) and, for Calico, the BGP mesh: host 2's BIRD is stopped. While it is
 * down: a ping train from host 1's container to host 2's runs on (did it lose anything?), a new
 * container is added on host 2 as the convergence measurement adds one (is it reachable from host
 * 1, and when?), and for etcd a lease is asked for (what a new host's agent does first). Then the
 * store starts again: when is the new container reachable, and is the train whole again?
 * Schemes without a control plane (or built with --control-plane static) have no store: measured
 * as such, from the built lab.
 */

/** Ping train interval, ms (root may go below 200 ms). */
const TRAIN_MS = 50;
/** How long the new container is given to become reachable while the store is down, and after it is back. */
const DOWN_WAIT_MS = 3_000;
const BACK_WAIT_MS = 15_000;
/** A train that lost no more than this at a stretch went on (one late reply is not an outage). */
const CONTINUED_GAP_MS = 250;

export interface TrainReply {
  seq: number;
  /** Epoch ms (ping -D). */
  at: number;
  ok: boolean;
}

export interface StoreData {
  mechanism: Mechanism | null;
  controlPlane: 'static' | 'real';
  /** The scheme runs a control plane when asked to (Calico's BIRD, flannel's etcd). */
  schemeHasOne: boolean;
  /** What was stopped: "etcd" or "BIRD on h2". */
  store?: string;
  /** Epoch ms of the phases. */
  times?: { trainStart: number; storeStopped: number; storeStarted: number; trainEnd: number };
  train?: { from: string; to: string; intervalMs: number; replies: TrainReply[] };
  /** Host 1's route to host 2's block, at least 1.5 s after BIRD stopped (BGP). */
  peerRoute?: string;
  newContainer?: { node: string; ip: string; what: string; whileDownSeconds: number | null; afterRestartSeconds: number | null };
  /** etcd: a lease asked for while it was down, and after it was back. */
  leaseWhileDown?: string;
  leaseAfter?: string;
}

const PING_LINE = /^\[(\d+(?:\.\d+)?)\]\s+(?:\d+ bytes from .*icmp_seq=(\d+)|no answer yet for icmp_seq=(\d+))/;

/** Pure: `ping -D -O` output → one entry per sequence number (a late reply overrides "no answer yet"). */
export function parsePingTrain(stdout: string): TrainReply[] {
  const bySeq = new Map<number, TrainReply>();
  for (const line of stdout.split('\n')) {
    const m = PING_LINE.exec(line.trim());
    if (!m) continue;
    const at = Math.round(Number(m[1]) * 1000);
    if (m[2] !== undefined) {
      const seq = Number(m[2]);
      const before = bySeq.get(seq);
      bySeq.set(seq, { seq, at: before?.at ?? at, ok: true });
    } else {
      const seq = Number(m[3]);
      if (!bySeq.get(seq)?.ok) bySeq.set(seq, { seq, at, ok: false });
    }
  }
  return [...bySeq.values()].sort((a, b) => a.seq - b.seq);
}

/** Pure: losses among replies sent in [from, to): how many, and the longest run of consecutive ones (ms). */
export function lossBetween(
  replies: TrainReply[],
  intervalMs: number,
  from: number,
  to: number,
): { sent: number; lost: number; gapMs: number } {
  const inside = replies.filter((r) => r.at >= from && r.at < to);
  let run = 0;
  let longest = 0;
  for (const r of inside) {
    run = r.ok ? 0 : run + 1;
    longest = Math.max(longest, run);
  }
  return { sent: inside.length, lost: inside.filter((r) => !r.ok).length, gapMs: longest * intervalMs };
}

async function waitReachable(ns: string, ip: string, ms: number, since: number): Promise<number | null> {
  const p = new Probe(ns, [ip], 20);
  try {
    const at = await p.allOk([ip], ms, since);
    return at === null ? null : Math.max(0, at - since) / 1000;
  } finally {
    p.stop();
  }
}

const secs = (s: number) => `${s < 1 ? s.toFixed(2) : s.toFixed(1)} s`;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** etcd back: asks for a lease until one is granted (up to BACK_WAIT_MS); the answer and when, from `since`. */
async function leaseUntilGranted(up: ProbeContext['up'], since: number): Promise<string> {
  for (;;) {
    const l = await leaseAttempt(up);
    if (l.granted) return `granted ${secs((Date.now() - since) / 1000)} after restart: ${l.said}`;
    if (Date.now() - since > BACK_WAIT_MS) return `still refused ${secs((Date.now() - since) / 1000)} after restart: ${l.said}`;
    await sleep(100);
  }
}

async function run(ctx: ProbeContext): Promise<StoreData> {
  const { up } = ctx;
  const mechanism = mechanismOf(up);
  const base = { mechanism, controlPlane: controlPlaneOf(up.lab.topology), schemeHasOne: !!ctx.scheme.controlRequires };
  if (!mechanism) return base;
  const { a, b, target } = crossPair(ctx);
  const h2 = up.lab.hosts[1];
  const role = mechanism === 'bgp' ? `bird-${h2.name}` : 'etcd';
  const store = mechanism === 'bgp' ? `BIRD on ${h2.name}` : 'etcd';
  const ping = await ctx.background(a.node, 'ping', ['-D', '-O', '-n', '-i', String(TRAIN_MS / 1000), '-W', '1', target]);
  const trainStart = Date.now();
  let storeStopped = 0;
  let storeStarted = 0;
  const out: StoreData = { ...base, store };
  try {
    // (the context gave ping up to 2 s to start already: the train has been running since.)
    await sleep(300);
    storeStopped = Date.now();
    await stopDaemon(up, role);
    if (mechanism === 'etcd') {
      const l = await leaseAttempt(up);
      out.leaseWhileDown = `${l.granted ? 'granted' : 'refused'}: ${l.said}`;
    }
    const added = await addContainer(up, h2, mechanism, { birdDown: mechanism === 'bgp' });
    const tNew = Date.now();
    const whileDown = await waitReachable(a.ns, added.ip, DOWN_WAIT_MS, tNew);
    if (mechanism === 'bgp') {
      await sleep(Math.max(0, storeStopped + 1_500 - Date.now()));
      out.peerRoute = (await ctx.exec(up.lab.hosts[0].name, 'ip', ['-4', 'route', 'show', blockOf(h2)])).stdout.trim() || '(no route)';
    }
    storeStarted = Date.now();
    await restartDaemon(up, role);
    const after = whileDown === null ? await waitReachable(a.ns, added.ip, BACK_WAIT_MS, storeStarted) : null;
    out.newContainer = { node: added.node.name, ip: added.ip, what: added.what, whileDownSeconds: whileDown, afterRestartSeconds: after };
    if (mechanism === 'etcd') out.leaseAfter = await leaseUntilGranted(up, storeStarted);
    // The train is whole again (or not) within a second of the store being back and the new container reached.
    await waitReachable(a.ns, target, BACK_WAIT_MS, Date.now());
    await sleep(500);
  } finally {
    const r = await ping.stop();
    out.times = { trainStart, storeStopped, storeStarted, trainEnd: Date.now() };
    out.train = { from: a.node, to: b.node, intervalMs: TRAIN_MS, replies: parsePingTrain(r.stdout) };
  }
  return out;
}

/** Pure: what the train, the new container and the store did → the cell. */
export function judgeStore(e: Evidence<StoreData>): Verdict {
  const d = e.data;
  if (!d.mechanism) {
    const why = d.schemeHasOne ? 'built with --control-plane static' : "the scheme's routes and peers are precomputed";
    return { mark: 'value', key: 'none', text: 'static control plane: no store', detail: `nothing to stop: ${why}` };
  }
  if (!d.train || !d.times || !d.newContainer) return { mark: 'not-run', text: 'not run: the store test did not finish' };
  const { replies, intervalMs } = d.train;
  const t = d.times;
  if (!replies.some((r) => r.ok && r.at < t.storeStopped))
    return { mark: 'no', key: 'broken', text: 'the flow never ran before the store stopped' };
  const down = lossBetween(replies, intervalMs, t.storeStopped, t.storeStarted);
  const after = lossBetween(replies, intervalMs, t.storeStarted, t.trainEnd);
  const tail = replies.filter((r) => r.at >= t.storeStarted);
  const endsOk = tail.length > 0 && tail.slice(-5).every((r) => r.ok);
  const continued = down.gapMs <= CONTINUED_GAP_MS;
  const n = d.newContainer;
  // When a broken flow answered again: the first reply after the last loss.
  const lastLost = replies.filter((r) => !r.ok).pop();
  const backAt = lastLost ? replies.find((r) => r.ok && r.seq > lastLost.seq)?.at : undefined;
  const whole = lossBetween(replies, intervalMs, t.storeStopped, t.trainEnd);
  const back = backAt === undefined ? 'not back by the end' : `back ${secs(Math.max(0, backAt - t.storeStarted) / 1000)} after restart`;
  const flow = continued
    ? `existing flow went on (${down.lost}/${down.sent} lost)`
    : `existing flow broke (${whole.lost} lost, ${secs(whole.gapMs / 1000)}), ${back}`;
  const fresh =
    n.whileDownSeconds !== null
      ? `new container reachable in ${secs(n.whileDownSeconds)} while down`
      : n.afterRestartSeconds !== null
        ? `new container unreachable while down, reachable ${secs(n.afterRestartSeconds)} after restart`
        : 'new container unreachable, even after restart';
  const lease = d.leaseWhileDown?.startsWith('refused') ? '; a new host gets no lease while down' : '';
  const text = `${d.mechanism === 'etcd' ? 'etcd' : `BGP: ${d.store}`} stopped: ${flow}; ${fresh}${lease}`;
  const detail = [
    `ping train ${d.train.from}→${d.train.to} every ${intervalMs} ms: ${down.lost}/${down.sent} lost while the store was down, ${after.lost}/${after.sent} after it was back; ${endsOk ? 'whole again at the end' : 'still losing at the end'}`,
    ...(d.peerRoute !== undefined ? [`host 1's route to host 2's block while BIRD was down: ${d.peerRoute}`] : []),
    `new container ${n.node} (${n.ip}) ${n.what}`,
    ...(d.leaseWhileDown ? [`lease while down: ${d.leaseWhileDown}`] : []),
    ...(d.leaseAfter ? [`lease after restart: ${d.leaseAfter}`] : []),
  ].join('\n');
  return { mark: continued ? 'yes' : 'no', key: d.mechanism, text, detail };
}

export const storeProbe: VerifyProbe<StoreData> = {
  aspect: 'distributed-store',
  name: 'store',
  title: 'Distributed store: stop it; existing flow, a new container, recovery',
  // It stops a daemon and adds a container: a lab of its own where there is a control plane to stop.
  needs: (scheme) => ({ hosts: 2, containersPerHost: 1, ...(scheme.controlRequires ? { exclusive: true } : {}) }),
  run,
  judge: judgeStore,
};
