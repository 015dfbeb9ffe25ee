/**
 * iperf3 runner: tool check, a server lifecycle inside a namespace, a JSON client run and a pure
 * parser for iperf3 3.12's -J output.
 *
 * Facts about iperf3 3.12 this relies on (checked against real runs, see test/fixtures/iperf3):
 * - With -J a failed client (connection refused, server gone) still exits 0; the failure is the
 *   top-level "error" key, sometimes next to a partial "end" object. So the exit code is not
 *   trusted: the JSON decides.
 * - For UDP, end.sum carries the receiver's jitter/loss but the SENDER's bytes and bits_per_second;
 *   the receiver's throughput is in end.sum_received, which is used when present.
 */
import { spawn } from 'node:child_process';
import { parseIntervals } from './iperf3-intervals.js';
import { z } from 'zod';
import { reportInterval } from './iperf3-intervals.js';
import { RunError, InputError } from '../errors.js';
import { SERVICE_PORT } from '../lab/ports.js';
import type { TestSpec } from '../result/types.js';
import { inNetns } from '../util/exec.js';
import { executorOf } from '../util/executor.js';
import { tasksetPrefix } from './affinity.js';
import { checkTool } from './check.js';
import type { ClientRun, Failure, RunFigures, RunOutput, Server, Tool, ToolCheck } from './types.js';

export type Iperf3Parsed =
  | {
      ok: true;
      protocol: 'tcp' | 'udp';
      streams: number;
      seconds: number;
      /** Receiver side: TCP end.sum_received; UDP end.sum_received (falls back to end.sum). */
      bitsPerSecond: number;
      /** Bytes the receiver got. */
      bytes: number;
      /** TCP only: sender's retransmits (absent where the kernel does not report them). */
      retransmits?: number;
      jitterMs?: number;
      lostPackets?: number;
      packets?: number;
      lostPercent?: number;
      /** Percent of one CPU, as iperf3 reports it (host = client side). */
      cpu?: { localTotal: number; remoteTotal: number };
    }
  | Failure;

/** The server: SIGTERM, wait for exit, SIGKILL after 2 s. */
export type Iperf3Server = Server;

export interface ServerOptions {
  ns: string;
  port: number;
  /** Called synchronously right after spawn, before anything else happens. */
  onSpawn?: (pid: number) => void;
  readyTimeoutMs?: number;
  /** taskset CPU list the server runs on (argv prefix). */
  cpus?: string;
}

export interface ClientOptions {
  ns: string;
  target: string;
  port: number;
  seconds: number;
  protocol: 'tcp' | 'udp';
  streams?: number;
  /** UDP target bitrate, e.g. "1G"; without it iperf3 sends UDP at its default 1 Mbit/s. */
  udpRate?: string;
  /** Buffer / datagram length (-l). */
  length?: number;
  /** Kill the client after this long; default seconds*1000 + 15 s. */
  timeoutMs?: number;
  /** taskset CPU list the client runs on (argv prefix). */
  cpus?: string;
}

export const TOOL = 'iperf3';
const STOP_GRACE_MS = 2000;
const TAIL_CHARS = 4096;

/** Pure: "iperf 3.12 (cJSON 1.7.15)" → "3.12". */
export function parseVersion(text: string): string | undefined {
  return /^iperf (\d+\.\d+(?:\.\d+)?\S*)/m.exec(text)?.[1];
}

export function check(): Promise<ToolCheck> {
  return checkTool(TOOL, parseVersion);
}

function checkPort(port: number): void {
  if (!Number.isInteger(port) || port < 1 || port > 65535) throw new InputError(`invalid iperf3 port ${port}`);
}

/** Keeps only the last TAIL_CHARS characters of a stream: enough for an error message. */
function appendTail(acc: string, chunk: Buffer): string {
  const s = acc + chunk.toString();
  return s.length > TAIL_CHARS ? s.slice(-TAIL_CHARS) : s;
}

/** Pure: the server's command line (its control connection is TCP whatever the test's protocol). */
export function serverArgv(opts: Pick<ServerOptions, 'ns' | 'port' | 'cpus'>): string[] {
  checkPort(opts.port);
  const [file, args] = inNetns(opts.ns, TOOL, ['-s', '-p', String(opts.port), '--forceflush']);
  return [...tasksetPrefix(opts.cpus), file, ...args];
}

