import type { RunRecord, TestKind, TestMetric, TestSpec } from '../result/types.js';

/**
 * The contract every measurement tool follows (after flent's runners). A tool file exports one
 * `Tool` and the registry (registry.ts) lists it: check() says whether it can run here, its server
 * starts in a namespace and says when it is ready, measure() runs one client and never rejects
 * for a failed test, and parse() is a pure function from the tool's raw output to its figures.
 */

/** Whether a tool is usable on this machine. */
export interface ToolCheck {
  ok: boolean;
  tool: string;
  /** e.g. "3.12" */
  version?: string;
  /** Why it is not usable and what to do, e.g. "unsupported here: needs iperf3 (apt-get install iperf3)". */
  reason?: string;
}

/** A measurement that did not produce a figure, with the reason in one line. */
export interface Failure {
  ok: false;
  error: string;
}

/** What a client run returns: the exact command line, the tool's raw output and the parsed result. */
export interface RunOutput<Parsed> {
  argv: string[];
  raw: string;
  result: Parsed;
}

/** A benchmark server running in a namespace, recorded by pid. */
export interface Server {
  pid: number;
  /** Stops it (SIGTERM, SIGKILL after a grace period). Idempotent. */
  stop(): Promise<void>;
}

/** Where a server of a test runs. */
export interface ServerStart {
  ns: string;
  /** The server workload's own address (tools that must bind one use it). */
  ip: string;
  port: number;
  protocol: 'tcp' | 'udp';
  /** taskset CPU list (argv prefix). */
  cpus?: string;
  /** Called synchronously right after spawn, so the caller can record the pid first. */
  onSpawn?: (pid: number) => void;
  readyTimeoutMs?: number;
}

/** One client run of a test: from where, to what, for how long. */
export interface ClientRun {
  ns: string;
  target: string;
  /** The port the test's server listens on (Tool.server). */
  port: number;
  /** Whole seconds. */
  seconds: number;
  cpus?: string;
}

/**
 * A run's figures as the result file records them. The CPU figures are not the tool's: the caller
 * measures the CPU window and derives per-Gbit (from `bytes`) and per-transaction (from
 * `transactions`) costs.
 */
export type RunFigures = Pick<
  RunRecord,
  'gbps' | 'bytes' | 'retransmits' | 'lossPercent' | 'jitterMs' | 'latency' | 'latencyUs' | 'transactions' | 'sendGbps' | 'intervals'
>;

/** measure()'s answer: the command line, the raw output, and the figures or why there are none. */
export interface Measured {
  argv: string[];
  raw: string;
  figures: RunFigures | Failure;
}

export interface Tool {
  /** The program's name, also its key in the registry. */
  readonly name: string;
  /** The test kinds this tool measures: a test names its tool through its kind. */
  readonly kinds: readonly TestKind[];
  /** Seconds a client run spends before its measured part starts (a load must cover them too). */
  readonly settleSeconds: number;
  /** Installed? Which version? Never rejects. */
  check(): Promise<ToolCheck>;
  /** Pure: the server a test needs: its port (the service port or one of the two after it) and socket. */
  server(t: Pick<TestSpec, 'protocol'>): { port: number; protocol: 'tcp' | 'udp' };
  /** Starts the server and resolves once it is ready; rejects with the tool's reason. */
  startServer(o: ServerStart): Promise<Server>;
  /** Pure: the server's command line, its /proc comm and socket (runners/remote-server.ts starts it on another machine). */
  serverCommand(o: ServerStart): { argv: string[]; comm: string; protocol: 'tcp' | 'udp' };
  /** Pure: the client's full command line for one run of a test. */
  clientArgv(t: TestSpec, run: ClientRun): string[];
  /** One client run. Never rejects for a failed test (that is a Failure); InputError for bad options. */
  measure(t: TestSpec, run: ClientRun): Promise<Measured>;
  /** Pure: the tool's raw client output → its parsed result (never throws). */
  parse(raw: string): { ok: true } | Failure;
  /** Pure: the figure a test of this tool is judged by, and which way is better. */
  mainMetric(t: TestSpec): TestMetric;
  /** Pure: what the unrecorded warm-up runs before a test (undefined: the tool warms up by itself). */
  warmup<T extends TestSpec>(t: T): T | undefined;
  /** Pure: rough wall time of one run of `seconds`, for the "about N minutes" line. */
  runSeconds(t: TestSpec, seconds: number): number;
}
