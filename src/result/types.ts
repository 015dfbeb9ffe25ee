import type { EncapCounters } from '../encap/counters.js';
import type { Topology } from '../lab/types.js';
import type { CpuUse } from '../measure/cpu.js';
import type { Comparison, RatioSummary, Summary } from '../measure/stats.js';
import type { Plan } from '../plan/types.js';
import type { Workload } from '../schemes/types.js';

/**
 * The result file: everything needed to redo the report — environment, topology, each scheme's
 * plan, every raw tool output and every derived figure. Versioned and self-describing (flent).
 */
export const RESULT_FORMAT = 'cnlab-result';
export const RESULT_VERSION = 1;

export type Placement = 'cross' | 'same';

/**
 * What a test runs. Fields after `udpRate` were added after version 1 and are optional; a test
 * without `kind` is an iperf3 test, as every version-1 test is.
 */
export type TestKind = 'iperf3' | 'qperf' | 'sockperf' | 'udp-rate-sweep';

export interface TestSpec {
  /** e.g. "tcp-1/cross": "<name>/<placement>", the name free of "/". */
  id: string;
  protocol: 'tcp' | 'udp';
  /** iperf3 parallel streams (-P); 1 for the other tools. */
  streams: number;
  placement: Placement;
  /** UDP target rate, iperf3 -b form ("1G"). */
  udpRate?: string;
  /** Absent: 'iperf3'. */
  kind?: TestKind;
  /** iperf3 buffer / UDP datagram length (-l), bytes. */
  length?: number;
  /** qperf test (kind 'qperf'). */
  qperfTest?: 'tcp_bw' | 'tcp_lat' | 'udp_bw' | 'udp_lat';
  /** Message size, bytes: qperf -m, sockperf -m. */
  msgSize?: number;
  /**
   * kind 'sockperf': measured while an iperf3 TCP bulk flow with this many streams runs on the
   * same path (same client and server namespaces), RRUL-style latency under load.
   */
  underLoad?: { streams: number };
  /** kind 'udp-rate-sweep': the loss that ends the search, percent (default 1). */
  lossLimitPercent?: number;
  /** kind 'udp-rate-sweep': the first offered rate, Mbit/s (then doubling, then bisecting). */
  startMbps?: number;
  /** Seconds per run when this test differs from options.seconds. */
  seconds?: number;
  /** Pinning for this test when it differs from options.knobs.pin (S4: pinned and unpinned). */
  pin?: boolean;
  /**
   * This test is one point of a series, e.g. { series: 'qperf tcp_bw', param: 'msgSize', value: 64 }:
   * reports draw the tests of one series as a curve over `param`.
   */
  sweep?: { series: string; param: 'msgSize' | 'streams' | 'length'; value: number };
}

/** Round-trip latency percentiles of one run (sockperf --full-rtt), microseconds. */
export interface LatencyFigures {
  p50Us: number;
  p90Us: number;
  p99Us: number;
  p999Us: number;
  maxUs: number;
  meanUs: number;
  /** Round trips measured. */
  observations: number;
}

/** One offered rate of a UDP rate search. */
export interface RatePoint {
  /** Offered rate, Mbit/s (iperf3 -b). */
  offeredMbps: number;
  ok: boolean;
  error?: string;
  /** Received, Gbit/s. */
  gbps?: number;
  lossPercent?: number;
  jitterMs?: number;
  argv: string[];
  raw: string;
}

export interface RunRecord {
  repeat: number;
  startedAt: string;
  ok: boolean;
  error?: string;
  argv: string[];
  /** The tool's raw output, verbatim. */
  raw: string;
  gbps?: number;
  bytes?: number;
  retransmits?: number;
  lossPercent?: number;
  jitterMs?: number;
  /** System-wide CPU-seconds over the test, from /proc/stat. */
  cpu?: CpuUse;
  cpuSecondsPerGbit?: number;
  // ---- optional, after version 1 ----
  /** sockperf: round-trip percentiles, microseconds. */
  latency?: LatencyFigures;
  /** qperf _lat tests: qperf's latency (half the round trip), microseconds. */
  latencyUs?: number;
  /** Request/response round trips completed in the CPU window (latency tests). */
  transactions?: number;
  /** busy CPU-seconds / (transactions / 1000). */
  cpuSecondsPer1kTransactions?: number;
  /** qperf udp_bw: the sender's rate, Gbit/s (gbps is the receiver's). */
  sendGbps?: number;
  /** Latency under load: the iperf3 bulk flow that ran meanwhile. */
  load?: { ok: boolean; error?: string; gbps?: number; argv: string[]; raw: string };
  /** UDP rate search: every offered rate tried, in order. */
  ratePoints?: RatePoint[];
  /** UDP rate search: the highest offered rate with loss under the limit, Mbit/s. */
  maxRateMbps?: number;
  /**
   * CPU lists of the benchmark processes: server, its Cpus_allowed_list read from /proc while it
   * ran; client, the list its taskset prefix asked for. Absent: not confined (all CPUs).
   */
  affinity?: { client?: string; server?: string };
  /** This run's main figure lies far from the others (modified z-score > 3.5; see methods). */
  outlier?: boolean;
}