/**
 * Starts `iperf3 -s` in a namespace and resolves once it prints "Server listening on".
 * Rejects if it exits first (with its stderr) or is not ready in time (it is then killed).
 */
export async function startServer(opts: ServerOptions): Promise<Iperf3Server> {
  // async, but everything up to the first await (spawn and onSpawn) runs synchronously in the call.
  const timeoutMs = opts.readyTimeoutMs ?? 10_000;
  const argv = serverArgv(opts);
  const what = `iperf3 server in ${opts.ns} on port ${opts.port}`;
  const child = spawn(argv[0], argv.slice(1), { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  // Keep draining both pipes for the server's whole life: a full pipe would block iperf3.
  child.stdout.on('data', (b: Buffer) => (out = appendTail(out, b)));
  child.stderr.on('data', (b: Buffer) => (err = appendTail(err, b)));
  const exited = new Promise<void>((resolve) => {
    if (child.pid === undefined) child.once('error', () => resolve());
    child.once('exit', () => resolve());
  });
  if (child.pid !== undefined && opts.onSpawn) {
    try {
      opts.onSpawn(child.pid); // still synchronous with spawn: no event can have run yet
    } catch (e) {
      child.kill('SIGKILL'); // the caller could not record it: do not leave it behind
      await exited;
      throw e;
    }
  }
  const isRunning = () => child.pid !== undefined && child.exitCode === null && child.signalCode === null;

  let stopping: Promise<void> | undefined;
  const stop = (): Promise<void> => {
    stopping ??= (async () => {
      if (!isRunning()) return;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), STOP_GRACE_MS);
      await exited;
      clearTimeout(timer);
    })();
    return stopping;
  };

  return await new Promise<Iperf3Server>((resolve, reject) => {
    let settled = false;
    const finish = (e?: Error) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      child.stdout.off('data', onOut);
      if (e) reject(e);
      else resolve({ pid: child.pid!, stop });
    };
    const onOut = () => {
      if (out.includes('Server listening on')) finish();
    };
    const onExit = (code: number | null, signal: NodeJS.Signals | null) => {
      const why = (err || out).trim().replace(/\s*\n\s*/g, '; ') || 'no output';
      const hint = /Address already in use/.test(err) ? `is another server using port ${opts.port}?` : undefined;
      finish(new RunError(`${what} exited (${code ?? signal}) before it was ready: ${why}`, hint));
    };
    const onError = (e: Error) => finish(new RunError(`cannot start ${what}: ${e.message}`));
    const timer = setTimeout(() => {
      // Still running but silent: kill it, and report only once it is really gone. Output that
      // arrives meanwhile must not count as ready.
      child.stdout.off('data', onOut);
      child.off('exit', onExit);
      child.kill('SIGKILL');
      void exited.then(() => finish(new RunError(`${what} was not ready within ${timeoutMs} ms; killed it`)));
    }, timeoutMs);
    child.stdout.on('data', onOut);
    child.once('exit', onExit);
    child.once('error', onError);
  });
}

/** Pure: the full command line (starting with "ip", or "taskset" with cpus) for a client run. */
export function clientArgv(opts: ClientOptions): string[] {
  checkPort(opts.port);
  if (!Number.isInteger(opts.seconds) || opts.seconds < 1) throw new InputError(`invalid duration ${opts.seconds} s`);
  if (!opts.target || opts.target.startsWith('-')) throw new InputError(`invalid iperf3 target "${opts.target}"`);
  // -i: about ten intervals a run, kept as the run's time series (iperf3-intervals.ts).
  const args = ['-c', opts.target, '-p', String(opts.port), '-J', '-t', String(opts.seconds), '-i', String(reportInterval(opts.seconds))];
  if (opts.streams !== undefined) {
    if (!Number.isInteger(opts.streams) || opts.streams < 1 || opts.streams > 128) {
      throw new InputError(`invalid stream count ${opts.streams} (1-128)`);
    }
    args.push('-P', String(opts.streams));
  }
  if (opts.protocol === 'udp') {
    args.push('-u');
    if (opts.udpRate !== undefined) {
      if (!/^\d+(\.\d+)?[KMGT]?$/i.test(opts.udpRate)) throw new InputError(`invalid UDP rate "${opts.udpRate}"`);
      args.push('-b', opts.udpRate);
    }
  } else if (opts.udpRate !== undefined) {
    throw new InputError('udpRate applies only to UDP');
  }
  if (opts.length !== undefined) {
    if (!Number.isInteger(opts.length) || opts.length < 1) throw new InputError(`invalid length ${opts.length}`);
    args.push('-l', String(opts.length));
  }
  const [file, rest] = inNetns(opts.ns, TOOL, args);
  return [...tasksetPrefix(opts.cpus), file, ...rest];
}

