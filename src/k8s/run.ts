import { join } from 'node:path';
import type { V1Node, V1Pod } from '@kubernetes/client-node';
import { RunError } from '../errors.js';
import { VERSION } from '../version.js';
import { loadTopology } from '../lab/topology.js';
import { deriveAll } from '../result/derive.js';
import { writeResult } from '../result/write.js';
import { RESULT_FORMAT, RESULT_VERSION, type ResultFile, type RunRecord, type SchemeRecord, type TestRecord } from '../result/types.js';
import type { ClusterInfo } from '../result/cluster.js';
import { toolOf } from '../runners/registry.js';
import { createNamespace, createService, deleteNamespace, listNodes, podLog, serverVersion, type Cluster } from './api.js';
import { namespaceName } from './manifests.js';
import { chooseNodes, nodeFacts, nodeName } from './nodes.js';
import { clusterCni } from './facts.js';
import { runObjects, samplerPod, type K8sTest } from './plan.js';
import { containerFailure, startPod } from './pods.js';
import { K8S_CPU_METHOD, lastSample, measureRun, serverFailures, type MeasureContext } from './measure.js';

export interface K8sRunOptions {
  run: string;
  image: string;
  nodes?: string[];
  repeats: number;
  seconds: number;
  udpRate: string;
  /** What to measure (k8sTests, perhaps narrowed by --tests). */
  tests: K8sTest[];
  out: string;
  podTimeoutMs: number;
  argv: string[];
  log: (line: string) => void;
}

