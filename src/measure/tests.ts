import type { Placement, TestSpec } from '../result/types.js';
import { expandLoop, type QperfTest } from '../runners/qperf.js';
import { toolOf } from '../runners/registry.js';

/**
 * The test catalogue: what `cnlab run` measures by default (quick: every scheme in about five
 * minutes), with --full (every kind below), and the building blocks presets use. Test ids are
 * "<name>/<placement>". Tests are listed so that those sharing servers are adjacent (see
 * servers.ts): iperf3 first, then latency under load, latency alone, qperf.
 */

export const DEFAULT_SIZES = '1:64K:*2';
/** Largest UDP payload over IPv4. */
export const MAX_UDP_PAYLOAD = 65507;
export const LATENCY_MSG_SIZE = 64;
export const STREAMS_SWEEP = [1, 2, 4, 8];
export const UDP_LENGTHS = [64, 256, 1024, 1472, 8192];

export function tcpTest(streams: number, p: Placement, sweep = false): TestSpec {
  return {
    id: `tcp-${streams}/${p}`,
    protocol: 'tcp',
    streams,
    placement: p,
    ...(sweep ? { sweep: { series: 'iperf3 TCP streams', param: 'streams' as const, value: streams } } : {}),
  };
}

export function udpTest(udpRate: string, p: Placement): TestSpec {
  return { id: `udp/${p}`, protocol: 'udp', streams: 1, placement: p, udpRate };
}

export function udpLengthTest(length: number, udpRate: string, p: Placement): TestSpec {
  return {
    id: `udp-len${length}/${p}`,
    protocol: 'udp',
    streams: 1,
    placement: p,
    udpRate,
    length,
    sweep: { series: 'iperf3 UDP datagram size', param: 'length', value: length },
  };
}

export function rateSearchTest(p: Placement): TestSpec {
  return {
    id: `udp-max-rate/${p}`,
    kind: 'udp-rate-sweep',
    protocol: 'udp',
    streams: 1,
    placement: p,
    lossLimitPercent: 1,
    startMbps: 100,
  };
}

export function latencyTest(protocol: 'tcp' | 'udp', p: Placement, loaded = false): TestSpec {
  return {
    id: `lat-${protocol}${loaded ? '-loaded' : ''}/${p}`,
    kind: 'sockperf',
    protocol,
    streams: 1,
    placement: p,
    msgSize: LATENCY_MSG_SIZE,
    ...(loaded ? { underLoad: { streams: 1 } } : {}),
  };
}

export function qperfTests(test: QperfTest, sizes: number[], p: Placement): TestSpec[] {
  const protocol = test.startsWith('tcp') ? ('tcp' as const) : ('udp' as const);
  return sizes
    .filter((s) => protocol === 'tcp' || s <= MAX_UDP_PAYLOAD)
    .map((size) => ({
      id: `qperf-${test}-${size}/${p}`,
      kind: 'qperf' as const,
      protocol,
      streams: 1,
      placement: p,
      qperfTest: test,
      msgSize: size,
      sweep: { series: `qperf ${test}`, param: 'msgSize' as const, value: size },
    }));
}

/** A test in a pinned and an unpinned variant (S4). */
export function pinVariants(t: TestSpec): TestSpec[] {
  const [name, placement] = t.id.split('/');
  return [
    { ...t, id: `${name}-pinned/${placement}`, pin: true },
    { ...t, id: `${name}-unpinned/${placement}`, pin: false },
  ];
}

/** qperf udp_lat at one size: a cheap latency figure (sockperf pauses 2 s in every run). */
export function quickLatencyTest(p: Placement): TestSpec {
  return { id: `udp-lat/${p}`, kind: 'qperf', protocol: 'udp', streams: 1, placement: p, qperfTest: 'udp_lat', msgSize: LATENCY_MSG_SIZE };
}

/**
 * Default: a quick comparison — TCP, UDP at the rate and UDP latency (qperf) cross-host, TCP
 * same-host. Every one of them uses the service port only, so NAT'd schemes serve them all.
 */
export function quickTests(udpRate: string, placements: Placement[]): TestSpec[] {
  return placements.flatMap((p) =>
    p === 'cross' ? [tcpTest(1, 'cross'), udpTest(udpRate, 'cross'), quickLatencyTest('cross')] : [tcpTest(1, p)],
  );
}

/** --full: every kind, both placements; the qperf message-size sweeps cross-host only. */
export function fullTests(udpRate: string, placements: Placement[], sizesSpec = DEFAULT_SIZES): TestSpec[] {
  const sizes = expandLoop(sizesSpec);
  return placements.flatMap((p) => [
    ...STREAMS_SWEEP.map((n) => tcpTest(n, p, true)),
    udpTest(udpRate, p),
    ...UDP_LENGTHS.map((l) => udpLengthTest(l, udpRate, p)),
    rateSearchTest(p),
    latencyTest('tcp', p, true),
    latencyTest('udp', p, true),
    latencyTest('tcp', p),
    latencyTest('udp', p),
    ...(p === 'cross' ? (['tcp_bw', 'tcp_lat', 'udp_bw', 'udp_lat'] as const).flatMap((q) => qperfTests(q, sizes, p)) : []),
  ]);
}

/** Rough wall time of the measurements (not builds): for the "about N minutes" line. */
export function estimateSeconds(tests: TestSpec[], repeats: number, seconds: number, warmup: number): number {
  // One warm-up per placement (suite.ts), before its first test whose tool wants one.
  const warmed = new Set(tests.filter((t) => toolOf(t).warmup(t) !== undefined).map((t) => t.placement));
  return tests.reduce((sum, t) => sum + repeats * toolOf(t).runSeconds(t, t.seconds ?? seconds), warmup > 0 ? warmed.size * warmup : 0);
}
