import type { LabState } from '../apply/state.js';
import { parseAgentArgs, type AgentConfig } from '../flannel/agent.js';
import { FLANNEL_PREFIX, leaseValue, subnetKey } from '../flannel/lease.js';
import { readIn } from './live.js';
import { inNs, type Finding } from './types.js';

/**
 * Flannel's leases: each host's agent (tracked in the state file, its argv saying its subnet,
 * public address and VTEP) must have its subnet's key in etcd, or its peers remove their routes
 * and FDB entries to it. Read with etcdctl from the agent's namespace (etcd listens on a lab
 * address only). The fix writes the lease back as the agent wrote it.
 */

export interface Agent {
  ns: string;
  role: string;
  cfg: AgentConfig;
}

/** Pure: the agents and the subnet keys etcd holds (null: etcd did not answer) → findings. */
export function judgeLeases(agents: readonly Agent[], keys: readonly string[] | null): Finding[] {
  if (!agents.length) return [];
  const etcd = agents[0].cfg.etcd;
  if (keys === null)
    return [
      {
        check: 'lease',
        rank: 3,
        what: `flannel's etcd at ${etcd} does not answer: agents cannot learn their peers`,
        evidence: `etcdctl get --prefix ${FLANNEL_PREFIX}/subnets/ from ${agents[0].ns} failed`,
        fix: [],
      },
    ];
  return agents.flatMap(({ ns, role, cfg }) => {
    const key = subnetKey(cfg.subnet);
    if (keys.includes(key)) return [];
    const value = leaseValue(cfg.publicIp, cfg.backend, cfg.vtepMac ? { vni: cfg.vni, mac: cfg.vtepMac } : undefined);
    return [
      {
        check: 'lease',
        rank: 4,
        what: `flannel lease for ${cfg.subnet} (${role}, ${cfg.publicIp}) is missing from etcd: peers drop their routes to it`,
        evidence: `etcdctl get --prefix ${FLANNEL_PREFIX}/subnets/: ${keys.length ? keys.join(', ') : 'no keys'}`,
        fix: [inNs(ns, ['etcdctl', `--endpoints=${cfg.etcd}`, 'put', key, JSON.stringify(value)])],
      },
    ];
  });
}

/** The flannel agents a lab's state file tracks, with their configuration (from their argv). */
export function flannelAgents(state: LabState): Agent[] {
  return state.processes.flatMap((p) => {
    if (!p.role.startsWith('flannel-')) return [];
    try {
      return [{ ns: p.ns, role: p.role, cfg: parseAgentArgs(p.argv.slice(2)) }];
    } catch {
      return [];
    }
  });
}

export async function checkLeases(state: LabState): Promise<Finding[]> {
  const agents = flannelAgents(state);
  if (!agents.length) return [];
  const a = agents[0];
  const out = await readIn(a.ns, 'etcdctl', [
    `--endpoints=${a.cfg.etcd}`,
    '--command-timeout=3s',
    'get',
    '--prefix',
    '--keys-only',
    `${FLANNEL_PREFIX}/subnets/`,
  ]).catch(() => null);
  return judgeLeases(agents, out === null ? null : out.split('\n').filter((l) => l.trim()));
}
