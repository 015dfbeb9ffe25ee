import type { LabState, TrackedProcess } from '../apply/state.js';
import { readIn } from './live.js';
import { inNs, type Finding } from './types.js';

/**
 * BGP sessions: each BIRD the state file tracks, asked over its own control socket
 * (`birdc -s SOCKET show protocols all`, read-only). A BGP protocol not Established is named with
 * its state and BIRD's last error; the fix restarts the session (`birdc restart NAME`). A BIRD
 * that does not answer is the daemon check's to name (it has exited).
 */

export interface BgpSession {
  name: string;
  /** BIRD's BGP state: Idle, Connect, Active, OpenSent, OpenConfirm, Established. */
  state: string;
  neighbor?: string;
  lastError?: string;
}

/** Pure: `birdc show protocols all` → its BGP protocols. */
export function parseBirdProtocols(out: string): BgpSession[] {
  const sessions: BgpSession[] = [];
  let cur: BgpSession | undefined;
  for (const line of out.split('\n')) {
    const head = /^(\S+)\s+(\S+)\s+\S+\s+\S+\s+\S+/.exec(line);
    if (head && !line.startsWith(' ') && head[1] !== 'Name' && head[1] !== 'BIRD') {
      cur = head[2] === 'BGP' ? { name: head[1], state: '' } : undefined;
      if (cur) sessions.push(cur);
      continue;
    }
    if (!cur) continue;
    const field = /^\s+(BGP state|Neighbor address|Last error):\s+(.*\S)\s*$/.exec(line);
    if (field?.[1] === 'BGP state') cur.state = field[2];
    else if (field?.[1] === 'Neighbor address') cur.neighbor = field[2];
    else if (field?.[1] === 'Last error') cur.lastError = field[2];
  }
  return sessions;
}

/** Pure: one BIRD's sessions (null: it did not answer) → findings. */
export function judgeBgp(bird: Pick<TrackedProcess, 'ns' | 'role'>, socket: string, sessions: readonly BgpSession[] | null): Finding[] {
  if (sessions === null) return [];
  return sessions
    .filter((s) => s.state !== 'Established')
    .map((s) => ({
      check: 'bgp',
      rank: 5,
      what: `${bird.ns}: ${bird.role}'s BGP session ${s.name}${s.neighbor ? ` with ${s.neighbor}` : ''} is ${s.state || 'not up'}, not Established: routes to that peer's block are not learned`,
      evidence: `birdc show protocols all ${s.name}: BGP state ${s.state || '?'}${s.lastError ? `; last error: ${s.lastError}` : ''}`,
      fix: [inNs(bird.ns, ['birdc', '-s', socket, 'restart', s.name])],
    }));
}

/** The control socket a tracked BIRD was started with (its `-s` argument). */
export function birdSocket(p: Pick<TrackedProcess, 'argv'>): string | undefined {
  const i = p.argv.indexOf('-s');
  return i >= 0 ? p.argv[i + 1] : undefined;
}

export async function checkBgp(state: LabState): Promise<Finding[]> {
  const birds = state.processes.filter((p) => p.role.startsWith('bird-') && birdSocket(p));
  const all = await Promise.all(
    birds.map(async (p) => {
      const socket = birdSocket(p)!;
      const out = await readIn(p.ns, 'birdc', ['-s', socket, 'show', 'protocols', 'all']).catch(() => null);
      return judgeBgp(p, socket, out === null ? null : parseBirdProtocols(out));
    }),
  );
  return all.flat();
}
