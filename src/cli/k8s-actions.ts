import { dumpYaml } from '@kubernetes/client-node';
import { InputError } from '../errors.js';
import { connect, deleteNamespace, listNodes, managedNamespaces, serverVersion } from '../k8s/api.js';
import { checkRunName } from '../k8s/manifests.js';
import { chooseNodes, detectCni, nodeFacts } from '../k8s/nodes.js';
import { clientPod, k8sTests, loadPod, runObjects, samplerPod } from '../k8s/plan.js';
import { combineCni, factsPod } from '../k8s/cni.js';
import { daemonSetSource } from '../k8s/facts.js';
import { k8sRun } from '../k8s/run.js';
import { defaultOutDir } from '../result/write.js';
import { DEFAULT_SIZES } from '../measure/tests.js';
import { expandLoop } from '../runners/qperf.js';
import { pickTests } from './run-options.js';

/** The k8s commands' work, loaded only when a k8s command runs (the Kubernetes client is slow to import). */

const out = (l: string) => process.stdout.write(`${l}\n`);
const err = (l: string) => process.stderr.write(`${l}\n`);

function positiveInt(name: string, v: string, max: number): number {
  const n = Number(v);
  if (!/^\d+$/.test(v) || n < 1 || n > max) throw new InputError(`invalid ${name} "${v}" (a whole number 1-${max})`);
  return n;
}

export interface RunFlags {
  kubeconfig?: string;
  nodes?: string;
  repeats: string;
  duration: string;
  image: string;
  udpRate: string;
  out?: string;
  name?: string;
  podTimeout: string;
  dryRun?: boolean;
  full?: boolean;
  sizes?: string;
  tests?: string;
}

export async function check(f: { kubeconfig?: string }): Promise<void> {
  const c = connect(f.kubeconfig);
  out(`API server ${c.server}: Kubernetes ${await serverVersion(c)}`);
  const nodes = await listNodes(c);
  for (const n of nodes.map(nodeFacts)) out(`node ${n.name}: kernel ${n.kernel}, ${n.cpus} CPUs ${n.arch}, kubelet ${n.kubelet}`);
  // The DaemonSets and node annotations only: the node's CNI config needs a pod, and check creates nothing.
  const ds = await daemonSetSource(c);
  const annot = detectCni(nodes);
  const cni = combineCni(ds, { source: 'node-config', detail: 'not read by check (a run reads it with a pod)' }, annot, '');
  out(`CNI: ${cni.name}${cni.version ? ` ${cni.version}` : ''} (${cni.detectedFrom})`);
  try {
    out(`a run would use nodes ${chooseNodes(nodes).nodes.join(', ')}`);
  } catch (e) {
    out((e as Error).message);
  }
}

export async function run(f: RunFlags): Promise<void> {
  const repeats = positiveInt('--repeats', f.repeats, 100);
  const seconds = positiveInt('--duration', f.duration, 3600);
  const podTimeoutMs = positiveInt('--pod-timeout', f.podTimeout, 3600) * 1000;
  const name = checkRunName(f.name ?? new Date().toISOString().replace(/[-:T]/g, '').slice(0, 14));
  const nodes = f.nodes?.split(',').map((s) => s.trim());
  if (nodes && nodes.some((n) => !/^[a-z0-9]([a-z0-9.-]{0,251}[a-z0-9])?$/.test(n))) throw new InputError(`invalid --nodes "${f.nodes}"`);
  if (nodes) chooseNodes([], nodes);
  if (!/^\d+(\.\d+)?[KMGT]?$/i.test(f.udpRate)) throw new InputError(`invalid --udp-rate "${f.udpRate}"`);
  if (f.sizes && !f.full) throw new InputError('--sizes needs --full (the message-size sweeps are part of --full)');
  const full = f.full ? { sizes: expandLoop(f.sizes ?? DEFAULT_SIZES) } : undefined;
  const all = k8sTests({ udpRate: f.udpRate, full });
  const picked = new Set(
    pickTests(
      all.map((t) => t.spec),
      f.tests,
    ),
  );
  const tests = all.filter((t) => picked.has(t.spec));
  if (f.dryRun) {
    // Without --nodes the run would choose them from the cluster; a dry run asks nothing of it.
    const pair: [string, string] = nodes ? [nodes[0], nodes[1]] : ['client-node', 'server-node'];
    const o = runObjects(name, f.image, pair);
    // A sampler per node (the run makes one per kernel: nodes sharing a boot ID share one).
    const samplers = pair.map((n, i) => samplerPod(name, f.image, n, i));
    const clients = tests.flatMap((t) => [
      ...(t.spec.underLoad ? [loadPod(name, f.image, pair, t, 1, seconds, '')] : []),
      clientPod(name, f.image, pair, t, 1, seconds, ''),
    ]);
    out(
      [o.namespace, ...o.servers, o.service, ...samplers, factsPod(name, f.image, pair[1]), ...clients]
        .map((x) => dumpYaml(x))
        .join('---\n'),
    );
    return;
  }
  const c = connect(f.kubeconfig);
  const { file } = await k8sRun(c, {
    run: name,
    image: f.image,
    nodes,
    repeats,
    seconds,
    udpRate: f.udpRate,
    tests,
    out: f.out ?? defaultOutDir(),
    podTimeoutMs,
    argv: process.argv.slice(2),
    log: err,
  });
  out(`result: ${file}`);
}

export async function clean(f: { kubeconfig?: string }): Promise<void> {
  const c = connect(f.kubeconfig);
  const names = await managedNamespaces(c);
  for (const n of names) {
    await deleteNamespace(c, n);
    out(`deleted namespace ${n}`);
  }
  if (!names.length) out("no namespace carries cnlab's label");
}
