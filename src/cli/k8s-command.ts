import type { Command } from 'commander';
import { dumpYaml } from '@kubernetes/client-node';
import { InputError } from '../errors.js';
import { connect, deleteNamespace, listNodes, managedNamespaces, serverVersion } from '../k8s/api.js';
import { checkRunName } from '../k8s/manifests.js';
import { chooseNodes, detectCni, nodeFacts } from '../k8s/nodes.js';
import { clientPod, k8sTests, runObjects } from '../k8s/plan.js';
import { k8sRun } from '../k8s/run.js';
import { defaultOutDir } from '../result/write.js';

const DEFAULT_IMAGE = 'docker.io/networkstatic/iperf3:latest';
const out = (l: string) => process.stdout.write(`${l}\n`);
const err = (l: string) => process.stderr.write(`${l}\n`);

function positiveInt(name: string, v: string, max: number): number {
  const n = Number(v);
  if (!/^\d+$/.test(v) || n < 1 || n > max) throw new InputError(`invalid ${name} "${v}" (a whole number 1-${max})`);
  return n;
}

interface RunFlags {
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
}

export function registerK8sCommand(program: Command): void {
  const k8s = program
    .command('k8s')
    .description('Measure the CNI a Kubernetes cluster already runs, through its API (everything in one namespace cnlab-<run>)');
  k8s
    .command('check')
    .description('API reachable, its version, the nodes, their CNI, which two nodes a run would use')
    .option('--kubeconfig <file>', 'kubeconfig (default: $KUBECONFIG or ~/.kube/config)')
    .action(async (f: { kubeconfig?: string }) => {
      const c = connect(f.kubeconfig);
      out(`API server ${c.server}: Kubernetes ${await serverVersion(c)}`);
      const nodes = await listNodes(c);
      for (const n of nodes.map(nodeFacts)) out(`node ${n.name}: kernel ${n.kernel}, ${n.cpus} CPUs ${n.arch}, kubelet ${n.kubelet}`);
      const cni = detectCni(nodes);
      out(`CNI: ${cni.name} (${cni.detectedFrom})`);
      try {
        out(`a run would use nodes ${chooseNodes(nodes).nodes.join(', ')}`);
      } catch (e) {
        out((e as Error).message);
      }
    });
  k8s
    .command('run')
    .description('pod↔pod (cross-node, same node), hostNetwork baseline, pod→Service: TCP, UDP, latency; one result file')
    .option('--kubeconfig <file>', 'kubeconfig (default: $KUBECONFIG or ~/.kube/config)')
    .option('--nodes <a,b>', 'client node, server node (default: two Ready, schedulable workers)')
    .option('--repeats <n>', 'runs per test', '3')
    .option('--duration <s>', 'seconds per run', '10')
    .option('--image <ref>', 'benchmark image carrying iperf3 (and sockperf for latency)', DEFAULT_IMAGE)
    .option('--udp-rate <rate>', 'UDP offered rate (iperf3 -b)', '1G')
    .option('--name <run>', 'run name: the namespace is cnlab-<run> (default: from the time)')
    .option('--pod-timeout <s>', 'seconds a pod may take to start', '60')
    .option('-o, --out <dir>', 'output directory (default: results/<timestamp>)')
    .option('--dry-run', 'print every object the run would create (YAML documents) and create nothing')
    .action(async (f: RunFlags) => {
      const repeats = positiveInt('--repeats', f.repeats, 100);
      const seconds = positiveInt('--duration', f.duration, 3600);
      const podTimeoutMs = positiveInt('--pod-timeout', f.podTimeout, 3600) * 1000;
      const run = checkRunName(f.name ?? new Date().toISOString().replace(/[-:T]/g, '').slice(0, 14));
      const nodes = f.nodes?.split(',').map((s) => s.trim());
      if (nodes && nodes.some((n) => !/^[a-z0-9]([a-z0-9.-]{0,251}[a-z0-9])?$/.test(n)))
        throw new InputError(`invalid --nodes "${f.nodes}"`);
      if (!/^\d+(\.\d+)?[KMGT]?$/i.test(f.udpRate)) throw new InputError(`invalid --udp-rate "${f.udpRate}"`);
      if (f.dryRun) {
        const pair = (nodes ? chooseNodes([], nodes).nodes : ['<client-node>', '<server-node>']) as [string, string];
        const o = runObjects(run, f.image, pair);
        const clients = k8sTests(f.udpRate).map((t) => clientPod(run, f.image, pair, t, 1, seconds, ''));
        out([o.namespace, ...o.servers, o.service, ...clients].map((x) => dumpYaml(x)).join('---\n'));
        return;
      }
      const c = connect(f.kubeconfig);
      const { file } = await k8sRun(c, {
        run,
        image: f.image,
        nodes,
        repeats,
        seconds,
        udpRate: f.udpRate,
        out: f.out ?? defaultOutDir(),
        podTimeoutMs,
        argv: process.argv.slice(2),
        log: err,
      });
      out(`result: ${file}`);
    });
  k8s
    .command('clean')
    .description("delete every namespace carrying cnlab's label (app.kubernetes.io/managed-by=cnlab), and nothing else")
    .option('--kubeconfig <file>', 'kubeconfig (default: $KUBECONFIG or ~/.kube/config)')
    .action(async (f: { kubeconfig?: string }) => {
      const c = connect(f.kubeconfig);
      const names = await managedNamespaces(c);
      for (const n of names) {
        await deleteNamespace(c, n);
        out(`deleted namespace ${n}`);
      }
      if (!names.length) out("no namespace carries cnlab's label");
    });
}
