import type { RatePoint, RunRecord, TestRecord } from '../result/types.js';
import { runClient as iperf3Client, type Iperf3Parsed } from '../runners/iperf3.js';
import { parseIntervals } from '../runners/iperf3-intervals.js';
import { runClient as qperfClient } from '../runners/qperf.js';
import { runClient as sockperfClient } from '../runners/sockperf.js';
import type { RunOutput } from '../runners/types.js';
import { cpuDelta, cpuSecondsPerGbit, readCpuTimes, type CpuUse } from './cpu.js';

/**
 * One run of one test, any kind: the tool's client between the test's two workloads, with the
 * system-wide /proc/stat CPU window around the measured part. Never throws for a failed
 * measurement: that is a run with ok: false and the tool's reason.
 */

export interface RunContext {
  /** Where the servers listen for this test (see servers.ts). */
  ports: { iperf3: number; sockperf: number; qperf: number; qperfData: number };
  /** taskset CPU lists: client, load client. */
  clientCpus?: string;
  loadClientCpus?: string;
}

type Base = Pick<RunRecord, 'repeat' | 'startedAt'>;

/** CPU-seconds per 1,000 transactions (round trips). */
export function cpuSecondsPer1k(busySeconds: number, transactions: number): number | undefined {
  return transactions > 0 ? busySeconds / (transactions / 1000) : undefined;
}

async function cpuWindow<T>(work: () => Promise<T>): Promise<{ value: T; cpu: CpuUse }> {
  const before = await readCpuTimes();
  const value = await work();
  return { value, cpu: cpuDelta(before, await readCpuTimes()) };
}

function failed(base: Base, out: { argv: string[]; raw: string }, error: string): RunRecord {
  return { ...base, ok: false, error, argv: out.argv, raw: out.raw };
}

function iperf3Opts(t: TestRecord, ctx: RunContext, seconds: number, over: { udpRate?: string; streams?: number; cpus?: string } = {}) {
  return {
    ns: t.client.ns,
    target: t.target,
    port: ctx.ports.iperf3,
    seconds,
    protocol: t.protocol,
    streams: over.streams ?? t.streams,
    udpRate: t.protocol === 'udp' ? (over.udpRate ?? t.udpRate) : undefined,
    length: t.length,
    cpus: over.cpus ?? ctx.clientCpus,
  };
}

function iperf3Record(base: Base, out: RunOutput<Iperf3Parsed>, cpu: CpuUse): RunRecord {
  const p = out.result;
  if (!p.ok) return failed(base, out, p.error);
  const intervals = parseIntervals(out.raw);
  return { ...base, ok: true, argv: out.argv, raw: out.raw, gbps: p.bitsPerSecond / 1e9, bytes: p.bytes, retransmits: p.retransmits, lossPercent: p.lostPercent, jitterMs: p.jitterMs, cpu, cpuSecondsPerGbit: cpuSecondsPerGbit(cpu.busy, p.bytes), ...(intervals.length ? { intervals } : {}) };
}

async function runIperf3(t: TestRecord, ctx: RunContext, seconds: number, base: Base): Promise<RunRecord> {
  const { value: out, cpu } = await cpuWindow(() => iperf3Client(iperf3Opts(t, ctx, seconds)));
  return iperf3Record(base, out, cpu);
}

async function runQperf(t: TestRecord, ctx: RunContext, seconds: number, base: Base): Promise<RunRecord> {
  const test = t.qperfTest ?? (t.protocol === 'tcp' ? 'tcp_bw' : 'udp_bw');
  const opts = { ns: t.client.ns, target: t.target, port: ctx.ports.qperf, dataPort: ctx.ports.qperfData, seconds, tests: [test], msgSize: t.msgSize, cpus: ctx.clientCpus };
  const { value: out, cpu } = await cpuWindow(() => qperfClient(opts));
  if (!out.result.ok) return failed(base, out, out.result.error);
  const p = out.result.points[0];
  const rec: RunRecord = { ...base, ok: true, argv: out.argv, raw: out.raw, cpu };
  if (p.bitsPerSecond !== undefined) {
    rec.gbps = p.bitsPerSecond / 1e9;
    rec.bytes = Math.round((p.bitsPerSecond * p.seconds) / 8);
    rec.cpuSecondsPerGbit = cpuSecondsPerGbit(cpu.busy, rec.bytes);
    if (p.sendBitsPerSecond !== undefined) {
      rec.sendGbps = p.sendBitsPerSecond / 1e9;
      if (p.sendBitsPerSecond > 0) rec.lossPercent = Math.max(0, (1 - p.bitsPerSecond / p.sendBitsPerSecond) * 100);
    }
  }
  if (p.latencyUs !== undefined) {
    rec.latencyUs = p.latencyUs;
    const tx = p.recvMsgs ?? (p.msgRate !== undefined ? Math.round(p.msgRate * p.seconds) : 0);
    rec.transactions = tx;
    rec.cpuSecondsPer1kTransactions = cpuSecondsPer1k(cpu.busy, tx);
  }
  return rec;
}

function sockperfOpts(t: TestRecord, ctx: RunContext, seconds: number) {
  return { ns: t.client.ns, target: t.target, port: ctx.ports.sockperf, protocol: t.protocol, seconds, msgSize: t.msgSize, cpus: ctx.clientCpus };
}