export interface TestRecord extends TestSpec {
  client: { node: string; ns: string };
  server: { node: string; ns: string };
  /** The address the client dialled. */
  target: string;
  runs: RunRecord[];
  summary?: {
    gbps: Summary;
    cpuSecondsPerGbit?: Summary;
    lossPercent?: Summary;
    jitterMs?: Summary;
  };
  /** This test's throughput as a ratio to the host baseline's same test in the same run. */
  vsHost?: RatioSummary;
  // ---- optional, after version 1 ----
  /** Latency tests (no throughput `summary`): medians etc. over the repeats, microseconds. */
  latencySummary?: {
    p50Us?: Summary;
    p90Us?: Summary;
    p99Us?: Summary;
    p999Us?: Summary;
    maxUs?: Summary;
    /** qperf _lat: half the round trip. */
    latencyUs?: Summary;
    cpuSecondsPer1kTransactions?: Summary;
    /** Latency under load: the bulk flow's throughput, Gbit/s. */
    loadGbps?: Summary;
  };
  /** UDP rate search: the highest rate with loss under the limit, over the repeats, Mbit/s. */
  rateSummary?: { maxRateMbps: Summary };
  /** Repeat numbers whose main figure is an outlier (flagged, still counted). */
  outlierRepeats?: number[];
  /** The main figure against the host's same test: difference, its 95% CI, significance. */
  vsHostDiff?: Comparison;
  /** Unrecorded warm-up run before the repeats: its length and whether it worked. */
  warmup?: { seconds: number; ok: boolean; error?: string };
}

export interface InterfaceInfo {
  node: string;
  ns: string;
  ifName: string;
  mtu: number;
  /** ethtool -k features that matter for throughput: on/off. */
  offloads: Record<string, string>;
}

export interface SchemeRecord {
  name: string;
  status: 'ok' | 'unsupported' | 'failed';
  reason?: string;
  summary: string;
  attach: 'cni' | 'direct' | 'none';
  notes: string[];
  overhead: number;
  mtu?: number;
  plan?: Plan;
  workloads?: Workload[];
  interfaces?: InterfaceInfo[];
  buildSeconds?: number;
  teardownSeconds?: number;
  tests: TestRecord[];
  /** Counters of cnlab's encapsulation daemons (userspace schemes), by host, read after the tests. */
  encapCounters?: Record<string, EncapCounters>;
  /**
   * Schemes with a control plane: whether it ran ('real': its daemons, e.g. BIRD, etcd) or the
   * plan wrote its routes ('static'); what it was, and each daemon's version.
   */
  controlPlane?: { mode: 'static' | 'real'; label?: string; versions?: string[] };
}

export interface Environment {
  kernel: string;
  cpuModel: string;
  cpus: number;
  node: string;
  tools: Record<string, string>;
  /** How CPU figures were taken. */
  cpuMethod: string;
  /** How every other figure was taken (latency, statistics, outliers, warm-up, knobs), by name. */
  methods?: Record<string, string>;
}

/** Environment knobs of a run: each really applied, and shown in the table header. */
export interface RunKnobs {
  /** CPU list every lab process was confined to (taskset / sched affinity); absent: all CPUs. */
  cpus?: string;
  /** Benchmark processes each on their own core (client, server), or free to migrate. */
  pin: boolean;
  /** ethtool -K tso/gso/gro/tx/rx on underlay, tunnel and workload devices; absent: untouched. */
  offloads?: 'on' | 'off';
  /** Underlay MTU, bytes (scheme MTUs derive from it). */
  mtu: number;
  /** tbf rate on every underlay port, e.g. "1gbit"; absent: unlimited. */
  linkRate?: string;
}

export interface ResultFile {
  format: typeof RESULT_FORMAT;
  version: typeof RESULT_VERSION;
  cnlab: { version: string; argv: string[] };
  createdAt: string;
  updatedAt: string;
  /** False while the run is in progress or if it was cut short. */
  complete: boolean;
  environment: Environment;
  topology: Topology;
  options: {
    repeats: number;
    seconds: number;
    udpRate: string;
    tests: TestSpec[];
    // ---- optional, after version 1 ----
    /** Seconds of the unrecorded warm-up run before each test's repeats; 0: none. */
    warmupSeconds?: number;
    knobs?: RunKnobs;
    /** The preset that chose schemes, tests and knobs. */
    preset?: string;
    /** --full: every test kind. */
    full?: boolean;
    /** Per scheme, when a preset limits where it is measured (e.g. S4: docker-bridge same-host only). */
    placements?: Record<string, Placement[]>;
  };
  schemes: SchemeRecord[];
  /** Every pair of measured schemes, per test: difference of the main figure and its significance. */
  comparisons?: Comparison[];
}
