import type { V1Namespace, V1Pod, V1Service } from '@kubernetes/client-node';
import type { TestSpec } from '../result/types.js';
import { latencyTest, qperfTests, tcpTest, udpLengthTest, udpTest, UDP_LENGTHS } from '../measure/tests.js';
import { LOAD_LEAD_SECONDS } from '../measure/execute.js';
import { LOAD_TOOL, TOOLS, toolOf, type ToolName } from '../runners/registry.js';
import { SERVICE_PORT } from '../lab/ports.js';
import { serverArgv as qperfServerArgv } from '../runners/qperf.js';
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
/**
 * Each tool's server port: all three servers run side by side in one pod, so they get a port each
 * (iperf3 TCP and UDP, sockperf TCP, qperf control and UDP data, qperf TCP data one above).
 */
export const PORTS: Record<ToolName, number> = { iperf3: SERVICE_PORT, sockperf: SERVICE_PORT + 2, qperf: SERVICE_PORT + 3 };
/** The sampler prints the node's aggregate /proc/stat line this often. */
export const SAMPLE_SECONDS = 0.2;

const svc = (t: TestSpec): TestSpec => ({ ...t, id: `svc-${t.id}` });

export interface K8sTestOptions {
  udpRate: string;
  /** --full: UDP datagram-size and qperf message-size sweeps, across nodes, for pods and the hostNetwork baseline. */
  full?: { sizes: number[] };
}

/** Pure: the tests of one run. */
export function k8sTests(o: K8sTestOptions): K8sTest[] {
  const sweeps = (p: 'cross') =>
    o.full
      ? [
          ...UDP_LENGTHS.map((l) => udpLengthTest(l, o.udpRate, p)),
          ...(['tcp_bw', 'tcp_lat'] as const).flatMap((q) => qperfTests(q, o.full!.sizes, p)),
        ]
      : [];
  const both = (p: 'cross' | 'same') => [tcpTest(1, p), udpTest(o.udpRate, p), latencyTest('tcp', p)];
  const loaded = latencyTest('tcp', 'cross', true);
  return [
    ...[...both('cross'), loaded, ...both('same'), ...sweeps('cross')].map((spec) => ({ network: 'pod' as const, spec })),
    ...[...both('cross'), loaded, ...sweeps('cross')].map((spec) => ({ network: 'host' as const, spec })),
    ...[tcpTest(1, 'cross'), udpTest(o.udpRate, 'cross')].map((spec) => ({ network: 'service' as const, spec: svc(spec) })),
  ];
}

/** Pure: a tool's argv as a container command (the tools' builders add `ip netns exec <ns>`; a container is its own namespace). */
export function containerCommand(argv: string[]): string[] {
  const i = argv.indexOf('exec');
  const bare = argv[0] === 'ip' && argv[1] === 'netns' && i === 2 ? argv.slice(4) : argv;
  return bare.map((a) => (a === SENTINEL ? `$(${TARGET_VAR})` : a));
}

type Ports = { port: number; protocol: 'TCP' | 'UDP' }[];
const tcpUdp = (port: number): Ports => [
  { port, protocol: 'TCP' },
  { port, protocol: 'UDP' },
];

/** One container per tool; a tool the image lacks fails its container alone, and its tests are "not in image". */
function serverContainers(): { name: ToolName; command: string[]; ports: Ports }[] {
  return [
    { name: 'iperf3', command: ['iperf3', '-s', '-p', String(PORTS.iperf3)], ports: tcpUdp(PORTS.iperf3) },
    {
      name: 'sockperf',
      command: containerCommand(sockperfServerArgv({ ns: '-', ip: '0.0.0.0', port: PORTS.sockperf, protocol: 'tcp' })),
      ports: [{ port: PORTS.sockperf, protocol: 'TCP' }],
    },
    {
      name: 'qperf',
      command: containerCommand(qperfServerArgv({ ns: '-', port: PORTS.qperf })),
      ports: [...tcpUdp(PORTS.qperf), { port: PORTS.qperf + 1, protocol: 'TCP' }],
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
    service: service(run, SERVICE_NAME, SERVER_POD.pod, tcpUdp(PORTS.iperf3)),
  };
}

/**
 * The CPU sampler of one node: hostNetwork and hostPID, printing the node's aggregate /proc/stat
 * line every SAMPLE_SECONDS; the run reads its log's last line before and after each test.
 */
export function samplerPod(run: string, image: string, node: string, index: number): V1Pod {
  const loop = `while :; do read -r l < /proc/stat; echo "$l"; sleep ${SAMPLE_SECONDS}; done`;
  return pod({
    run,
    name: `cpu-${index}`,
    role: 'probe',
    node,
    image,
    hostNetwork: true,
    hostPID: true,
    containers: [{ name: 'sampler', command: ['sh', '-c', loop] }],
  });
}

/** Pure: a one-shot pod's name, unique in the run: hostNetwork tests share their ids with the pod network's. */
const podName = (prefix: string, t: K8sTest, repeat: number) =>
  `${prefix}-${t.network === 'host' ? 'host-' : ''}${t.spec.id.replace(/[^a-z0-9]+/g, '-')}-${repeat}`.slice(0, 63);

function oneShot(run: string, image: string, node: string, t: K8sTest, name: string, argv: string[], target: string): V1Pod {
  const p = pod({
    run,
    name,
    role: 'client',
    node,
    image,
    hostNetwork: t.network === 'host',
    containers: [{ name: 'client', command: containerCommand(argv) }],
  });
  p.spec!.containers[0].env = [{ name: TARGET_VAR, value: target }];
  return p;
}

const clientNode = (nodes: [string, string], t: K8sTest) => (t.spec.placement === 'same' ? nodes[1] : nodes[0]);

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
  const argv = tool.clientArgv(t.spec, { ns: '-', target: SENTINEL, port: PORTS[tool.name], seconds });
  return oneShot(run, image, clientNode(nodes, t), t, podName('cl', t, repeat), argv, target);
}

/** Pure: how long the bulk flow of a latency-under-load run lasts (it covers the probe's settling and measured part, as on a box). */
export const loadSeconds = (t: K8sTest, seconds: number): number =>
  LOAD_LEAD_SECONDS + toolOf(t.spec).settleSeconds + seconds + LOAD_LEAD_SECONDS;

/** The bulk TCP flow beside a latency-under-load client, from the same node to the same server pod. */
export function loadPod(
  run: string,
  image: string,
  nodes: [string, string],
  t: K8sTest,
  repeat: number,
  seconds: number,
  target: string,
): V1Pod {
  const bulk: TestSpec = { id: t.spec.id, protocol: 'tcp', streams: t.spec.underLoad?.streams ?? 1, placement: t.spec.placement };
  const argv = TOOLS[LOAD_TOOL].clientArgv(bulk, { ns: '-', target: SENTINEL, port: PORTS[LOAD_TOOL], seconds: loadSeconds(t, seconds) });
  return oneShot(run, image, clientNode(nodes, t), t, podName('ld', t, repeat), argv, target);
}
