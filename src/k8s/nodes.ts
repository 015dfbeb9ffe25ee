import type { V1Node } from '@kubernetes/client-node';
import { InputError } from '../errors.js';
import type { ClusterInfo, CniSource } from '../result/cluster.js';

/** Node choice and what the nodes say about themselves (kernel, CPU, CNI), from the node objects alone. */

const ready = (n: V1Node) => n.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ?? false;
const isControlPlane = (n: V1Node) => Object.keys(n.metadata?.labels ?? {}).some((l) => l === 'node-role.kubernetes.io/control-plane');
const noScheduleTaint = (n: V1Node) => (n.spec?.taints ?? []).some((t) => t.effect === 'NoSchedule' || t.effect === 'NoExecute');
export const nodeName = (n: V1Node): string => n.metadata?.name ?? '';

/** Pure: the nodes a run measures: the two named, or the first two Ready, schedulable workers (by name). */
export function chooseNodes(nodes: V1Node[], named?: string[]): { nodes: [string, string]; chosen: boolean } {
  if (named) {
    if (named.length !== 2 || !named[0] || !named[1] || named[0] === named[1])
      throw new InputError(`--nodes needs two different node names, got "${named.join(',')}"`);
    return { nodes: [named[0], named[1]], chosen: false };
  }
  const ok = nodes
    .filter((n) => ready(n) && !n.spec?.unschedulable && !noScheduleTaint(n) && !isControlPlane(n))
    .map(nodeName)
    .sort();
  if (ok.length < 2)
    throw new InputError(`the cluster has ${ok.length} Ready, schedulable worker node(s); cnlab needs two (name them with --nodes)`);
  return { nodes: [ok[0], ok[1]], chosen: true };
}

/** Pure: the CNI the nodes' annotations and labels point to (the ones each CNI's agent writes on its node). */
export function detectCni(nodes: V1Node[]): CniSource {
  const keys = nodes.flatMap((n) => [...Object.entries(n.metadata?.annotations ?? {}), ...Object.entries(n.metadata?.labels ?? {})]);
  const has = (prefix: string) => keys.find(([k]) => k.startsWith(prefix));
  const from = (name: string, detail: string): CniSource => ({ source: 'node-annotation', name, detail });
  const flannel = has('flannel.alpha.coreos.com/backend-type');
  if (flannel) return from(`flannel-${flannel[1]}`, 'node annotation flannel.alpha.coreos.com/backend-type');
  if (has('projectcalico.org/')) return from('calico', 'node annotations projectcalico.org/*');
  if (has('io.cilium')) return from('cilium', 'node annotations io.cilium*');
  if (has('kube-router.io/')) return from('kube-router', 'node annotations kube-router.io/*');
  return { source: 'node-annotation', detail: 'no known CNI annotation on the nodes' };
}

/** Pure: what a node reports about itself. */
export function nodeFacts(n: V1Node): ClusterInfo['nodes'][number] {
  const i = n.status?.nodeInfo;
  return {
    name: nodeName(n),
    kernel: i?.kernelVersion ?? 'unknown',
    os: i?.osImage ?? 'unknown',
    arch: i?.architecture ?? 'unknown',
    cpus: String(n.status?.capacity?.cpu ?? 'unknown'),
    kubelet: i?.kubeletVersion ?? 'unknown',
    ...(n.status?.addresses?.find((a) => a.type === 'InternalIP')
      ? { internalIp: n.status.addresses.find((a) => a.type === 'InternalIP')!.address }
      : {}),
  };
}