/**
 * Runs one iperf3 client test. Never rejects for a failed test: that becomes { ok: false }.
 * Rejects (InputError) only for invalid options.
 */
export async function runClient(opts: ClientOptions): Promise<RunOutput<Iperf3Parsed>> {
  const argv = clientArgv(opts);
  const timeoutMs = opts.timeoutMs ?? opts.seconds * 1000 + 15_000;
  const started = Date.now();
  try {
    const res = await executorOf(opts.ns).run(argv, { timeoutMs });
    const result = parse(res.stdout);
    if (result.ok || res.stdout.trim() !== '') return { argv, raw: res.stdout, result };
    // No JSON at all: explain from the process itself.
    const timedOut = res.signal === 'SIGKILL' && Date.now() - started >= timeoutMs;
    const stderr = res.stderr.trim().replace(/\s*\n\s*/g, '; ');
    const error = timedOut
      ? `iperf3 client timed out after ${timeoutMs} ms`
      : `iperf3 client produced no output (${res.code ?? res.signal})${stderr ? `: ${stderr}` : ''}`;
    return { argv, raw: res.stdout, result: { ok: false, error } };
  } catch (e) {
    return { argv, raw: '', result: { ok: false, error: `cannot run iperf3: ${(e as Error).message}` } };
  }
}

// ---- pure parsing ----

const nonneg = z.number().nonnegative();
const Sum = z.object({ seconds: nonneg, bytes: nonneg, bits_per_second: nonneg });
const Cpu = z.object({ host_total: z.number(), remote_total: z.number() });
const Envelope = z.object({ error: z.string().optional() });
const Head = z.object({
  start: z.object({ test_start: z.object({ protocol: z.string(), num_streams: z.number().int().positive() }) }),
});
const TcpEnd = z.object({
  end: z.object({
    sum_sent: Sum.extend({ retransmits: z.number().int().nonnegative().optional() }),
    sum_received: Sum,
    cpu_utilization_percent: Cpu.optional(),
  }),
});
const UdpEnd = z.object({
  end: z.object({
    sum: Sum.extend({ jitter_ms: nonneg, lost_packets: z.number().int(), packets: nonneg, lost_percent: z.number() }),
    sum_received: Sum.optional(),
    cpu_utilization_percent: Cpu.optional(),
  }),
});

type Ok = Extract<Iperf3Parsed, { ok: true }>;
const fail = (error: string): Failure => ({ ok: false, error });
const received = (s: z.infer<typeof Sum>) => ({ seconds: s.seconds, bitsPerSecond: s.bits_per_second, bytes: s.bytes });

function shapeError(e: z.ZodError): Failure {
  const i = e.issues[0];
  return fail(`unexpected iperf3 JSON: ${i ? `${i.path.join('.') || '(root)'}: ${i.message}` : e.message}`);
}

