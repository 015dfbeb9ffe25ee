import type { V1DaemonSet, V1Pod } from '@kubernetes/client-node';
import { isPlainName } from '../cni/conflist.js';
import type { ClusterInfo, CniSource } from '../result/cluster.js';
import { pod } from './manifests.js';

/**
 * Which CNI a cluster runs, from three sources consulted in order: a known DaemonSet (its name
 * gives the CNI, its image tag the version), the first CNI config file in a node's
 * /etc/cni/net.d as a one-shot "facts" pod prints it (main plugin, MTU), and the annotations
 * a CNI's agent writes on its node (nodes.ts). The same pod reports eth0's MTU inside a pod.
 */

/** DaemonSet name → the CNI whose agent it runs (the names of the projects' own manifests and charts). */
const KNOWN_DAEMONSETS: Record<string, string> = {
  'calico-node': 'calico',
  canal: 'canal',
  cilium: 'cilium',
  'kube-flannel-ds': 'flannel',
  'kube-flannel-ds-amd64': 'flannel',
  'kube-flannel': 'flannel',
  'weave-net': 'weave',
  'antrea-agent': 'antrea',
  'kube-router': 'kube-router',
  'kube-ovn-cni': 'kube-ovn',
  'ovnkube-node': 'ovn-kubernetes',
  'aws-node': 'aws-vpc-cni',
  kindnet: 'kindnet',
};

/** Main plugin type of a node's CNI config → the CNI (a generic plugin such as bridge names none). */
const KNOWN_PLUGINS: Record<string, string> = {
  calico: 'calico',
  'cilium-cni': 'cilium',
  flannel: 'flannel',
  'weave-net': 'weave',
  antrea: 'antrea',
  'kube-ovn': 'kube-ovn',
  'ovn-k8s-cni-overlay': 'ovn-kubernetes',
  'aws-cni': 'aws-vpc-cni',
};

/** Pure: an image reference's tag ("v3.28.0" of "docker.io/calico/node:v3.28.0@sha256:…"); undefined: none. */
export function imageTag(image: string): string | undefined {
  const ref = image.split('@')[0];
  const i = ref.lastIndexOf(':');
  return i > ref.lastIndexOf('/') ? ref.slice(i + 1) || undefined : undefined;
}

/** Pure: the first known CNI DaemonSet, its version from its first container's image tag. */
export function cniFromDaemonSets(list: V1DaemonSet[]): CniSource & { version?: string } {
  const known = list.filter((d) => KNOWN_DAEMONSETS[d.metadata?.name ?? '']);
  const d = known[0];
  if (!d) return { source: 'daemonset', detail: `no known CNI DaemonSet among ${list.length}` };
  const image = d.spec?.template.spec?.containers[0]?.image ?? '';
  const version = imageTag(image);
  const others = known.slice(1).map((x) => `${x.metadata?.namespace}/${x.metadata?.name}`);
  return {
    source: 'daemonset',
    name: KNOWN_DAEMONSETS[d.metadata!.name!],
    ...(version ? { version } : {}),
    detail: `DaemonSet ${d.metadata?.namespace}/${d.metadata?.name}, image ${image || 'none'}${others.length ? ` (also ${others.join(', ')})` : ''}`,
  };
}

const CONF_DIR = '/etc/cni/net.d';
const MOUNT = '/host/etc/cni/net.d';
const FILE_MARK = 'cnlab-cni-file ';
const MTU_MARK = 'cnlab-pod-mtu ';
/** The facts pod's name in the run's namespace. */
export const FACTS_POD = 'facts';

/**
 * The facts pod: on the pod network (not hostNetwork), the node's /etc/cni/net.d mounted
 * read-only; it prints eth0's MTU, then each file a runtime would load (.conf, .conflist, .json:
 * never others, e.g. calico's kubeconfig) after a marker line. `hostPath: false`: MTU alone (for
 * a namespace whose admission forbids hostPath volumes).
 */
export function factsPod(run: string, image: string, node: string, hostPath = true): V1Pod {
  const files = hostPath
    ? `for f in ${MOUNT}/*.conf ${MOUNT}/*.conflist ${MOUNT}/*.json; do [ -f "$f" ] && echo "${FILE_MARK}\${f##*/}" && cat "$f" && echo; done; `
    : '';
  return pod({
    run,
    name: FACTS_POD,
    role: 'probe',
    node,
    image,
    hostNetwork: false,
    ...(hostPath ? { hostPaths: [{ name: 'cni-conf', path: CONF_DIR, mountPath: MOUNT }] } : {}),
    containers: [{ name: 'facts', command: ['sh', '-c', `echo "${MTU_MARK}$(cat /sys/class/net/eth0/mtu)"; ${files}exit 0`] }],
  });
}

