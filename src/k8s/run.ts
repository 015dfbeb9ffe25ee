import { join } from 'node:path';
import type { V1Pod } from '@kubernetes/client-node';
import { RunError } from '../errors.js';
import { VERSION } from '../version.js';
import { loadTopology } from '../lab/topology.js';
import { deriveAll } from '../result/derive.js';
import { writeResult } from '../result/write.js';
import { RESULT_FORMAT, RESULT_VERSION, type ResultFile, type RunRecord, type SchemeRecord, type TestRecord } from '../result/types.js';
import type { ClusterInfo } from '../result/cluster.js';
import { figures as iperf3Figures, parse as iperf3Parse } from '../runners/iperf3.js';
import { figures as sockperfFigures, parse as sockperfParse } from '../runners/sockperf.js';
import { toolOf } from '../runners/registry.js';
import { createNamespace, createService, deleteNamespace, listNodes, serverVersion, type Cluster } from './api.js';
import { namespaceName } from './manifests.js';
import { chooseNodes, detectCni, nodeFacts, nodeName } from './nodes.js';
import { clientPod, k8sTests, runObjects, type K8sTest } from './plan.js';
import { runOnce, startPod } from './pods.js';

export interface K8sRunOptions {
  run: string;
  image: string;
  nodes?: string[];
  repeats: number;
  seconds: number;
  udpRate: string;
  out: string;
  podTimeoutMs: number;
  argv: string[];
  log: (line: string) => void;
}

/** Pure: a client's log → the run's figures, through the same parse functions as on a box. */
export function runFigures(t: K8sTest, log: string): Pick<RunRecord, 'ok' | 'error'> & Partial<RunRecord> {
  if (/exec of .* failed|executable file not found|not found in \$PATH/i.test(log))
    return { ok: false, error: `not in image: ${toolOf(t.spec).name}` };
  const f = t.spec.kind === 'sockperf' ? sockperfFigures(sockperfParse(log, t.spec.protocol)) : iperf3Figures(iperf3Parse(log), log);
  return 'ok' in f && f.ok === false ? { ok: false, error: f.error } : { ok: true, ...f };
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

const podIp = (p: V1Pod) => p.status?.podIP ?? '';

/** Measures the cluster's installed CNI; everything lives in namespace cnlab-<run>, deleted at the end. */
export async function k8sRun(cluster: Cluster, o: K8sRunOptions): Promise<{ file: string; result: ResultFile }> {
  const version = await serverVersion(cluster);
  const all = await listNodes(cluster);
  const { nodes, chosen } = chooseNodes(all, o.nodes);
  if (chosen) o.log(`nodes chosen: ${nodes[0]} (clients), ${nodes[1]} (servers) — name others with --nodes`);
  const ns = namespaceName(o.run);
  const objs = runObjects(o.run, o.image, nodes);
  const off = onInterrupt(cluster, ns, o.log);
  await createNamespace(cluster, o.run);
  try {
    const [srvPod, srvHost] = [
      await startPod(cluster, objs.servers[0], o.podTimeoutMs, 'running'),
      await startPod(cluster, objs.servers[1], o.podTimeoutMs, 'running'),
    ];
    for (const s of [srvPod, srvHost])
      if (s.status?.phase !== 'Running') throw new RunError(`server pod ${s.metadata?.name} ended (${s.status?.phase})`);
    const svc = await createService(cluster, objs.service);
    const targets = { pod: podIp(srvPod), host: podIp(srvHost), service: svc.spec?.clusterIP ?? '' };
    const cni = detectCni(all);
    const byNetwork = new Map<string, TestRecord[]>();
    for (const t of k8sTests(o.udpRate)) {
      const runs: RunRecord[] = [];
      for (let r = 1; r <= o.repeats; r++) {
        const startedAt = new Date().toISOString();
        const p = clientPod(o.run, o.image, nodes, t, r, o.seconds, targets[t.network]);
        const done = await runOnce(cluster, p, o.seconds * 1000 + o.podTimeoutMs);
        const f = runFigures(t, done.log);
        runs.push({ repeat: r, startedAt, argv: p.spec!.containers[0].command!, raw: done.log, ...f });
        o.log(
          `${t.network === 'host' ? 'host' : `k8s-${cni.name}`} ${t.spec.id} #${r}: ${f.ok ? (f.gbps !== undefined ? `${f.gbps.toFixed(2)} Gbit/s` : `p50 ${f.latency?.p50Us} µs`) : f.error}`,
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
    const info: ClusterInfo = { kubernetesVersion: version, server: cluster.server, cni, nodes: facts, namespace: ns, image: o.image };
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
        cpuMethod: 'not measured in Kubernetes mode',
      },
      topology: loadTopology({ lab: 'k8s', hosts: 2 }),
      options: { repeats: o.repeats, seconds: o.seconds, udpRate: o.udpRate, tests: k8sTests(o.udpRate).map((t) => t.spec) },
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
