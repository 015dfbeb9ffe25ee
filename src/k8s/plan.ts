import type { V1Namespace, V1Pod, V1Service } from '@kubernetes/client-node';
import type { TestSpec } from '../result/types.js';
import { latencyTest, tcpTest, udpTest } from '../measure/tests.js';
import { toolOf } from '../runners/registry.js';
import { SERVICE_PORT } from '../lab/ports.js';
import { serverArgv as sockperfServerArgv } from '../runners/sockperf.js';
import { namespace, pod, service } from './manifests.js';

/**
 * What a Kubernetes run creates, as typed objects: the same test kinds as on a box — pod↔pod across
 * nodes and on one node, the hostNetwork baseline between the same two nodes, and pod→Service
 * (ClusterIP). Servers run on the second node; clients are one-shot pods on the first (cross) or
 * the second (same). The target address is the container's $(CNLAB_TARGET), which Kubernetes
 * expands from the client's env, so the manifests are the same whether printed or applied.
 */

export type Network = 'pod' | 'host' | 'service';
export interface K8sTest {
  network: Network;
  spec: TestSpec;
}

export const SERVER_POD = { pod: 'srv-pod', host: 'srv-host' } as const;
export const SERVICE_NAME = 'srv-svc';
export const TARGET_VAR = 'CNLAB_TARGET';
/** Any valid address for the tools' argv checks; replaced by $(CNLAB_TARGET) in the manifests. */
const SENTINEL = '198.19.255.254';
const LAT_PORT = SERVICE_PORT + 2;

const svc = (t: TestSpec): TestSpec => ({ ...t, id: `svc-${t.id}` });

/** Pure: the tests of one run. */
export function k8sTests(udpRate: string): K8sTest[] {
  const pod = ['cross', 'same'] as const;
  return [
    ...pod.flatMap((p) => [tcpTest(1, p), udpTest(udpRate, p), latencyTest('tcp', p)].map((spec) => ({ network: 'pod' as const, spec }))),
    ...[tcpTest(1, 'cross'), udpTest(udpRate, 'cross'), latencyTest('tcp', 'cross')].map((spec) => ({ network: 'host' as const, spec })),
    ...[tcpTest(1, 'cross'), udpTest(udpRate, 'cross')].map((spec) => ({ network: 'service' as const, spec: svc(spec) })),
  ];
}

/** Pure: a tool's argv as a container command (the tools' builders add `ip netns exec <ns>`; a container is its own namespace). */
export function containerCommand(argv: string[]): string[] {
  const i = argv.indexOf('exec');
  const bare = argv[0] === 'ip' && argv[1] === 'netns' && i === 2 ? argv.slice(4) : argv;
  return bare.map((a) => (a === SENTINEL ? `$(${TARGET_VAR})` : a));
}

function serverContainers() {
  return [
    {
      name: 'iperf3',
      command: ['iperf3', '-s', '-p', String(SERVICE_PORT)],
      ports: [
        { port: SERVICE_PORT, protocol: 'TCP' as const },
        { port: SERVICE_PORT, protocol: 'UDP' as const },
      ],
    },
    {
      name: 'sockperf',
      command: containerCommand(sockperfServerArgv({ ns: '-', ip: '0.0.0.0', port: LAT_PORT, protocol: 'tcp' })),
      ports: [{ port: LAT_PORT, protocol: 'TCP' as const }],
    },
  ];
}

export interface RunObjects {
  namespace: V1Namespace;
  servers: V1Pod[];
  service: V1Service;
}

export function runObjects(run: string, image: string, nodes: [string, string]): RunObjects {
  const server = (network: 'pod' | 'host') =>
    pod({
      run,
      name: SERVER_POD[network],
      role: 'server',
      node: nodes[1],
      image,
      hostNetwork: network === 'host',
      containers: serverContainers(),
    });
  return {
    namespace: namespace(run),
    servers: [server('pod'), server('host')],
    service: service(run, SERVICE_NAME, SERVER_POD.pod, [
      { port: SERVICE_PORT, protocol: 'TCP' },
      { port: SERVICE_PORT, protocol: 'UDP' },
    ]),
  };
}

/** A client pod of one repeat of a test; its env gives the target ("" in a dry run: filled in at run time). */
export function clientPod(
  run: string,
  image: string,
  nodes: [string, string],
  t: K8sTest,
  repeat: number,
  seconds: number,
  target: string,
): V1Pod {
  const tool = toolOf(t.spec);
  const argv = tool.clientArgv(t.spec, { ns: '-', target: SENTINEL, port: tool.server(t.spec).port, seconds });
  const name = `cl-${t.spec.id.replace(/[^a-z0-9]+/g, '-')}-${repeat}`.slice(0, 63);
  const p = pod({
    run,
    name,
    role: 'client',
    node: t.spec.placement === 'same' ? nodes[1] : nodes[0],
    image,
    hostNetwork: t.network === 'host',
    containers: [{ name: tool.name, command: containerCommand(argv) }],
  });
  p.spec!.containers[0].env = [{ name: TARGET_VAR, value: target }];
  return p;
}