/** Pure: the facts pod's log → eth0's MTU and the config files by name. */
export function parseFacts(log: string): { mtu?: number; files: { name: string; text: string }[] } {
  let mtu: number | undefined;
  const files: { name: string; text: string }[] = [];
  for (const line of log.split('\n')) {
    if (line.startsWith(MTU_MARK)) {
      const n = Number(line.slice(MTU_MARK.length).trim());
      if (Number.isInteger(n) && n >= 68 && n <= 65535) mtu = n;
    } else if (line.startsWith(FILE_MARK)) files.push({ name: line.slice(FILE_MARK.length).trim(), text: '' });
    else if (files.length) files[files.length - 1].text += `${line}\n`;
  }
  return { mtu, files };
}

type Plugin = { type?: unknown; mtu?: unknown };

/**
 * Pure: the config a runtime uses — the first file by name holding a valid config (a .conflist's
 * `plugins`, or a single .conf plugin) — its main plugin type and MTU. Not parseConflist (cni/):
 * that checks what cnlab hands to plugins (cniVersion ≥ 0.4.0), while clusters' files still say 0.3.1.
 */
export function cniFromConfig(
  files: { name: string; text: string }[],
  node: string,
): CniSource & { plugin?: string; mtu?: number; file?: string } {
  const skipped: string[] = [];
  for (const f of [...files].sort((a, b) => (a.name < b.name ? -1 : 1))) {
    let doc: { plugins?: Plugin[] } & Plugin;
    try {
      doc = JSON.parse(f.text) as typeof doc;
    } catch {
      skipped.push(`${f.name}: not JSON`);
      continue;
    }
    const main = Array.isArray(doc?.plugins) ? doc.plugins[0] : doc;
    if (typeof main?.type !== 'string' || !isPlainName(main.type)) {
      skipped.push(`${f.name}: no plugin type`);
      continue;
    }
    const mtu = typeof main.mtu === 'number' && Number.isInteger(main.mtu) ? main.mtu : undefined;
    const name = KNOWN_PLUGINS[main.type];
    return {
      source: 'node-config',
      ...(name ? { name } : {}),
      plugin: main.type,
      ...(mtu ? { mtu } : {}),
      file: `${CONF_DIR}/${f.name}`,
      detail: `node ${node} ${CONF_DIR}/${f.name}: plugin ${main.type}${mtu ? `, MTU ${mtu}` : ', no MTU set'}${skipped.length ? ` (skipped ${skipped.join('; ')})` : ''}`,
    };
  }
  return {
    source: 'node-config',
    detail: files.length ? `node ${node} ${CONF_DIR}: no valid config (${skipped.join('; ')})` : `node ${node} ${CONF_DIR}: no config file`,
  };
}

/**
 * Pure: the sources combined. The name comes from the first source that gives one; node
 * annotations may refine it with the backend (flannel → flannel-vxlan); `detectedFrom` says which,
 * and names a source that says otherwise (e.g. a node config left from a migration).
 */
export function combineCni(
  ds: CniSource & { version?: string },
  conf: CniSource & { plugin?: string; mtu?: number; file?: string },
  annot: CniSource,
  node: string,
): ClusterInfo['cni'] {
  const first = [ds, conf, annot].find((s) => s.name);
  const refined = first && annot.name?.startsWith(`${first.name}-`) ? annot.name : first?.name;
  const others = [conf, annot].filter((s) => s !== first && s.name && s.name !== first?.name && s.name !== refined);
  const from = first
    ? [
        `${first.detail}${first === ds && ds.version ? ' (version: its image tag)' : ''}`,
        ...(refined !== first.name ? [`backend from ${annot.detail}`] : []),
        ...others.map((s) => `but ${s.detail} says ${s.name}`),
      ].join('; ')
    : 'no known DaemonSet, node config or node annotation';
  return {
    name: refined ?? 'unknown',
    ...(first === ds && ds.version ? { version: ds.version } : {}),
    detectedFrom: from,
    sources: [ds, conf, annot].map((s) => ({ source: s.source, ...(s.name ? { name: s.name } : {}), detail: s.detail })),
    ...(conf.plugin ? { plugin: conf.plugin, configFile: conf.file, configNode: node } : {}),
    ...(conf.mtu ? { configMtu: conf.mtu } : {}),
  };
}
