import { cpus, release } from 'node:os';
import { checkTool } from '../runners/check.js';
import { TOOLS } from '../runners/registry.js';
import { ALPHA, BOOTSTRAP_ITERATIONS, BOOTSTRAP_MIN, OUTLIER_Z } from '../stats/stats.js';
import type { Environment, InterfaceInfo } from '../result/types.js';
import type { Workload } from '../lab/types.js';
import { execArgs } from '../util/exec.js';
import { runIn, type Executor } from '../util/executor.js';

/** Run metadata: kernel, CPU, tool versions; per-interface MTU and offloads. */

async function firstLine(file: string, args: string[]): Promise<string> {
  try {
    const r = await execArgs(file, args);
    return (r.stdout || r.stderr).trim().split('\n')[0] ?? 'unknown';
  } catch {
    return 'not installed';
  }
}

/** Pure: the version number in a `--version` output (BIRD: "BIRD version 2.0.12"; etcd: "etcd Version: 3.4.23"). */
const versionNumber = (text: string): string | undefined => /\bversion:?\s+v?(\d+\.\d+(?:\.\d+)?\S*)/i.exec(text)?.[1];

/** Pure: "bird 2.0.12" from a control-plane program's `--version` output, or null. */
export function parseVersion(name: string, output: string): string | null {
  const v = versionNumber(output);
  return v ? `${name} ${v}` : null;
}

/** "bird 2.0.12", or "bird (version unknown)": read the way every tool check reads its version (on `ex`'s machine). */
export async function daemonVersion(name: string, ex?: Executor): Promise<string> {
  const c = await checkTool(name, versionNumber, name, ex);
  return c.ok ? `${name} ${c.version}` : `${name} (version unknown)`;
}

export const CPU_METHOD =
  'system-wide /proc/stat deltas over each client run: busy = user + nice + system + irq + softirq (steal excluded), in CPU-seconds (USER_HZ 100), split into user/system/softirq/irq; per Gbit = busy / (received bytes × 8 / 1e9); per 1,000 transactions = busy / (round trips completed in the window / 1000)';

/** How every other figure is taken; written into the result file (environment.methods). */
export const METHODS: Record<string, string> = {
  throughput:
    "iperf3 -J: the receiver's bytes and bits/s (TCP end.sum_received; UDP end.sum_received); UDP loss and jitter as the receiver reports them",
  qperf:
    "qperf -uu -ub -vv, one client invocation per message size (the sizes of -oo msg_size:FIRST:LAST:*2), so each size has its own CPU window; _bw: receiver bits/s (udp_bw: recv_bw, loss = 1 − recv/send); _lat: qperf's latency = half the round trip; transactions = loc_recv_msgs",
  latency:
    'sockperf ping-pong --full-rtt: round-trip percentiles p50/p90/p99/p99.9 and max over the valid part of the run (sockperf drops its own warm-up); transactions = replies received over the whole run',
  latencyUnderLoad:
    'the same sockperf probe while an iperf3 TCP bulk flow runs between the same two namespaces; the bulk flow starts 1 s before the probe and runs until 1 s after the measured part of sockperf (sockperf pauses 2 s before it measures); the bulk figure is recorded beside the latency',
  udpRateSearch:
    'iperf3 UDP at offered rates doubling from the start rate until loss reaches the limit (1% unless set), then two bisection steps: the highest offered rate with loss under the limit',
  statistics:
    'per test: median with its own distribution-free interval from order statistics (95% from 6 runs; below 6, min–max with its coverage, 75% at 3 runs) — what reports show; mean, sample stddev, coefficient of variation, Student-t 95% CI of the mean over the repeats; a cross-host throughput above the emulated link rate (+1%) is a failed run, not a result; ratio to the host: ratio of medians with a log-scale interval (relative CI half-widths added in quadrature)',
  significance: `difference to the host (and, at the end, between every two schemes) on each test's main figure: Welch's t-test of the means (Welch–Satterthwaite dof) when either side has fewer than ${BOOTSTRAP_MIN} runs, else a percentile bootstrap of the median difference (${BOOTSTRAP_ITERATIONS} resamples, fixed seed); significant at p < ${ALPHA}; pairwise comparisons also carry p after Holm's correction over every pair of the same test, and rankings only order two schemes when that is significant`,
  outliers: `from 5 runs on, a run is flagged when its main figure's modified z-score |x − median| / (1.4826 · MAD) exceeds ${OUTLIER_Z} (mean absolute deviation × 1.2533 when the MAD is 0); flagged runs stay in every figure`,
  warmup:
    "one unrecorded run per placement (cross-host, same-host), of its first test, before that test's repeats (options.warmupSeconds long; a rate search warms up at its start rate): it warms the path every later test of the placement shares (neighbour entries, bridge, OVS and daemon learning, flow caches); when it fails, the next test warms up again; sockperf tests never do: sockperf warms up by itself in every run (dummy messages, then a 2 s pause); its outcome is kept as test.warmup of the test that ran it",
  cpus: "--cpus: cnlab confines itself with sched_setaffinity (taskset -a -p) before building, so every process it starts (daemons, CNI plugins, servers, clients) inherits the set; benchmark processes also get an explicit taskset -c prefix; runs record the server's Cpus_allowed_list read from /proc while it ran and the client's requested list",
  pin: "--pin: the client on the first CPU of the set, the server on the second (a bulk flow's client and server on the third and fourth, round robin); --no-pin: free to migrate within the set",
  offloads:
    '--offloads on|off: ethtool -K tso/gso/gro/tx/rx on every underlay port, every tunnel device the plan creates and every workload interface, as the last stage of the plan; interfaces[].offloads reads them back',
};

