/**
 * sockperf runner (3.7): ping-pong latency percentiles over TCP or UDP. Tool check, server, one
 * client run and a pure parser of the client's text summary (printed with --full-rtt, so every
 * figure is a whole round trip in microseconds).
 *
 * Facts about sockperf 3.7 this relies on (checked against real runs, see test/fixtures/sockperf):
 * - The client exits 0 on "Can`t connect socket (errno=111 Connection refused)" and when no reply
 *   came back ("No messages were received from the server. Is the server down?"): the text
 *   decides, not the exit code. A server killed mid-test over TCP ends the client with
 *   "ERROR: A connection was forcibly closed by a peer" (exit 7).
 * - Lines carry ANSI colour codes even into a pipe.
 * - Without --uc-reuseaddr the server cannot bind a port that still has TIME-WAIT connections.
 * - The summary counts only the "valid duration" (the run minus its warm-up); the [Total Run]
 *   line counts every round trip of the whole run, which is what CPU-per-transaction divides by.
 */
import { InputError } from '../errors.js';
import { SERVICE_PORT } from '../lab/ports.js';
import type { TestSpec } from '../result/types.js';
import { inNetns } from '../util/exec.js';
import { executorOf } from '../util/executor.js';
import { tasksetPrefix } from './affinity.js';
import { checkTool } from './check.js';
import { startServer as startBackground, type Server } from './server.js';
import type { ClientRun, Failure, RunFigures, RunOutput, ServerStart, Tool, ToolCheck } from './types.js';

export const TOOL = 'sockperf';

export interface SockperfOk {
  ok: true;
  protocol: 'tcp' | 'udp';
  /** Round-trip percentiles and extremes, microseconds. */
  p50Us: number;
  p90Us: number;
  p99Us: number;
  p999Us: number;
  maxUs: number;
  minUs: number;
  meanUs: number;
  stddevUs: number;
  /** Round trips in the valid (measured) part of the run. */
  observations: number;
  validSeconds: number;
  /** The whole run (warm-up included): seconds and replies received. */
  totalSeconds: number;
  totalReceived: number;
  dropped: number;
}

export type SockperfParsed = SockperfOk | Failure;

export interface SockperfClientOptions {
  ns: string;
  target: string;
  port: number;
  protocol: 'tcp' | 'udp';
  /** Whole seconds. */
  seconds: number;
  /** Message size in bytes (sockperf's minimum is 14). */
  msgSize?: number;
  cpus?: string;
  timeoutMs?: number;
}

/** sockperf's server binds the workload's own address: the registry's ServerStart has it. */
export type SockperfServerOptions = ServerStart;

/** Pure: "sockperf, version 3.7-no.git" → "3.7-no.git". */
export function parseVersion(text: string): string | undefined {
  return /sockperf, version (\S+)/.exec(text)?.[1];
}

export function check(): Promise<ToolCheck> {
  return checkTool(TOOL, parseVersion);
}

function checkPort(port: number): void {
  if (!Number.isInteger(port) || port < 1 || port > 65535) throw new InputError(`invalid sockperf port ${port}`);
}

function checkIp(ip: string): void {
  if (!/^\d{1,3}(\.\d{1,3}){3}$/.test(ip)) throw new InputError(`invalid sockperf address "${ip}"`);
}

/** Pure: the full command line of a ping-pong client run. */
export function clientArgv(o: SockperfClientOptions): string[] {
  checkPort(o.port);
  checkIp(o.target);
  if (!Number.isInteger(o.seconds) || o.seconds < 1) throw new InputError(`invalid sockperf duration ${o.seconds} s (whole seconds)`);
  const args = [
    'ping-pong',
    ...(o.protocol === 'tcp' ? ['--tcp'] : []),
    '-i',
    o.target,
    '-p',
    String(o.port),
    '-t',
    String(o.seconds),
    '--full-rtt',
  ];
  if (o.msgSize !== undefined) {
    if (!Number.isInteger(o.msgSize) || o.msgSize < 14 || o.msgSize > 65000)
      throw new InputError(`invalid sockperf message size ${o.msgSize} (14-65000)`);
    args.push('-m', String(o.msgSize));
  }
  const [file, rest] = inNetns(o.ns, TOOL, args);
  return [...tasksetPrefix(o.cpus), file, ...rest];
}

export function serverArgv(o: Pick<SockperfServerOptions, 'ns' | 'ip' | 'port' | 'protocol' | 'cpus'>): string[] {
  checkPort(o.port);
  checkIp(o.ip);
  // --uc-reuseaddr: the port may still have TIME-WAIT connections of the tool that used it before.
  const [file, rest] = inNetns(o.ns, TOOL, [
    'server',
    ...(o.protocol === 'tcp' ? ['--tcp'] : []),
    '-i',
    o.ip,
    '-p',
    String(o.port),
    '--uc-reuseaddr',
  ]);
  return [...tasksetPrefix(o.cpus), file, ...rest];
}

export function startServer(o: SockperfServerOptions): Promise<Server> {
  return startBackground({
    argv: serverArgv(o),
    comm: TOOL,
    protocol: o.protocol,
    port: o.port,
    what: `sockperf ${o.protocol.toUpperCase()} server in ${o.ns} on port ${o.port}`,
    onSpawn: o.onSpawn,
    readyTimeoutMs: o.readyTimeoutMs,
  });
}