async function runSockperf(t: TestRecord, ctx: RunContext, seconds: number, base: Base): Promise<RunRecord> {
  const { value: out, cpu } = await cpuWindow(() => sockperfClient(sockperfOpts(t, ctx, seconds)));
  const p = out.result;
  if (!p.ok) return failed(base, out, p.error);
  return {
    ...base,
    ok: true,
    argv: out.argv,
    raw: out.raw,
    latency: { p50Us: p.p50Us, p90Us: p.p90Us, p99Us: p.p99Us, p999Us: p.p999Us, maxUs: p.maxUs, meanUs: p.meanUs, observations: p.observations },
    lossPercent: p.dropped > 0 && p.observations > 0 ? (p.dropped / (p.dropped + p.observations)) * 100 : undefined,
    transactions: p.totalReceived,
    cpu,
    cpuSecondsPer1kTransactions: cpuSecondsPer1k(cpu.busy, p.totalReceived),
  };
}

/** The bulk flow starts this long before the latency probe and ends this long after it. */
export const LOAD_LEAD_SECONDS = 1;
/** sockperf sends its warm-up messages and pauses 2 s (hard-coded) before it measures. */
export const SOCKPERF_PAUSE_SECONDS = 3;

async function runUnderLoad(t: TestRecord, ctx: RunContext, seconds: number, base: Base): Promise<RunRecord> {
  const streams = t.underLoad?.streams ?? 1;
  // The bulk flow must cover the probe's measured part, which starts after sockperf's pause.
  const bulkSeconds = LOAD_LEAD_SECONDS + SOCKPERF_PAUSE_SECONDS + seconds + LOAD_LEAD_SECONDS;
  const bulk = iperf3Client({ ...iperf3Opts(t, ctx, bulkSeconds, { streams, cpus: ctx.loadClientCpus }), protocol: 'tcp', udpRate: undefined, length: undefined });
  await new Promise((r) => setTimeout(r, LOAD_LEAD_SECONDS * 1000));
  const probe = await runSockperf(t, ctx, seconds, base);
  const load = await bulk;
  const l = load.result;
  probe.load = l.ok ? { ok: true, gbps: l.bitsPerSecond / 1e9, argv: load.argv, raw: load.raw } : { ok: false, error: l.error, argv: load.argv, raw: load.raw };
  // Without the load the figure is not latency under load.
  if (probe.ok && !l.ok) Object.assign(probe, { ok: false, error: `the bulk flow failed: ${l.error}` });
  return probe;
}

/** Offered rates: double from the start until the loss limit is crossed, then bisect twice. */
export const RATE_MAX_MBPS = 102_400;

async function runRateSweep(t: TestRecord, ctx: RunContext, seconds: number, base: Base): Promise<RunRecord> {
  const limit = t.lossLimitPercent ?? 1;
  const points: RatePoint[] = [];
  let cpuTotal: CpuUse | undefined;
  const tryRate = async (mbps: number): Promise<RatePoint> => {
    const { value: out, cpu } = await cpuWindow(() => iperf3Client(iperf3Opts(t, ctx, seconds, { udpRate: `${mbps}M` })));
    cpuTotal = cpuTotal ? (Object.fromEntries(Object.entries(cpuTotal).map(([k, v]) => [k, v + cpu[k as keyof CpuUse]])) as unknown as CpuUse) : cpu;
    const p = out.result;
    const pt: RatePoint = p.ok
      ? { offeredMbps: mbps, ok: true, gbps: p.bitsPerSecond / 1e9, lossPercent: p.lostPercent, jitterMs: p.jitterMs, argv: out.argv, raw: out.raw }
      : { offeredMbps: mbps, ok: false, error: p.error, argv: out.argv, raw: out.raw };
    points.push(pt);
    return pt;
  };
  const good = (p: RatePoint) => p.ok && (p.lossPercent ?? 100) < limit;
  let lo: RatePoint | undefined;
  let hi: RatePoint | undefined;
  for (let mbps = t.startMbps ?? 100; mbps <= RATE_MAX_MBPS; mbps *= 2) {
    const p = await tryRate(mbps);
    if (!good(p)) {
      hi = p;
      break;
    }
    lo = p;
  }
  for (let i = 0; i < 2 && lo && hi; i++) {
    const mid = Math.round((lo.offeredMbps + hi.offeredMbps) / 2);
    if (mid === lo.offeredMbps || mid === hi.offeredMbps) break;
    const p = await tryRate(mid);
    if (good(p)) lo = p;
    else hi = p;
  }
  const argv = points[0]?.argv ?? [];
  if (!lo) {
    const first = points[0];
    const why = first?.ok ? `loss ${first.lossPercent?.toFixed(2)}% ≥ ${limit}% already at ${first.offeredMbps} Mbit/s` : (first?.error ?? 'no rate tried');
    return { ...base, ok: false, error: `no rate with loss under ${limit}%: ${why}`, argv, raw: '', ratePoints: points, cpu: cpuTotal };
  }
  return { ...base, ok: true, argv, raw: '', ratePoints: points, maxRateMbps: lo.offeredMbps, gbps: lo.gbps, lossPercent: lo.lossPercent, jitterMs: lo.jitterMs, cpu: cpuTotal };
}

/** Runs one repeat (or the warm-up) of a test for `seconds`. */
export async function executeRun(t: TestRecord, ctx: RunContext, seconds: number, repeat: number): Promise<RunRecord> {
  const base: Base = { repeat, startedAt: new Date().toISOString() };
  switch (t.kind ?? 'iperf3') {
    case 'iperf3':
      return runIperf3(t, ctx, seconds, base);
    case 'qperf':
      return runQperf(t, ctx, seconds, base);
    case 'sockperf':
      return t.underLoad ? runUnderLoad(t, ctx, seconds, base) : runSockperf(t, ctx, seconds, base);
    case 'udp-rate-sweep':
      return runRateSweep(t, ctx, seconds, base);
  }
}
