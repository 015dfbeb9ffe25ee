import type { Topology, Workload } from '../lab/types.js';
// The result file keeps each scheme's plan verbatim: the plan's typed steps are pure data declared
// by the plan layer (below this one), the same vocabulary the report reads.
import type { Plan } from '../plan/types.js';
import type { Comparison, RatioSummary, Summary } from '../stats/stats.js';
import type { StandIn } from '../plan/types.js';
import type { ConvergenceRecord } from './convergence.js';
import type { DoctorRecord } from './doctor.js';
import type { VerifySection } from './verify.js';
import type { ClusterInfo } from './cluster.js';
import type { HostsSection } from './hosts.js';
import type { CpuUse, EncapCounters } from './producers.js';

export type { CpuUse, EncapCounters } from './producers.js';

/** One point of a run's time series (iperf3 -i intervals; runners/iperf3-intervals.ts parses them). */
export interface IntervalPoint {
  /** Seconds since the test started, at the interval's end. */
  t: number;
  gbps: number;
  /** TCP: segments retransmitted in the interval (all streams). */
  retransmits?: number;
  /** TCP: congestion window at the interval's end, bytes (all streams). */
  cwndBytes?: number;
  /** TCP: smoothed round-trip time, µs (mean over streams). */
  rttUs?: number;
  /** UDP: datagrams sent in the interval. */
  packets?: number;
}

/**
 * The result file: everything needed to redo the report — environment, topology, each scheme's
 * plan, every raw tool output and every derived figure. Versioned and self-describing (flent).
 */
export const RESULT_FORMAT = 'cnlab-result';
/**
 * Version 2: plan steps are typed objects (plan/types.ts), no longer argv; Summary.medianCi and
 * medianCiCoverage (the median's own interval); summary.retransmits (TCP) and summary.sentGbps
 * (UDP); comparisons[].pHolm/significantHolm; outlier flags only from 5 runs; runs above the
 * emulated link rate are failed runs. A version-1 file's plans are upgraded and its figures are
 * derived again from its raw runs when it is read (read.ts).
 */
export const RESULT_VERSION = 2;

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

/** The figures a test can be judged by: fields of RunRecord (maxRateMbps, gbps) or its latency. */
export type MetricName = 'gbps' | 'p50Us' | 'latencyUs' | 'maxRateMbps';

/** A test's main figure and which way is better; the tool that measures the test chooses it. */
export interface TestMetric {
  name: MetricName;
  higherIsBetter: boolean;
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
  /** iperf3: the run's time series, one point per report interval (-i), parsed from `raw`. */
  intervals?: IntervalPoint[];
}

export interface TestRecord extends TestSpec {
  client: { node: string; ns: string };
  server: { node: string; ns: string };
  /** The address the client dialled. */
  target: string;
  runs: RunRecord[];
  /**
   * The figure outliers, ratios and comparisons use, as the test's tool named it when the test
   * was run (optional: files written before it was recorded get the rule of their time).
   */
  metric?: TestMetric;
  summary?: {
    gbps: Summary;
    cpuSecondsPerGbit?: Summary;
    lossPercent?: Summary;
    jitterMs?: Summary;
    /** TCP: the sender's retransmitted segments per run (iperf3 end.sum_sent.retransmits). Version 2. */
    retransmits?: Summary;
    /** UDP: the sender's rate per run, Gbit/s (gbps is the receiver's). Version 2. */
    sentGbps?: Summary;
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
  /** BPF datapath schemes: packets per verdict of each program over this test (warm-up included). */
  bpfCounters?: BpfCounters;
}

/** What a BPF program did with a packet (bpf/cilium.c `enum verdict`). */
export const BPF_VERDICTS = ['peer', 'fib', 'neigh', 'tunnel', 'pass', 'drop'] as const;
export type BpfVerdict = (typeof BPF_VERDICTS)[number];
/** The verdicts that bypass the host's IP stack. */
export const BPF_REDIRECTS: readonly BpfVerdict[] = ['peer', 'fib', 'neigh', 'tunnel'];

export interface BpfCounters {
  /** The datapath's configured mode: `legacy` hands every packet to the host stack by design. */
  mode: 'redirect' | 'legacy' | 'tunnel' | 'unknown';
  /** host node → program (from-container, from-netdev) → packets per verdict. */
  hosts: Record<string, Record<string, Record<BpfVerdict, number>>>;
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
  /** Optional, after version 1: what stands in for the product (declared by the scheme or its build). */
  standIn?: StandIn;
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
  /** `cnlab doctor` on the lab before teardown, when a test failed (result/doctor.ts). */
  doctor?: DoctorRecord;
  /**
   * Schemes with a control plane: whether it ran ('real': its daemons, e.g. BIRD, etcd) or the
   * plan wrote its routes ('static'); what it was, and each daemon's version.
   */
  controlPlane?: { mode: 'static' | 'real'; label?: string; versions?: string[] };
  /** `--tests converge`: how fast the control plane converges (result/convergence.ts). */
  convergence?: ConvergenceRecord;
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
  /** `cnlab verify`: the measured feature matrix (result/verify.ts). */
  verify?: VerifySection;
  /** cnlab k8s run: the cluster whose installed CNI was measured (result/cluster.ts). */
  cluster?: ClusterInfo;
  /** cnlab run -i: the user's own hosts the lab ran on (result/hosts.ts). */
  hosts?: HostsSection;
}
