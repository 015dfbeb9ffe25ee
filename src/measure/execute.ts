import type { RatePoint, RunRecord, TestRecord } from '../result/types.js';
import { LOAD_TOOL, TOOLS, toolOf } from '../runners/registry.js';
import type { Measured, Tool } from '../runners/types.js';
import { cpuDelta, cpuSecondsPerGbit, readCpuTimes, type CpuTimes, type CpuUse } from './cpu.js';

/**
 * One run of one test, any kind: the client of the test's tool (asked of the tool registry)
 * between the test's two workloads, with the system-wide /proc/stat CPU window around the measured
 * part. Two test designs compose tools: latency under load (the probe while the load tool's bulk
 * flow runs) and the UDP rate search (runs at offered rates). Never throws for a failed
 * measurement: that is a run with ok: false and the tool's reason.
 */

export interface RunContext {
  /** Where the servers listen for this test (see servers.ts): the test's tool, the load's. */
  ports: { main: number; load?: number };
  /** taskset CPU lists: client, load client. */
  clientCpus?: string;
  loadClientCpus?: string;
  /** Where CPU is read: this machine's /proc/stat unless set (the hosts' over SSH: host-cpu.ts). */
  cpuTimes?: () => Promise<CpuTimes>;
}

type Base = Pick<RunRecord, 'repeat' | 'startedAt'>;

/** CPU-seconds per 1,000 transactions (round trips). */
export function cpuSecondsPer1k(busySeconds: number, transactions: number): number | undefined {
  return transactions > 0 ? busySeconds / (transactions / 1000) : undefined;
}

async function cpuWindow<T>(ctx: RunContext, work: () => Promise<T>): Promise<{ value: T; cpu: CpuUse }> {
  const read = ctx.cpuTimes ?? (() => readCpuTimes());
  const before = await read();
  const value = await work();
  return { value, cpu: cpuDelta(before, await read()) };
}

/** One client run of `tool` for test `t` (with `over` replacing the test's own values). */
function measure(
  tool: Tool,
  t: TestRecord,
  ctx: RunContext,
  seconds: number,
  over: Partial<TestRecord> = {},
  load = false,
): Promise<Measured> {
  const port = load ? ctx.ports.load : ctx.ports.main;
  if (port === undefined) throw new Error(`no ${tool.name} server port for ${t.id}`);
  const cpus = load ? ctx.loadClientCpus : ctx.clientCpus;
  return tool.measure({ ...t, ...over }, { ns: t.client.ns, target: t.target, port, seconds, cpus });
}

/** A run record from a tool's figures and the CPU window, with the CPU costs they allow. */
function record(base: Base, out: Measured, cpu: CpuUse): RunRecord {
  const f = out.figures;
  if ('ok' in f) return { ...base, ok: false, error: f.error, argv: out.argv, raw: out.raw };
  const rec: RunRecord = { ...base, ok: true, argv: out.argv, raw: out.raw, ...f, cpu };
  if (f.bytes !== undefined) rec.cpuSecondsPerGbit = cpuSecondsPerGbit(cpu.busy, f.bytes);
  if (f.transactions !== undefined) rec.cpuSecondsPer1kTransactions = cpuSecondsPer1k(cpu.busy, f.transactions);
  return rec;
}

async function runPlain(t: TestRecord, ctx: RunContext, seconds: number, base: Base): Promise<RunRecord> {
  const { value: out, cpu } = await cpuWindow(ctx, () => measure(toolOf(t), t, ctx, seconds));
  return record(base, out, cpu);
}

/** The bulk flow starts this long before the latency probe and ends this long after it. */
export const LOAD_LEAD_SECONDS = 1;

async function runUnderLoad(t: TestRecord, ctx: RunContext, seconds: number, base: Base): Promise<RunRecord> {
  const streams = t.underLoad?.streams ?? 1;
  // The bulk flow must cover the probe's measured part, which starts once the probe has settled.
  const bulkSeconds = LOAD_LEAD_SECONDS + toolOf(t).settleSeconds + seconds + LOAD_LEAD_SECONDS;
  const bulkTest = { kind: undefined, protocol: 'tcp' as const, streams, udpRate: undefined, length: undefined };
  const bulk = measure(TOOLS[LOAD_TOOL], t, ctx, bulkSeconds, bulkTest, true);
  await new Promise((r) => setTimeout(r, LOAD_LEAD_SECONDS * 1000));
  const probe = await runPlain(t, ctx, seconds, base);
  const load = await bulk;
  const l = load.figures;
  probe.load =
    'ok' in l ? { ok: false, error: l.error, argv: load.argv, raw: load.raw } : { ok: true, gbps: l.gbps, argv: load.argv, raw: load.raw };
  // Without the load the figure is not latency under load.
  if (probe.ok && 'ok' in l) Object.assign(probe, { ok: false, error: `the bulk flow failed: ${l.error}` });
  return probe;
}

/** Offered rates: double from the start until the loss limit is crossed, then bisect twice. */
export const RATE_MAX_MBPS = 102_400;

async function runRateSweep(t: TestRecord, ctx: RunContext, seconds: number, base: Base): Promise<RunRecord> {
  const limit = t.lossLimitPercent ?? 1;
  const points: RatePoint[] = [];
  let cpuTotal: CpuUse | undefined;
  const tryRate = async (mbps: number): Promise<RatePoint> => {
    const { value: out, cpu } = await cpuWindow(ctx, () => measure(toolOf(t), t, ctx, seconds, { udpRate: `${mbps}M` }));
    cpuTotal = cpuTotal
      ? (Object.fromEntries(Object.entries(cpuTotal).map(([k, v]) => [k, v + cpu[k as keyof CpuUse]])) as unknown as CpuUse)
      : cpu;
    const p = out.figures;
    const pt: RatePoint =
      'ok' in p
        ? { offeredMbps: mbps, ok: false, error: p.error, argv: out.argv, raw: out.raw }
        : { offeredMbps: mbps, ok: true, gbps: p.gbps, lossPercent: p.lossPercent, jitterMs: p.jitterMs, argv: out.argv, raw: out.raw };
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
    const why = first?.ok
      ? `loss ${first.lossPercent?.toFixed(2)}% ≥ ${limit}% already at ${first.offeredMbps} Mbit/s`
      : (first?.error ?? 'no rate tried');
    return { ...base, ok: false, error: `no rate with loss under ${limit}%: ${why}`, argv, raw: '', ratePoints: points, cpu: cpuTotal };
  }
  return {
    ...base,
    ok: true,
    argv,
    raw: '',
    ratePoints: points,
    maxRateMbps: lo.offeredMbps,
    gbps: lo.gbps,
    lossPercent: lo.lossPercent,
    jitterMs: lo.jitterMs,
    cpu: cpuTotal,
  };
}

/** Runs one repeat (or the warm-up) of a test for `seconds`. */
export async function executeRun(t: TestRecord, ctx: RunContext, seconds: number, repeat: number): Promise<RunRecord> {
  const base: Base = { repeat, startedAt: new Date().toISOString() };
  if (t.kind === 'udp-rate-sweep') return runRateSweep(t, ctx, seconds, base);
  if (t.underLoad) return runUnderLoad(t, ctx, seconds, base);
  return runPlain(t, ctx, seconds, base);
}