export async function collectEnvironment(): Promise<Environment> {
  const [checks, ip, nft, cni] = await Promise.all([
    Promise.all(Object.values(TOOLS).map((t) => t.check())),
    firstLine('ip', ['-V']),
    firstLine('nft', ['--version']),
    firstLine('dpkg-query', ['-W', '-f', '${Version}', 'containernetworking-plugins']),
  ]);
  return {
    kernel: release(),
    cpuModel: cpus()[0]?.model ?? 'unknown',
    cpus: cpus().length,
    node: process.version,
    tools: {
      ...Object.fromEntries(checks.map((c) => [c.tool, c.version ?? c.reason ?? 'unknown'])),
      iproute2: ip,
      nftables: nft,
      'cni-plugins': cni,
    },
    cpuMethod: CPU_METHOD,
    methods: METHODS,
  };
}

const OFFLOADS = [
  'tcp-segmentation-offload',
  'generic-segmentation-offload',
  'generic-receive-offload',
  'tx-checksumming',
  'rx-checksumming',
];

/** Pure: `ethtool -k` output → the features that matter for throughput. */
export function parseEthtoolFeatures(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of text.split('\n')) {
    const m = /^([a-z0-9-]+):\s+(on|off)/.exec(line.trim());
    if (m && OFFLOADS.includes(m[1])) out[m[1]] = m[2];
  }
  return out;
}

export async function interfaceInfo(w: Pick<Workload, 'node' | 'ns' | 'ifName'>): Promise<InterfaceInfo> {
  // On the machine holding the namespace (a host over SSH with cnlab run -i).
  const link = await runIn(w.ns, ['ip', ['-n', w.ns, '-j', 'link', 'show', 'dev', w.ifName]]);
  let mtu = 0;
  try {
    mtu = (JSON.parse(link.stdout) as Array<{ mtu: number }>)[0]?.mtu ?? 0;
  } catch {
    /* left 0: recorded as unknown */
  }
  const eth = await runIn(w.ns, ['ip', ['netns', 'exec', w.ns, 'ethtool', '-k', w.ifName]]).catch(() => null);
  return { node: w.node, ns: w.ns, ifName: w.ifName, mtu, offloads: eth && eth.code === 0 ? parseEthtoolFeatures(eth.stdout) : {} };
}
