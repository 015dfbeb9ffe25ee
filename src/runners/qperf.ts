/**
 * qperf runner (0.4.11): tool check, server, one client run, and a pure parser of its text output
 * with -uu -ub -vv (unified units: bits/sec, ns, bytes).
 *
 * Facts about qperf this relies on (checked against real runs, see test/fixtures/qperf):
 * - The server prints nothing, forks a child per connection and keeps listening: it is started in
 *   its own process group and ready once its port is bound (runners/server.ts).
 * - A client prints "<test>:" and then either "    key = value unit" lines or one error line
 *   ("<host>: failed to connect", "failed to receive results: server not responding") and exits 1.
 * - With -oo msg_size:A:B:*2 each size is its own "<test>:" block, in order.
 * - udp_bw with a message larger than a UDP datagram "succeeds" with 0 bits/sec: that is a failure.
 * - -t takes whole seconds; a fraction is read as 0, i.e. forever.
 * - stdout is block-buffered into a pipe: a client killed mid-sweep leaves a cut block.
 */
import { InputError } from '../errors.js';
import { SERVICE_PORT } from '../lab/ports.js';
import type { TestSpec } from '../result/types.js';
import { inNetns } from '../util/exec.js';
import { executorOf } from '../util/executor.js';
import { tasksetPrefix } from './affinity.js';
import { checkTool } from './check.js';
import { startServer as startBackground, type Server } from './server.js';
import type { ClientRun, Failure, RunFigures, RunOutput, Tool, ToolCheck } from './types.js';

export const TOOL = 'qperf';
export const QPERF_TESTS = ['tcp_bw', 'tcp_lat', 'udp_bw', 'udp_lat'] as const;
export type QperfTest = (typeof QPERF_TESTS)[number];

export interface QperfPoint {
  test: QperfTest;
  /** bytes */
  msgSize: number;
  /** Test time, seconds. */
  seconds: number;
  /** _bw tests: receiver bits/s (tcp_bw "bw", udp_bw "recv_bw"). */
  bitsPerSecond?: number;
  /** udp_bw: sender bits/s. */
  sendBitsPerSecond?: number;
  /** _lat tests: qperf's latency, half the round trip, in microseconds. */
  latencyUs?: number;
  /** Messages per second (for _lat tests: round trips per second). */
  msgRate?: number;
  /** Messages the client received (for _lat tests: completed round trips). */
  recvMsgs?: number;
}

export type QperfParsed = { ok: true; points: QperfPoint[] } | Failure;

export interface QperfClientOptions {
  ns: string;
  target: string;
  /** Control (listen) port, -lp; the server must use the same. */
  port: number;
  /** Data port for the socket tests, -ip (fixed so that firewalls/NAT can be told about it). */
  dataPort?: number;
  /** Whole seconds per test (per size). */
  seconds: number;
  tests: QperfTest[];
  /** One message size in bytes (-m). */
  msgSize?: number;
  /** Or a loop in qperf's own form, e.g. "msg_size:1:64K:*2" (-oo). */
  loop?: string;
  /** taskset CPU list for the client. */
  cpus?: string;
  /** Kill the client after this long; default seconds × sizes × tests + 15 s. */
  timeoutMs?: number;
}

export interface QperfServerOptions {
  ns: string;
  port: number;
  cpus?: string;
  onSpawn?: (pid: number) => void;
  readyTimeoutMs?: number;
}

/** Pure: "qperf 0.4.11" → "0.4.11". */
export function parseVersion(text: string): string | undefined {
  return /^qperf (\d+\.\d+(?:\.\d+)?)/m.exec(text)?.[1];
}

export function check(): Promise<ToolCheck> {
  return checkTool(TOOL, parseVersion);
}

function checkPort(port: number): void {
  if (!Number.isInteger(port) || port < 1 || port > 65535) throw new InputError(`invalid qperf port ${port}`);
}

/** Pure: "64K" → 65536, "1" → 1 (qperf's K = KiB). */
export function parseSize(text: string): number {
  const m = /^(\d+)([KMG]?)$/i.exec(text.trim());
  if (!m) throw new InputError(`invalid message size "${text}" (bytes, or with K/M/G)`);
  const mult = { '': 1, K: 1024, M: 1024 ** 2, G: 1024 ** 3 }[m[2].toUpperCase()] ?? 1;
  return Number(m[1]) * mult;
}

