import type { Workload } from '../lab/types.js';
import type { SchemeBuild } from '../plan/scheme.js';
import { netOnly } from '../util/exec.js';
import { runIn } from '../util/executor.js';
import { pool } from '../util/pool.js';

/**
 * The check after every build (issue 16): each workload interface's MTU equals the scheme's MTU,
 * and a don't-fragment ping of exactly that MTU crosses hosts. A workload MTU above the path MTU
 * is a black hole (full-size DF packets silently dropped); one below it wastes payload; either way
 * the figures would not be the scheme's. A failure is one line naming the interface and both MTUs.
 */

/** IPv4 header (20) + ICMP echo header (8): a ping of payload MTU − 28 fills one MTU-sized packet. */
export const PING_OVERHEAD = 28;

export interface MtuReading {
  workload: Pick<Workload, 'node' | 'ifName'>;
  /** The interface's MTU; undefined when it could not be read. */
  mtu?: number;
}

/** Pure: the first interface whose MTU is not the scheme's, as one line; null when all match. */
export function interfaceMtuProblem(schemeMtu: number, readings: readonly MtuReading[]): string | null {
  for (const r of readings) {
    const where = `${r.workload.node} ${r.workload.ifName}`;
    if (r.mtu === undefined) return `MTU check: cannot read the MTU of ${where} (the scheme's MTU is ${schemeMtu})`;
    if (r.mtu !== schemeMtu) return `MTU check: ${where} has MTU ${r.mtu}, the scheme's MTU is ${schemeMtu}`;
  }
  return null;
}

/** Pure: the cross-host pair the DF probe uses: host 1's first workload to host 2's first. */
export function probePair(workloads: readonly Workload[]): [Workload, Workload] | null {
  const a = workloads.find((w) => w.hostIndex === 1);
  const b = workloads.find((w) => w.hostIndex === 2);
  return a && b ? [a, b] : null;
}

export async function readMtu(w: Pick<Workload, 'ns' | 'ifName'>): Promise<number | undefined> {
  const r = await runIn(w.ns, netOnly(w.ns, 'ip', ['-j', 'link', 'show', 'dev', w.ifName]), { timeoutMs: 5_000 });
  if (r.code !== 0) return undefined;
  try {
    const mtu = (JSON.parse(r.stdout) as Array<{ mtu?: number }>)[0]?.mtu;
    return typeof mtu === 'number' ? mtu : undefined;
  } catch {
    return undefined;
  }
}

/** One DF ping of `payload` bytes from `from` to `target`, 1 s timeout: whether it was answered. */
export async function dfPing(from: Pick<Workload, 'ns'>, target: string, payload: number): Promise<boolean> {
  const r = await runIn(from.ns, netOnly(from.ns, 'ping', ['-n', '-q', '-c', '1', '-W', '1', '-M', 'do', '-s', String(payload), target]), {
    timeoutMs: 5_000,
  });
  return r.code === 0;
}

/**
 * Checks a built lab; returns the one-line problem, or null when every workload interface has the
 * scheme's MTU and a DF ping of that size crosses hosts wherever a small one does. The ping is tried twice (the first packet
 * of a fresh lab may wait on neighbour resolution or a daemon learning its peers).
 */
export async function checkWorkloadMtu(build: SchemeBuild): Promise<string | null> {
  const readings: MtuReading[] = new Array(build.workloads.length);
  await pool(
    build.workloads.map((w, i) => [w, i] as const),
    8,
    async ([w, i]) => {
      readings[i] = { workload: w, mtu: await readMtu(w) };
    },
  );
  const bad = interfaceMtuProblem(build.mtu, readings);
  if (bad) return bad;
  const pair = probePair(build.workloads);
  if (!pair) return null;
  const [from, to] = pair;
  const target = build.targetIp(from, to);
  const payload = build.mtu - PING_OVERHEAD;
  for (let attempt = 0; attempt < 2; attempt++) if (await dfPing(from, target, payload)) return null;
  // No path across hosts at all (a CNI config without peer routes): not an MTU question; the
  // measurements say so. A black hole is a small packet answered and a full-size one dropped.
  if (!(await dfPing(from, target, 56))) return null;
  return `MTU check: a DF ping of ${build.mtu} B (payload ${payload}) from ${from.node} ${from.ifName} (MTU ${build.mtu}) to ${to.node} ${target} is dropped: the path MTU is below the scheme's MTU ${build.mtu}`;
}