/** Pure: iperf3 -J output → figures, or a failure with iperf3's own reason. Never throws. */
export function parse(raw: string): Iperf3Parsed {
  const text = raw.trim();
  if (text === '') return fail('iperf3 produced no output');
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch {
    return fail('iperf3 output was truncated or not JSON');
  }
  const env = Envelope.safeParse(doc);
  if (!env.success) return fail('iperf3 output was truncated or not JSON');
  if (env.data.error !== undefined) return fail(env.data.error);

  const head = Head.safeParse(doc);
  if (!head.success) return shapeError(head.error);
  const { protocol: proto, num_streams: streams } = head.data.start.test_start;

  let common: { protocol: 'tcp' | 'udp'; seconds: number; bitsPerSecond: number; bytes: number };
  let extra: Pick<Ok, 'retransmits' | 'jitterMs' | 'lostPackets' | 'packets' | 'lostPercent'>;
  let cpuRaw: z.infer<typeof Cpu> | undefined;
  if (proto === 'TCP') {
    const p = TcpEnd.safeParse(doc);
    if (!p.success) return shapeError(p.error);
    const { sum_sent: sent, sum_received: recv } = p.data.end;
    common = { protocol: 'tcp', ...received(recv) };
    extra = sent.retransmits !== undefined ? { retransmits: sent.retransmits } : {};
    cpuRaw = p.data.end.cpu_utilization_percent;
  } else if (proto === 'UDP') {
    const p = UdpEnd.safeParse(doc);
    if (!p.success) return shapeError(p.error);
    const { sum, sum_received: recv } = p.data.end;
    common = { protocol: 'udp', ...received(recv ?? sum) };
    extra = { jitterMs: sum.jitter_ms, lostPackets: sum.lost_packets, packets: sum.packets, lostPercent: sum.lost_percent };
    cpuRaw = p.data.end.cpu_utilization_percent;
  } else {
    return fail(`unsupported iperf3 protocol ${proto}`);
  }

  if (common.bytes === 0 || common.bitsPerSecond === 0) {
    return fail(`iperf3 ${common.protocol.toUpperCase()} test received no data (0 bytes)`);
  }
  const cpu = cpuRaw && { localTotal: cpuRaw.host_total, remoteTotal: cpuRaw.remote_total };
  return { ok: true, ...common, streams, ...extra, ...(cpu ? { cpu } : {}) };
}

// ---- the registry entry ----

/** Pure: iperf3's figures as the result file records them. */
export function figures(p: Iperf3Parsed, raw = ''): RunFigures | Failure {
  if (!p.ok) return p;
  const intervals = parseIntervals(raw);
  return {
    gbps: p.bitsPerSecond / 1e9,
    bytes: p.bytes,
    retransmits: p.retransmits,
    lossPercent: p.lostPercent,
    jitterMs: p.jitterMs,
    ...(intervals.length ? { intervals } : {}),
  };
}

function clientOptions(t: TestSpec, run: ClientRun): ClientOptions {
  const udpRate = t.protocol === 'udp' ? t.udpRate : undefined;
  return {
    ns: run.ns,
    target: run.target,
    port: run.port,
    seconds: run.seconds,
    protocol: t.protocol,
    streams: t.streams,
    udpRate,
    length: t.length,
    cpus: run.cpus,
  };
}

/** iperf3 measures throughput (kind iperf3) and, offered rate by rate, the UDP rate search. */
export const iperf3: Tool = {
  name: TOOL,
  kinds: ['iperf3', 'udp-rate-sweep'],
  settleSeconds: 0,
  check,
  server: () => ({ port: SERVICE_PORT, protocol: 'tcp' }),
  startServer: (o) => startServer(o),
  serverCommand: (o) => ({ argv: serverArgv(o), comm: TOOL, protocol: 'tcp' }),
  clientArgv: (t, run) => clientArgv(clientOptions(t, run)),
  async measure(t, run) {
    const out = await runClient(clientOptions(t, run));
    return { argv: out.argv, raw: out.raw, figures: figures(out.result, out.raw) };
  },
  parse,
  mainMetric: (t) => (t.kind === 'udp-rate-sweep' ? { name: 'maxRateMbps', higherIsBetter: true } : { name: 'gbps', higherIsBetter: true }),
  // A rate search warms up at its start rate.
  warmup: (t) => (t.kind === 'udp-rate-sweep' ? { ...t, kind: 'iperf3', udpRate: `${t.startMbps ?? 100}M` } : t),
  runSeconds: (t, seconds) => (t.kind === 'udp-rate-sweep' ? 8 * seconds : seconds + 0.1),
};