/** Pure: qperf's loop "1:64K:*2" (or "msg_size:1:64K:*2") → [1, 2, 4, …, 65536]. */
export function expandLoop(spec: string): number[] {
  const m = /^(?:msg_size:)?([^:]+):([^:]+):([*+])(\d+)$/.exec(spec.trim());
  if (!m) throw new InputError(`invalid size sweep "${spec}": use FIRST:LAST:*FACTOR like 1:64K:*2 (or +STEP)`);
  const [first, last, step] = [parseSize(m[1]), parseSize(m[2]), Number(m[4])];
  if (first < 1 || last < first) throw new InputError(`invalid size sweep "${spec}": need 1 ≤ FIRST ≤ LAST`);
  if (m[3] === '*' ? step < 2 : step < 1) throw new InputError(`invalid size sweep "${spec}": the step must grow the size`);
  const out: number[] = [];
  for (let v = first; v <= last && out.length < 64; v = m[3] === '*' ? v * step : v + step) out.push(v);
  return out;
}

/** Pure: the full command line of a client run. */
export function clientArgv(o: QperfClientOptions): string[] {
  checkPort(o.port);
  if (o.dataPort !== undefined) checkPort(o.dataPort);
  if (!Number.isInteger(o.seconds) || o.seconds < 1) throw new InputError(`invalid qperf duration ${o.seconds} s (whole seconds)`);
  if (!o.target || o.target.startsWith('-')) throw new InputError(`invalid qperf target "${o.target}"`);
  if (!o.tests.length || o.tests.some((t) => !QPERF_TESTS.includes(t))) throw new InputError(`invalid qperf tests ${o.tests.join(',')}`);
  if (o.msgSize !== undefined && o.loop !== undefined) throw new InputError('qperf: give a message size or a loop, not both');
  const args = [
    o.target,
    '-lp',
    String(o.port),
    ...(o.dataPort !== undefined ? ['-ip', String(o.dataPort)] : []),
    '-t',
    String(o.seconds),
    '-uu',
    '-ub',
    '-vv',
  ];
  if (o.msgSize !== undefined) {
    if (!Number.isInteger(o.msgSize) || o.msgSize < 1) throw new InputError(`invalid qperf message size ${o.msgSize}`);
    args.push('-m', String(o.msgSize));
  }
  if (o.loop !== undefined) {
    expandLoop(o.loop);
    args.push('-oo', o.loop.startsWith('msg_size:') ? o.loop : `msg_size:${o.loop}`);
  }
  args.push(...o.tests);
  const [file, rest] = inNetns(o.ns, TOOL, args);
  return [...tasksetPrefix(o.cpus), file, ...rest];
}

export function serverArgv(o: Pick<QperfServerOptions, 'ns' | 'port' | 'cpus'>): string[] {
  checkPort(o.port);
  const [file, rest] = inNetns(o.ns, TOOL, ['-lp', String(o.port)]);
  return [...tasksetPrefix(o.cpus), file, ...rest];
}

export function startServer(o: QperfServerOptions): Promise<Server> {
  return startBackground({
    argv: serverArgv(o),
    comm: TOOL,
    protocol: 'tcp',
    port: o.port,
    what: `qperf server in ${o.ns} on port ${o.port}`,
    onSpawn: o.onSpawn,
    readyTimeoutMs: o.readyTimeoutMs,
  });
}

/** Runs one client. Never rejects for a failed test; rejects (InputError) only for bad options. */
export async function runClient(o: QperfClientOptions): Promise<RunOutput<QperfParsed>> {
  const argv = clientArgv(o);
  const sizes = o.loop ? expandLoop(o.loop).length : 1;
  const timeoutMs = o.timeoutMs ?? o.seconds * 1000 * sizes * o.tests.length + 15_000;
  const started = Date.now();
  try {
    const res = await executorOf(o.ns).run(argv, { timeoutMs });
    const raw = res.stdout + (res.stderr.trim() ? res.stderr : '');
    const result = parse(raw);
    if (!result.ok && res.signal === 'SIGKILL' && Date.now() - started >= timeoutMs) {
      return { argv, raw, result: { ok: false, error: `qperf client timed out after ${timeoutMs} ms (${result.error})` } };
    }
    return { argv, raw, result };
  } catch (e) {
    return { argv, raw: '', result: { ok: false, error: `cannot run qperf: ${(e as Error).message}` } };
  }
}

// ---- pure parsing ----

const HEADER = /^(tcp_bw|tcp_lat|udp_bw|udp_lat):\s*$/;
const FIELD = /^\s+([a-z_]+)\s*=\s*(-?[\d.]+)\s*(\S.*)?$/;
const fail = (error: string): Failure => ({ ok: false, error });

function point(test: QperfTest, f: Map<string, number>): QperfPoint | string {
  const msgSize = f.get('msg_size');
  const time = f.get('time');
  if (msgSize === undefined || time === undefined) return 'qperf output was truncated';
  const p: QperfPoint = { test, msgSize, seconds: time / 1e9 };
  if (f.has('msg_rate')) p.msgRate = f.get('msg_rate');
  if (f.has('loc_recv_msgs')) p.recvMsgs = f.get('loc_recv_msgs');
  if (test.endsWith('_bw')) {
    const bw = f.get(test === 'tcp_bw' ? 'bw' : 'recv_bw');
    if (bw === undefined) return 'qperf output was truncated';
    if (bw <= 0) return `qperf ${test} received no data (0 bits/s) at ${msgSize} bytes`;
    p.bitsPerSecond = bw;
    if (f.has('send_bw')) p.sendBitsPerSecond = f.get('send_bw');
  } else {
    const ns = f.get('latency');
    if (ns === undefined) return 'qperf output was truncated';
    if (ns <= 0) return `qperf ${test} measured no round trip at ${msgSize} bytes`;
    p.latencyUs = ns / 1000;
  }
  return p;
}

