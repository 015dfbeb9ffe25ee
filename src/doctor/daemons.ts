import { readFileSync } from 'node:fs';
import { processStartTime, type LabState, type TrackedProcess } from '../apply/state.js';
import type { DaemonStep, Step } from '../plan/types.js';
import { parseTopology } from '../lab/topology.js';
import type { Topology } from '../lab/types.js';
import type { Finding } from './types.js';

/** Pure: `cnlab down LAB` then `cnlab up` with the flags that give the same topology. */
export function rebuildFix(lab: string, scheme: string, t?: Topology): string[][] {
  const flags = t
    ? [
        ['--hosts', String(t.hosts)],
        ['--containers', String(t.containersPerHost)],
        t.sameHost ? [] : ['--no-same-host'],
        ['--underlay', t.underlay.cidr, '--mtu', String(t.underlay.mtu)],
        t.underlay.rate ? ['--link-rate', t.underlay.rate] : [],
        ['--pods', t.pods.cidr, '--pod-block', String(t.pods.blockPrefix)],
        t.allowAddresses ? ['--allow-addresses'] : [],
        t.offloads ? ['--offloads', t.offloads] : [],
        t.controlPlane ? ['--control-plane', t.controlPlane] : [],
        t.bgp ? ['--bgp', t.bgp] : [],
      ].flat()
    : [];
  return [
    ['cnlab', 'down', lab],
    ['cnlab', 'up', scheme, '--lab', lab, ...flags],
  ];
}

/**
 * Daemons: each process the state file tracks (encapsulation daemon, flannel agent, BIRD, etcd)
 * still running as the same process (pid and start time). An exited one is named with its log's
 * last line; there is no one-line fix (its restart must be tracked by cnlab), so the fix is to
 * rebuild the lab.
 */

/** Pure: tracked processes and whether each still runs → findings. */
export function judgeDaemons(
  rebuild: string[][],
  procs: readonly TrackedProcess[],
  alive: (p: TrackedProcess) => boolean,
  lastLogLine: (p: TrackedProcess) => string | undefined,
): Finding[] {
  return procs
    .filter((p) => !alive(p))
    .map((p) => ({
      check: 'daemon',
      // A control plane's loss shows later than a data-plane daemon's.
      rank: /bird|etcd|flannel/.test(p.role) ? 2 : 1,
      what: `${p.ns}: daemon ${p.role} (pid ${p.pid}) has exited`,
      evidence: `no process ${p.pid} with the recorded start time${lastLogLine(p) ? `; its log ends: ${lastLogLine(p)}` : ''}`,
      fix: rebuild,
    }));
}

function tail(file: string): string | undefined {
  try {
    return readFileSync(file, 'utf8').trim().split('\n').slice(-1)[0]?.slice(0, 200) || undefined;
  } catch {
    return undefined;
  }
}

export function checkDaemons(state: LabState, steps: readonly Step[]): Finding[] {
  const logs = new Map<string, string>();
  for (const s of steps) if (s.kind === 'daemon') logs.set(`${s.ns} ${(s as DaemonStep).name}`, s.log);
  return judgeDaemons(
    rebuildFix(state.lab, state.scheme, state.topology ? parseTopology(state.topology, 'state file') : undefined),
    state.processes,
    (p) => processStartTime(p.pid) === p.startTime,
    (p) => {
      const log = logs.get(`${p.ns} ${p.role}`);
      return log ? tail(log) : undefined;
    },
  );
}
