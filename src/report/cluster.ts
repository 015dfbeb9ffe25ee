import type { ResultFile } from '../result/types.js';
import { esc } from './escape.js';

/** Pure: a Kubernetes run's cluster section (cnlab k8s run): the CNI, where its name came from, MTUs, the nodes. */

export function clusterLines(r: ResultFile): string[] {
  const c = r.cluster;
  if (!c) return [];
  const cni = c.cni;
  return [
    `Kubernetes ${c.kubernetesVersion} at ${c.server}; namespace ${c.namespace}; image ${c.image}`,
    `CNI: ${cni.name}${cni.version ? ` ${cni.version}` : ''}, from ${cni.detectedFrom}`,
    ...(cni.plugin
      ? [`node config: ${cni.configNode} ${cni.configFile}, plugin ${cni.plugin}, ${cni.configMtu ? `MTU ${cni.configMtu}` : 'no MTU set'}`]
      : []),
    `MTU inside the pods (eth0): ${c.podMtu ?? 'not read'}`,
    ...(cni.sources ?? []).map((s) => `source ${s.source}: ${s.name ?? '–'} (${s.detail})`),
    ...c.nodes.map((n) => `node ${n.name}: kernel ${n.kernel}, ${n.cpus} CPUs ${n.arch}, kubelet ${n.kubelet}, ${n.os}`),
  ];
}

export function clusterHtml(r: ResultFile): string {
  const lines = clusterLines(r);
  return lines.length ? `<ul>${lines.map((l) => `<li>${esc(l)}</li>`).join('')}</ul>` : '';
}