/**
 * Pure: qperf -uu -ub -vv output → one point per block, or a failure with qperf's own reason.
 * A cut last block (no message size, time or figure) is a failure: a sweep either has every
 * block whole or is reported as failed. Never throws.
 */
export function parse(raw: string): QperfParsed {
  const lines = raw.replace(/\r/g, '').split('\n');
  if (!raw.trim()) return fail('qperf produced no output');
  const points: QperfPoint[] = [];
  let current: { test: QperfTest; fields: Map<string, number> } | undefined;
  const close = (): string | undefined => {
    if (!current) return undefined;
    const p = point(current.test, current.fields);
    current = undefined;
    if (typeof p === 'string') return p;
    points.push(p);
    return undefined;
  };
  for (const line of lines) {
    if (!line.trim()) continue;
    const h = HEADER.exec(line);
    if (h) {
      const err = close();
      if (err) return fail(err);
      current = { test: h[1] as QperfTest, fields: new Map() };
      continue;
    }
    const f = FIELD.exec(line);
    if (f && current) {
      current.fields.set(f[1], Number(f[2]));
      continue;
    }
    // Anything else is qperf's error line ("198.18.0.2: failed to connect", …) or a cut line.
    if (current && current.fields.size > 0 && /^\s+[a-z_]*\s*=?\s*[\d.]*$/.test(line)) return fail('qperf output was truncated');
    return fail(line.trim());
  }
  const err = close();
  if (err) return fail(err);
  if (!points.length) return fail('qperf output was truncated');
  return { ok: true, points };
}

// ---- the registry entry ----

/** The figures of one point (one test, one message size); the caller adds the CPU costs. */
function point0Figures(p: QperfPoint): RunFigures {
  const f: RunFigures = {};
  if (p.bitsPerSecond !== undefined) {
    f.gbps = p.bitsPerSecond / 1e9;
    f.bytes = Math.round((p.bitsPerSecond * p.seconds) / 8);
    if (p.sendBitsPerSecond !== undefined) {
      f.sendGbps = p.sendBitsPerSecond / 1e9;
      if (p.sendBitsPerSecond > 0) f.lossPercent = Math.max(0, (1 - p.bitsPerSecond / p.sendBitsPerSecond) * 100);
    }
  }
  if (p.latencyUs !== undefined) {
    f.latencyUs = p.latencyUs;
    f.transactions = p.recvMsgs ?? (p.msgRate !== undefined ? Math.round(p.msgRate * p.seconds) : 0);
  }
  return f;
}

/** Pure: the figures of a one-test, one-size run, as the result file records them. */
export function figures(p: QperfParsed): RunFigures | Failure {
  return p.ok ? point0Figures(p.points[0]) : p;
}

function clientOptions(t: TestSpec, run: ClientRun): QperfClientOptions {
  const test = t.qperfTest ?? (t.protocol === 'tcp' ? 'tcp_bw' : 'udp_bw');
  // The data socket: UDP can share the control port's number, TCP cannot.
  const dataPort = t.protocol === 'udp' ? run.port : run.port + 1;
  return {
    ns: run.ns,
    target: run.target,
    port: run.port,
    dataPort,
    seconds: run.seconds,
    tests: [test],
    msgSize: t.msgSize,
    cpus: run.cpus,
  };
}

/** qperf measures bandwidth and request/response latency per message size (kind qperf). */
export const qperf: Tool = {
  name: TOOL,
  kinds: ['qperf'],
  settleSeconds: 0,
  check,
  server: () => ({ port: SERVICE_PORT, protocol: 'tcp' }),
  startServer: (o) => startServer(o),
  serverCommand: (o) => ({ argv: serverArgv(o), comm: TOOL, protocol: 'tcp' }),
  clientArgv: (t, run) => clientArgv(clientOptions(t, run)),
  async measure(t, run) {
    const out = await runClient(clientOptions(t, run));
    return { argv: out.argv, raw: out.raw, figures: figures(out.result) };
  },
  parse,
  mainMetric: (t) =>
    t.qperfTest?.endsWith('_lat') ? { name: 'latencyUs', higherIsBetter: false } : { name: 'gbps', higherIsBetter: true },
  warmup: (t) => t,
  runSeconds: (_t, seconds) => seconds + 0.1,
};
