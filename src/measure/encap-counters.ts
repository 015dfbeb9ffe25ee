import { processStartTime } from '../apply/state.js';
import { collectCounters, type DaemonRef, type EncapCounters } from '../encap/counters.js';

/**
 * The hook the measurement suite calls once a scheme's tests are done: fresh counters of the
 * lab's encapsulation daemons (tracked processes with role encap-<host>), by host; undefined for
 * schemes without one.
 */
export async function labEncapCounters(
  stateDir: string,
  processes: ReadonlyArray<{ pid: number; startTime: number; role: string }>,
): Promise<Record<string, EncapCounters> | undefined> {
  const daemons: DaemonRef[] = processes
    .filter((p) => /^encap-[a-z0-9]+$/.test(p.role) && processStartTime(p.pid) === p.startTime)
    .map((p) => ({ host: p.role.slice('encap-'.length), pid: p.pid }));
  if (!daemons.length) return undefined;
  return collectCounters(stateDir, daemons);
}
