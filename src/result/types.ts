import type { EncapCounters } from '../encap/counters.js';
import type { Topology } from '../lab/types.js';
import type { CpuUse } from '../measure/cpu.js';
import type { RatioSummary, Summary } from '../measure/stats.js';
import type { Plan } from '../plan/types.js';
import type { Workload } from '../schemes/types.js';

/**
 * The result file: everything needed to redo the report — environment, topology, each scheme's
 * plan, every raw tool output and every derived figure. Versioned and self-describing (flent).
 */
export const RESULT_FORMAT = 'cnlab-result';
export const RESULT_VERSION = 1;

export type Placement = 'cross' | 'same';

export interface TestSpec {
  /** e.g. "tcp-1/cross" */
  id: string;
  protocol: 'tcp' | 'udp';
  streams: number;
  placement: Placement;
  /** UDP target rate, iperf3 -b form ("1G"). */
  udpRate?: string;
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
}

export interface Environment {
  kernel: string;
  cpuModel: string;
  cpus: number;
  node: string;
  tools: Record<string, string>;
  /** How CPU figures were taken. */
  cpuMethod: string;
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
  options: { repeats: number; seconds: number; udpRate: string; tests: TestSpec[] };
  schemes: SchemeRecord[];
}