/** Deletes the namespace on SIGINT/SIGTERM, then exits 128 + signal; returns the uninstaller. */
function onInterrupt(cluster: Cluster, ns: string, log: (l: string) => void): () => void {
  const handler = (sig: NodeJS.Signals) => {
    log(`${sig}: deleting namespace ${ns}`);
    void deleteNamespace(cluster, ns)
      .catch((e: Error) => log(`could not delete namespace ${ns}: ${e.message}`))
      .finally(() => process.exit(128 + (sig === 'SIGINT' ? 2 : 15)));
  };
  process.on('SIGINT', handler);
  process.on('SIGTERM', handler);
  return () => {
    process.off('SIGINT', handler);
    process.off('SIGTERM', handler);
  };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const podIp = (p: V1Pod) => p.status?.podIP ?? '';

/**
 * One CPU sampler pod per kernel among the two nodes (nodes reporting one boot ID share a kernel:
 * sampling both would count its CPU twice). A sampler that does not start leaves CPU unmeasured.
 */
async function startSamplers(
  c: Cluster,
  o: K8sRunOptions,
  all: V1Node[],
  nodes: [string, string],
): Promise<{ samplers: string[]; method: string }> {
  const boot = (n: string) => all.find((x) => nodeName(x) === n)?.status?.nodeInfo?.bootID || n;
  const kernels = [...new Map(nodes.map((n) => [boot(n), n])).values()];
  const samplers: string[] = [];
  for (const [i, node] of kernels.entries()) {
    const p = await startPod(c, samplerPod(o.run, o.image, node, i), o.podTimeoutMs, 'running');
    const why =
      p.status?.phase !== 'Running' ? `phase ${p.status?.phase}` : p.status.containerStatuses?.map(containerFailure).find(Boolean);
    if (why) {
      o.log(`CPU sampler on ${node} did not start (${why}): CPU not measured`);
      return { samplers: [], method: `not measured: the CPU sampler pod on ${node} did not start (${why})` };
    }
    samplers.push(p.metadata!.name!);
    // Its first line, so that the first test has a "before".
    for (let t = 0; t < 50 && !lastSample(await podLog(c, p.metadata!.namespace!, p.metadata!.name!, 3)); t++) await sleep(100);
  }
  return { samplers, method: `${K8S_CPU_METHOD}; sampled on ${kernels.join(', ')}` };
}

/** Measures the cluster's installed CNI; everything lives in namespace cnlab-<run>, deleted at the end. */
export async function k8sRun(cluster: Cluster, o: K8sRunOptions): Promise<{ file: string; result: ResultFile }> {
  const version = await serverVersion(cluster);
  const all = await listNodes(cluster);
  const { nodes, chosen } = chooseNodes(all, o.nodes);
  if (chosen) o.log(`nodes chosen: ${nodes[0]} (clients), ${nodes[1]} (servers) — name others with --nodes`);
  const ns = namespaceName(o.run);
  const objs = runObjects(o.run, o.image, nodes);
  const tests = o.tests;
  const off = onInterrupt(cluster, ns, o.log);
  await createNamespace(cluster, o.run);
  try {
    const [srvPod, srvHost] = [
      await startPod(cluster, objs.servers[0], o.podTimeoutMs, 'running'),
      await startPod(cluster, objs.servers[1], o.podTimeoutMs, 'running'),
    ];
    for (const s of [srvPod, srvHost])
      if (s.status?.phase !== 'Running') throw new RunError(`server pod ${s.metadata?.name} ended (${s.status?.phase})`);
    const failed = { pod: serverFailures(srvPod), host: serverFailures(srvHost), service: serverFailures(srvPod) };
    for (const [tool, why] of new Map([...failed.host, ...failed.pod])) o.log(`${tool}: ${why}; its tests are reported as failed`);
    const svc = await createService(cluster, objs.service);
    const targets = { pod: podIp(srvPod), host: podIp(srvHost), service: svc.spec?.clusterIP ?? '' };
    const cpu = await startSamplers(cluster, o, all, nodes);
    const { cni, podMtu } = await clusterCni(cluster, all, {
      run: o.run,
      image: o.image,
      node: nodes[1],
      timeoutMs: o.podTimeoutMs,
      log: o.log,
    });
    o.log(
      `CNI: ${cni.name}${cni.version ? ` ${cni.version}` : ''} (${cni.detectedFrom})${podMtu ? `; MTU inside the pods ${podMtu}` : ''}`,
    );
    const ctx: MeasureContext = {
      cluster,
      run: o.run,
      ns,
      image: o.image,
      nodes,
      seconds: o.seconds,
      podTimeoutMs: o.podTimeoutMs,
      targets,
      samplers: cpu.samplers,
      failed,
    };
    const byNetwork = new Map<string, TestRecord[]>();
    for (const t of tests) {
      const runs: RunRecord[] = [];
      for (let r = 1; r <= o.repeats; r++) {
        const f = await measureRun(ctx, t, r);
        runs.push(f);
        o.log(
          `${t.network === 'host' ? 'host' : `k8s-${cni.name}`} ${t.spec.id} #${r}: ${f.ok ? (f.gbps !== undefined ? `${f.gbps.toFixed(2)} Gbit/s` : `p50 ${f.latency?.p50Us ?? f.latencyUs} µs`) : f.error}`,
        );
      }
      const scheme = t.network === 'host' ? 'host' : `k8s-${cni.name}`;
      const clientNode = t.spec.placement === 'same' ? nodes[1] : nodes[0];
      const rec: TestRecord = {
        ...t.spec,
        client: { node: clientNode, ns: `${ns}/cl-*` },
        server: { node: nodes[1], ns: `${ns}/${t.network === 'host' ? 'srv-host' : 'srv-pod'}` },
        target: targets[t.network],
        runs,
        metric: toolOf(t.spec).mainMetric(t.spec),
      };
      byNetwork.set(scheme, [...(byNetwork.get(scheme) ?? []), rec]);
    }
    const facts = all.filter((n) => nodes.includes(nodeName(n))).map(nodeFacts);
    const info: ClusterInfo = {
      kubernetesVersion: version,
      server: cluster.server,
      cni,
      ...(podMtu ? { podMtu } : {}),
      nodes: facts,
      namespace: ns,
      image: o.image,
    };
    // The host scheme first, as on a box: deriveAll takes each test's ratio to host from the host figures derived before it.
    const ordered = [...byNetwork].sort(([a], [b]) => Number(b === 'host') - Number(a === 'host'));
    const schemes: SchemeRecord[] = ordered.map(([name, tests]) => ({
      name,
      status: 'ok',
      summary:
        name === 'host'
          ? 'hostNetwork pods: the nodes’ own network, the baseline'
          : `pods on the cluster’s CNI (${cni.name}, ${cni.detectedFrom})`,
      attach: 'none',
      notes: [`Kubernetes mode: measured through the API server ${cluster.server}`],
      overhead: 0,
      tests,
    }));
    const now = new Date().toISOString();
    const result: ResultFile = {
      format: RESULT_FORMAT,
      version: RESULT_VERSION,
      cnlab: { version: VERSION, argv: o.argv },
      createdAt: now,
      updatedAt: now,
      complete: true,
      environment: {
        kernel: facts[0]?.kernel ?? 'unknown',
        cpuModel: `cluster nodes ${facts.map((f) => `${f.name}: ${f.cpus} CPUs ${f.arch}`).join('; ')}`,
        cpus: Number(facts[0]?.cpus) || 0,
        node: nodes.join(','),
        tools: {},
        cpuMethod: cpu.method,
      },
      topology: loadTopology({ lab: 'k8s', hosts: 2 }),
      options: { repeats: o.repeats, seconds: o.seconds, udpRate: o.udpRate, tests: tests.map((t) => t.spec) },
      schemes,
      cluster: info,
    };
    deriveAll(result, { comparisons: true });
    const file = join(o.out, 'result.json');
    writeResult(file, result);
    return { file, result };
  } finally {
    off();
    await deleteNamespace(cluster, ns);
  }
}
