import type { V1Node } from '@kubernetes/client-node';
import type { ClusterInfo, CniSource } from '../result/cluster.js';
import { createPod, listDaemonSets, type Cluster } from './api.js';
import { cniFromConfig, cniFromDaemonSets, combineCni, factsPod, parseFacts } from './cni.js';
import { detectCni } from './nodes.js';
import { collect, waitPod } from './pods.js';

/**
 * The cluster's CNI and the MTU inside its pods, read through the API: the DaemonSets, then the
 * facts pod on `node`. Neither may fail the run: a source that cannot be read says why in the
 * result (e.g. a cluster whose RBAC hides DaemonSets, or whose admission forbids hostPath volumes).
 */

/** The DaemonSet source alone (cnlab k8s check creates nothing). */
export async function daemonSetSource(c: Cluster): Promise<CniSource & { version?: string }> {
  try {
    return cniFromDaemonSets(await listDaemonSets(c));
  } catch (e) {
    return { source: 'daemonset', detail: `DaemonSets not read: ${(e as Error).message}` };
  }
}

export interface FactsOptions {
  run: string;
  image: string;
  node: string;
  timeoutMs: number;
  log: (line: string) => void;
}

/** Runs the facts pod (again without its hostPath volume if the API refuses to create it) and reads its log. */
async function readFacts(c: Cluster, o: FactsOptions): Promise<{ log?: string; why?: string; refused?: string }> {
  let refused: string | undefined;
  for (const hostPath of [true, false]) {
    const p = factsPod(o.run, o.image, o.node, hostPath);
    try {
      await createPod(c, p);
    } catch (e) {
      refused ??= (e as Error).message;
      continue;
    }
    try {
      const done = await collect(c, await waitPod(c, p, o.timeoutMs, 'done'));
      if (!done.ok) return { why: `facts pod ${done.pod.status?.phase}: ${done.log.trim().split('\n')[0]}`, refused };
      return { log: done.log, refused };
    } catch (e) {
      return { why: (e as Error).message, refused };
    }
  }
  return { why: refused, refused };
}

export async function clusterCni(c: Cluster, all: V1Node[], o: FactsOptions): Promise<{ cni: ClusterInfo['cni']; podMtu?: number }> {
  const ds = await daemonSetSource(c);
  const facts = await readFacts(c, o);
  const parsed = facts.log !== undefined ? parseFacts(facts.log) : undefined;
  const conf: ReturnType<typeof cniFromConfig> =
    parsed && !facts.refused
      ? cniFromConfig(parsed.files, o.node)
      : { source: 'node-config', detail: `node ${o.node} /etc/cni/net.d not read: ${facts.refused ?? facts.why}` };
  if (!parsed?.mtu) o.log(`MTU inside the pods not read (${facts.why ?? 'no MTU in the facts pod’s log'})`);
  return { cni: combineCni(ds, conf, detectCni(all), o.node), ...(parsed?.mtu ? { podMtu: parsed.mtu } : {}) };
}
