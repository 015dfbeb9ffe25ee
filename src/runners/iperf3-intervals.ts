import type { IntervalPoint } from '../result/types.js';

/**
 * Pure: the per-interval figures of an iperf3 -J report (flent's time series): for each interval
 * the throughput, and for TCP the sender's retransmits, congestion window and smoothed RTT
 * (summed over streams for bytes and retransmits; cwnd summed, RTT averaged over streams). Never
 * throws: output that is not iperf3 JSON gives no intervals.
 */

/** The interval iperf3 -i reports at, for a run of `seconds`: about 10–20 points a run, ≥ 0.1 s. */
export function reportInterval(seconds: number): number {
  return Math.max(0.1, Math.round((seconds / 10) * 10) / 10);
}

interface RawStream {
  retransmits?: number;
  snd_cwnd?: number;
  rtt?: number;
  omitted?: boolean;
}
interface RawInterval {
  streams?: RawStream[];
  sum?: { end?: number; bits_per_second?: number; retransmits?: number; packets?: number; omitted?: boolean };
}

const num = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);

export function parseIntervals(raw: string): IntervalPoint[] {
  let doc: { intervals?: RawInterval[] };
  try {
    doc = JSON.parse(raw) as { intervals?: RawInterval[] };
  } catch {
    return [];
  }
  if (!doc || !Array.isArray(doc.intervals)) return [];
  const out: IntervalPoint[] = [];
  for (const iv of doc.intervals) {
    const sum = iv?.sum;
    if (!sum || sum.omitted || !num(sum.end) || !num(sum.bits_per_second)) continue;
    const p: IntervalPoint = { t: Math.round(sum.end * 1000) / 1000, gbps: sum.bits_per_second / 1e9 };
    const streams = (iv.streams ?? []).filter((s) => s && typeof s === 'object');
    if (num(sum.retransmits)) p.retransmits = sum.retransmits;
    const cwnd = streams.map((s) => s.snd_cwnd).filter(num);
    if (cwnd.length) p.cwndBytes = cwnd.reduce((a, b) => a + b, 0);
    const rtt = streams.map((s) => s.rtt).filter(num);
    if (rtt.length) p.rttUs = rtt.reduce((a, b) => a + b, 0) / rtt.length;
    if (num(sum.packets)) p.packets = sum.packets;
    out.push(p);
  }
  return out;
}