/** Runs one ping-pong client. Never rejects for a failed test; InputError for bad options only. */
export async function runClient(o: SockperfClientOptions): Promise<RunOutput<SockperfParsed>> {
  const argv = clientArgv(o);
  const timeoutMs = o.timeoutMs ?? o.seconds * 1000 + 15_000;
  const started = Date.now();
  try {
    const res = await executorOf(o.ns).run(argv, { timeoutMs });
    const raw = res.stdout + res.stderr;
    let result = parse(raw, o.protocol);
    if (!result.ok && res.signal === 'SIGKILL' && Date.now() - started >= timeoutMs)
      result = { ok: false, error: `sockperf client timed out after ${timeoutMs} ms (${result.error})` };
    return { argv, raw, result };
  } catch (e) {
    return { argv, raw: '', result: { ok: false, error: `cannot run sockperf: ${(e as Error).message}` } };
  }
}

// ---- pure parsing ----

const fail = (error: string): Failure => ({ ok: false, error });
// eslint-disable-next-line no-control-regex
const ANSI = /\x1b\[[0-9;]*m/g;
const num = (text: string, re: RegExp): number | undefined => {
  const m = re.exec(text);
  return m ? Number(m[1]) : undefined;
};

/**
 * Pure: sockperf ping-pong client output (stdout and stderr) → round-trip percentiles, or a
 * failure with sockperf's own reason. `protocol` labels the result. Never throws.
 */
export function parse(raw: string, protocol: 'tcp' | 'udp' = 'udp'): SockperfParsed {
  const text = raw.replace(ANSI, '').replace(/\r/g, '');
  if (!text.trim()) return fail('sockperf produced no output');
  const error = /ERROR:\s*(.+)/.exec(text)?.[1]?.trim();
  if (error) return fail(error);
  if (/No messages were received/.test(text)) return fail('no replies: no messages were received from the server');
  const pct = (p: string) => num(text, new RegExp(`percentile ${p.replace('.', '\\.')} =\\s*([\\d.]+)`));
  const figures = {
    p50Us: pct('50.000'),
    p90Us: pct('90.000'),
    p99Us: pct('99.000'),
    p999Us: pct('99.900'),
    maxUs: num(text, /<MAX> observation =\s*([\d.]+)/),
    minUs: num(text, /<MIN> observation =\s*([\d.]+)/),
    meanUs: num(text, /avg-rtt=([\d.]+)/),
    stddevUs: num(text, /avg-rtt=[\d.]+ \(std-dev=([\d.]+)\)/),
    observations: num(text, /Total (\d+) observations/),
    validSeconds: num(text, /\[Valid Duration\] RunTime=([\d.]+)/),
    totalSeconds: num(text, /\[Total Run\] RunTime=([\d.]+)/),
    totalReceived: num(text, /\[Total Run\].*ReceivedMessages=(\d+)/),
    dropped: num(text, /# dropped messages = (\d+)/),
  };
  const missing = Object.entries(figures)
    .filter(([, v]) => v === undefined)
    .map(([k]) => k);
  if (missing.length) {
    return fail(
      /Starting test|Warmup stage/.test(text) && !/Test ended/.test(text)
        ? 'sockperf output was truncated (the client stopped before its summary)'
        : `sockperf output was truncated (no ${missing[0]})`,
    );
  }
  const f = figures as { [K in keyof typeof figures]: number };
  if (f.observations === 0) return fail('sockperf measured no round trip');
  return { ok: true, protocol, ...f };
}

// ---- the registry entry ----

/** Pure: sockperf's figures as the result file records them. */
export function figures(p: SockperfParsed): RunFigures | Failure {
  if (!p.ok) return p;
  return {
    latency: {
      p50Us: p.p50Us,
      p90Us: p.p90Us,
      p99Us: p.p99Us,
      p999Us: p.p999Us,
      maxUs: p.maxUs,
      meanUs: p.meanUs,
      observations: p.observations,
    },
    lossPercent: p.dropped > 0 && p.observations > 0 ? (p.dropped / (p.dropped + p.observations)) * 100 : undefined,
    transactions: p.totalReceived,
  };
}

function clientOptions(t: TestSpec, run: ClientRun): SockperfClientOptions {
  return { ns: run.ns, target: run.target, port: run.port, protocol: t.protocol, seconds: run.seconds, msgSize: t.msgSize, cpus: run.cpus };
}

/** sockperf measures round-trip latency percentiles (kind sockperf), alone or under load. */
export const sockperf: Tool = {
  name: TOOL,
  kinds: ['sockperf'],
  // sockperf sends warm-up messages and pauses 2 s (hard-coded) before it measures.
  settleSeconds: 3,
  check,
  // Over TCP a port of its own: iperf3's TIME_WAIT sockets on the service port would make its bind
  // fail ("Address already in use") right after a TCP test. UDP shares the service port's number.
  server: (t) => ({ port: t.protocol === 'tcp' ? SERVICE_PORT + 2 : SERVICE_PORT, protocol: t.protocol }),
  startServer: (o) => startServer(o),
  serverCommand: (o) => ({ argv: serverArgv(o), comm: TOOL, protocol: o.protocol }),
  clientArgv: (t, run) => clientArgv(clientOptions(t, run)),
  async measure(t, run) {
    const out = await runClient(clientOptions(t, run));
    return { argv: out.argv, raw: out.raw, figures: figures(out.result) };
  },
  parse: (raw) => parse(raw),
  mainMetric: () => ({ name: 'p50Us', higherIsBetter: false }),
  // sockperf warms up by itself in every run: dummy messages, then a 2 s pause before it measures.
  warmup: () => undefined,
  runSeconds: (t, seconds) => (t.underLoad ? seconds + 5 : seconds + 2.2),
};
