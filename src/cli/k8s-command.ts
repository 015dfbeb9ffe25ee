import type { Command } from 'commander';
import type { RunFlags } from './k8s-actions.js';

const DEFAULT_IMAGE = 'docker.io/networkstatic/iperf3:latest';
const KUBECONFIG = ['--kubeconfig <file>', 'kubeconfig (default: $KUBECONFIG or ~/.kube/config)'] as const;
const actions = () => import('./k8s-actions.js');

export function registerK8sCommand(program: Command): void {
  const k8s = program
    .command('k8s')
    .description('Measure the CNI a Kubernetes cluster already runs, through its API (everything in one namespace cnlab-<run>)');
  k8s
    .command('check')
    .description('API reachable, its version, the nodes, their CNI, which two nodes a run would use')
    .option(...KUBECONFIG)
    .action(async (f: { kubeconfig?: string }) => (await actions()).check(f));
  k8s
    .command('run')
    .description(
      'pod↔pod (cross-node, same node), hostNetwork baseline, pod→Service: TCP, UDP loss, latency (alone and under load); one result file',
    )
    .option(...KUBECONFIG)
    .option('--nodes <a,b>', 'client node, server node (default: two Ready, schedulable workers)')
    .option('--repeats <n>', 'runs per test', '3')
    .option('--duration <s>', 'seconds per run', '10')
    .option(
      '--image <ref>',
      'benchmark image carrying iperf3 (sockperf for latency, qperf for --full sweeps: tests of a tool it lacks are "not in image")',
      DEFAULT_IMAGE,
    )
    .option('--udp-rate <rate>', 'UDP offered rate (iperf3 -b)', '1G')
    .option('--name <run>', 'run name: the namespace is cnlab-<run> (default: from the time)')
    .option('--pod-timeout <s>', 'seconds a pod may take to start', '60')
    .option('-o, --out <dir>', 'output directory (default: results/<timestamp>)')
    .option('--full', 'also the message-size sweeps: UDP datagram sizes (iperf3) and qperf tcp_bw/tcp_lat sizes, across nodes')
    .option('--sizes <first:last:*factor>', 'qperf message sizes of --full (default 1:64K:*2)')
    .option('--tests <names>', 'only these tests, by name (the id before "/"), e.g. tcp-1,lat-tcp-loaded,svc-udp')
    .option('--dry-run', 'print every object the run would create (YAML documents) and create nothing')
    .action(async (f: RunFlags) => (await actions()).run(f));
  k8s
    .command('clean')
    .description("delete every namespace carrying cnlab's label (app.kubernetes.io/managed-by=cnlab), and nothing else")
    .option(...KUBECONFIG)
    .action(async (f: { kubeconfig?: string }) => (await actions()).clean(f));
}
