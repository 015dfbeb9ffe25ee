import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { V1Pod } from '@kubernetes/client-node';
import { parseAllDocuments } from 'yaml';
import { Namespace, Pod, Service } from 'kubernetes-models/v1';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { trackProcess } from '../src/apply/state.js';
import { readResult } from '../src/result/read.js';
import { getScheme } from '../src/schemes/registry.js';
import { CLI, cli, isRoot, useLab, type Run } from './helpers/lab.js';
import { FakeApiServer, relay } from './helpers/k8s-api-server.js';

/**
 * Kubernetes mode end to end against the stand-in API server (test/helpers/k8s-api-server.ts):
 * a flannel-vxlan lab of two hosts plays the cluster and its CNI, the "pods" are real iperf3 and
 * sockperf processes in the lab's namespaces, so every figure is a real measurement; only the API
 * is a stand-in. The CLI runs in host 1's namespace and reaches the API on host 1's lab address.
 * Lab: k3.
 */

const PORT = 6443;
/** An image carrying iperf3 alone (the stand-in lets its pods run no other program). */
const THIN_IMAGE = 'stand-in.invalid/iperf3-only';
/** What flannel's manifest runs (kube-flannel namespace, as its current manifest has it); the tag marks the stand-in. */
const FLANNEL_DS = {
  apiVersion: 'apps/v1',
  kind: 'DaemonSet',
  metadata: { name: 'kube-flannel-ds', namespace: 'kube-flannel', labels: { app: 'flannel', 'k8s-app': 'flannel' } },
  spec: {
    selector: { matchLabels: { app: 'flannel' } },
    template: {
      metadata: { labels: { app: 'flannel' } },
      spec: {
        hostNetwork: true,
        initContainers: [{ name: 'install-cni-plugin', image: 'stand-in.invalid/flannel-cni-plugin:v1.5.1-stand-in' }],
        containers: [{ name: 'kube-flannel', image: 'stand-in.invalid/flannel:v0.26.1-stand-in' }],
      },
    },
  },
  status: { currentNumberScheduled: 2, numberMisscheduled: 0, desiredNumberScheduled: 2, numberReady: 2 },
};
const NODES = [
  { name: 'worker-1', host: 0 },
  { name: 'worker-2', host: 1 },
  { name: 'worker-3', taints: [{ key: 'dedicated', value: 'db', effect: 'NoSchedule' as const }] },
];

describe.skipIf(!isRoot)('cnlab k8s against the stand-in API server', () => {
  // Five pod slots per node: two runs side by side, each with a server pod and two clients on one node, and a run's facts pod.
  const lab = useLab('k3', getScheme('flannel-vxlan'), { flags: { hosts: 2, containers: 5 } });
  const dir = mkdtempSync(join(tmpdir(), 'cnlab-ks-'));
  const kubeconfig = join(dir, 'kubeconfig');
  let api: FakeApiServer;
  let fwd: ChildProcess;
  let h1ns = '';

  /** The CLI inside host 1's namespace (ip netns exec replaces itself with node: the pid is the CLI's). */
  const k8sCli = (args: string[]) =>
    spawn('ip', ['netns', 'exec', h1ns, 'node', CLI, 'k8s', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  const finish = (c: ChildProcess): Promise<Run> =>
    new Promise((resolve) => {
      let stdout = '';
      let stderr = '';
      c.stdout!.on('data', (d: Buffer) => (stdout += d.toString()));
      c.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
      c.once('exit', (code) => resolve({ code, stdout, stderr }));
    });

  beforeAll(async () => {
    const up = lab.up;
    h1ns = up.lab.hosts[0].ns;
    api = new FakeApiServer(up, NODES, { [THIN_IMAGE]: ['iperf3', 'sh'] }, [FLANNEL_DS]);
    const sock = join(dir, 'api.sock');
    await api.listen(sock);
    fwd = relay(h1ns, up.lab.hosts[0].underlayIp, PORT, sock);
    trackProcess(up.state, fwd.pid!, h1ns, 'k8s-api-relay', ['node', '-e', '(relay)']);
    await new Promise((r) => fwd.stdout!.once('data', r));
    writeFileSync(
      kubeconfig,
      JSON.stringify({
        apiVersion: 'v1',
        kind: 'Config',
        clusters: [
          { name: 'stand-in', cluster: { server: `http://${up.lab.hosts[0].underlayIp}:${PORT}`, 'insecure-skip-tls-verify': true } },
        ],
        users: [{ name: 'nobody', user: {} }],
        contexts: [{ name: 'stand-in', context: { cluster: 'stand-in', user: 'nobody' } }],
        'current-context': 'stand-in',
      }),
    );
  });

  afterAll(async () => {
    fwd?.kill('SIGKILL');
    await api?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('measures pod↔pod, hostNetwork and pod→Service into a result file that report and compare read; the namespace is gone after', async () => {
    const out = join(dir, 'run1');
    const quick = ['--repeats', '1', '--duration', '1', '--udp-rate', '200M'];
    // Beside it, --full with an image carrying iperf3 alone: a sweep iperf3 runs, the rest "not in image";
    // and its namespace's admission refuses hostPath volumes: the facts pod reads the MTU alone.
    api.noHostPath.add('cnlab-ks6');
    // Its servers on the other node: two hostNetwork servers on one node would want the same ports.
    const thin = finish(
      k8sCli([
        'run',
        '--kubeconfig',
        kubeconfig,
        ...quick,
        '--full',
        '--sizes',
        '1K:1K:*2',
        '--tests',
        'tcp-1,lat-tcp,udp-len1472,qperf-tcp_lat-1024',
        '--image',
        THIN_IMAGE,
        '--nodes',
        'worker-2,worker-1',
        '--name',
        'ks6',
        '-o',
        join(dir, 'run6'),
      ]),
    );
    // The default tests, and one qperf sweep point run end to end (the box carries qperf).
    const withQperf = ['--full', '--sizes', '1K:1K:*2', '--tests', 'tcp-1,udp,lat-tcp,lat-tcp-loaded,svc-tcp-1,svc-udp,qperf-tcp_lat-1024'];
    const r = await finish(k8sCli(['run', '--kubeconfig', kubeconfig, ...quick, ...withQperf, '--name', 'ks1', '-o', out]));
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toContain('nodes chosen: worker-1 (clients), worker-2 (servers)');
    const file = join(out, 'result.json');
    const result = readResult(file);
    // The CNI: named by the DaemonSet, its backend by the node annotation; the node's conflist
    // (the lab's, read by the facts pod through its hostPath) gives the plugin and MTU; eth0's MTU inside a pod.
    const mtu = lab.up.build.mtu;
    expect(result.cluster).toMatchObject({
      kubernetesVersion: 'v1.31.0-cnlab-stand-in',
      cni: { name: 'flannel-vxlan', version: 'v0.26.1-stand-in', plugin: 'bridge', configMtu: mtu, configNode: 'worker-2' },
      podMtu: mtu,
      namespace: 'cnlab-ks1',
    });
    expect(mtu).toBe(1450);
    expect(result.cluster!.cni.detectedFrom).toMatch(
      /^DaemonSet kube-flannel\/kube-flannel-ds, image stand-in\.invalid\/flannel:v0\.26\.1-stand-in \(version: its image tag\); backend from node annotation/,
    );
    expect(result.cluster!.cni.sources!.map((x) => x.source)).toEqual(['daemonset', 'node-config', 'node-annotation']);
    expect(result.cluster!.cni.configFile).toBe('/etc/cni/net.d/10-cbr0.conflist');
    expect(api.requests).toContain('GET /apis/apps/v1/daemonsets');
    expect(result.cluster!.nodes.map((n) => n.name)).toEqual(['worker-1', 'worker-2']);
    const byName = Object.fromEntries(result.schemes.map((s) => [s.name, s]));
    expect(Object.keys(byName).sort()).toEqual(['host', 'k8s-flannel-vxlan']);
    const pod = byName['k8s-flannel-vxlan'];
    for (const id of ['tcp-1/cross', 'tcp-1/same', 'udp/cross', 'lat-tcp/cross', 'lat-tcp/same', 'svc-tcp-1/cross', 'svc-udp/cross']) {
      const t = pod.tests.find((x) => x.id === id);
      expect(t?.runs[0], `${id}: ${t?.runs[0]?.error}`).toMatchObject({ ok: true });
    }
    expect(pod.tests.find((t) => t.id === 'tcp-1/cross')!.runs[0].gbps).toBeGreaterThan(0.05);
    expect(pod.tests.find((t) => t.id === 'lat-tcp/cross')!.runs[0].latency!.p50Us).toBeGreaterThan(0);
    // qperf end to end: the client pod's log read by the qperf parser, for pods and hostNetwork.
    for (const s of [pod, byName.host]) {
      const q = s.tests.find((t) => t.id === 'qperf-tcp_lat-1024/cross')!.runs[0];
      expect(q, `${s.name} qperf: ${q.error}\n${q.raw}`).toMatchObject({ ok: true });
      expect(q.latencyUs).toBeGreaterThan(0);
      expect(q.argv).toEqual(expect.arrayContaining(['qperf', 'tcp_lat']));
    }
    // Latency under load: the probe beside a bulk flow from the same node, both as one-shot pods.
    for (const s of [pod, byName.host]) {
      const loaded = s.tests.find((t) => t.id === 'lat-tcp-loaded/cross')!.runs[0];
      expect(loaded, `${s.name}: ${loaded.error}`).toMatchObject({ ok: true, load: { ok: true } });
      expect(loaded.load!.gbps).toBeGreaterThan(0.05);
      expect(loaded.latency!.p50Us).toBeGreaterThan(0);
      expect(loaded.load!.argv).toContain('-J');
    }
    // CPU from the sampler pod: one, since both nodes report one boot ID (one kernel).
    const tcp = pod.tests.find((t) => t.id === 'tcp-1/cross')!.runs[0];
    expect(tcp.cpu!.busy).toBeGreaterThan(0);
    expect(tcp.cpu!.total).toBeGreaterThanOrEqual(tcp.cpu!.busy);
    expect(tcp.cpuSecondsPerGbit).toBeGreaterThan(0);
    expect(result.environment.cpuMethod).toMatch(/sampler pod .* sampled on worker-2$/);
    const assigned = api.events
      .filter((e) => e.reason === 'Scheduled' && e.metadata.namespace === 'cnlab-ks1')
      .map((e) => e.involvedObject.name);
    expect(assigned.filter((n: string) => n.startsWith('cpu-'))).toEqual(['cpu-0']);
    // The Service test dialled the ClusterIP, not the pod.
    expect(pod.tests.find((t) => t.id === 'svc-tcp-1/cross')!.target).toMatch(/^198\.19\.250\./);
    const host = byName.host.tests.find((t) => t.id === 'tcp-1/cross')!;
    expect(host.runs[0], host.runs[0].error).toMatchObject({ ok: true });
    expect(host.target).toBe(lab.up.lab.hosts[1].underlayIp);
    expect(pod.tests.find((t) => t.id === 'tcp-1/cross')!.summary!.gbps.median).toBeGreaterThan(0);
    expect(
      pod.tests.find((t) => t.id === 'tcp-1/cross')!.vsHost?.value,
      JSON.stringify([host.summary?.gbps, pod.tests.find((t) => t.id === 'tcp-1/cross')!.summary?.gbps]),
    ).toBeGreaterThan(0);
    // The namespace was deleted, and with it every pod.
    expect(api.namespaces.has('cnlab-ks1')).toBe(false);
    expect([...api.pods.keys()].filter((k) => k.startsWith('cnlab-ks1/'))).toEqual([]);

    const rep = await cli(['report', file, '--out', join(dir, 'rep')]);
    expect(rep.code, rep.stderr).toBe(0);
    expect(readdirSync(join(dir, 'rep'))).toEqual(expect.arrayContaining(['report.html', 'report.md']));
    const md = readFileSync(join(dir, 'rep', 'report.md'), 'utf8');
    expect(md).toContain('### Kubernetes cluster');
    expect(md).toContain(`- MTU inside the pods (eth0): ${mtu}`);
    // Side by side with a result built on a box (cnlab run, real figures): the hostNetwork baseline
    // lines up with the box's host scheme test by test, and the cluster's CNI gets its own rows.
    const box = fileURLToPath(new URL('./fixtures/results/real-4schemes.json', import.meta.url));
    const cmp = await cli(['compare', box, file, '--out', join(dir, 'cmp')]);
    expect(cmp.code, cmp.stderr).toBe(0);
    expect(cmp.stdout).toContain('k8s-flannel-vxlan');
    const csv = readFileSync(join(dir, 'cmp', 'compare.csv'), 'utf8').split(/\r?\n/);
    const cell = (scheme: string, test: string, run: string) => csv.find((l) => l.startsWith(`${scheme},${test},${run},`))?.split(',');
    expect(Number(cell('host', 'tcp-1/cross', 'A')?.[4])).toBeGreaterThan(0);
    const b = cell('host', 'tcp-1/cross', 'B');
    expect(Number(b?.[4]), csv.join('\n')).toBeGreaterThan(0);
    expect(Number(b?.[11])).toBeGreaterThan(0); // the change against the box's host figure
    expect(Number(cell('k8s-flannel-vxlan', 'tcp-1/cross', 'B')?.[8]), csv.join('\n')).toBeGreaterThan(0); // against its own hostNetwork baseline

    const t = await thin;
    expect(t.code, t.stderr).toBe(0);
    expect(t.stderr).toContain('qperf: not in image: qperf');
    const full = readResult(join(dir, 'run6', 'result.json'));
    for (const s of full.schemes) {
      const run = (id: string) => s.tests.find((x) => x.id === id)?.runs[0];
      // --tests kept these, across nodes (and tcp-1, lat-tcp on one node for pods).
      expect(s.tests.map((x) => x.id).sort()).toEqual(
        [
          'lat-tcp/cross',
          'qperf-tcp_lat-1024/cross',
          'tcp-1/cross',
          'udp-len1472/cross',
          ...(s.name === 'host' ? [] : ['lat-tcp/same', 'tcp-1/same']),
        ].sort(),
      );
      const u = run('udp-len1472/cross');
      expect(u, `${s.name} udp-len1472: ${u?.error}\n${u?.raw}`).toMatchObject({ ok: true });
      expect(u!.lossPercent).toBeGreaterThanOrEqual(0);
      expect(run('qperf-tcp_lat-1024/cross')).toMatchObject({ ok: false, error: 'not in image: qperf' });
      expect(run('lat-tcp/cross')).toMatchObject({ ok: false, error: 'not in image: sockperf' });
      expect(run('tcp-1/cross')).toMatchObject({ ok: true });
    }
    expect(full.schemes.map((s) => s.name).sort()).toEqual(['host', 'k8s-flannel-vxlan']);
    expect(full.cluster!.podMtu).toBe(mtu);
    expect(full.cluster!.cni.plugin).toBeUndefined();
    expect(full.cluster!.cni.sources![1].detail).toMatch(
      /^node worker-1 \/etc\/cni\/net\.d not read: create pod facts: admission webhook .* HostPath volumes are forbidden/,
    );
    // Both namespaces are gone, and with them every pod process.
    expect([...api.namespaces.keys()]).toEqual([]);
    expect(api.livePids()).toEqual([]);
  }, 90_000);

  /** Ctrl-C mid-run, two impossible placements and a dry run, side by side (each CLI start costs seconds on a busy box). */
  it('Ctrl-C deletes the namespace; an impossible placement fails in one line; --dry-run prints valid manifests and calls no API', async () => {
    const before = api.requests.length;
    const check = finish(k8sCli(['check', '--kubeconfig', kubeconfig]));
    const dry = cli([
      'k8s',
      'run',
      '--dry-run',
      '--kubeconfig',
      kubeconfig,
      '--nodes',
      'worker-1,worker-2',
      '--name',
      'ks4',
      '--full',
      '--sizes',
      '1K:1K:*2',
    ]);
    const placements = (['worker-3', 'worker-9'] as const).map((node) =>
      finish(
        k8sCli([
          'run',
          '--kubeconfig',
          kubeconfig,
          '--nodes',
          `worker-1,${node}`,
          '--repeats',
          '1',
          '--duration',
          '1',
          '--name',
          `ks3-${node}`,
        ]),
      ),
    );
    const c = k8sCli(['run', '--kubeconfig', kubeconfig, '--repeats', '1', '--duration', '5', '--name', 'ks2', '-o', join(dir, 'run2')]);
    const done = finish(c);
    const clientRunning = () => [...api.pods.keys()].some((k) => k.startsWith('cnlab-ks2/cl-') && api.livePids().length > 0);
    for (let i = 0; i < 600 && !clientRunning(); i++) await new Promise((r) => setTimeout(r, 100));
    expect(api.namespaces.has('cnlab-ks2')).toBe(true);
    c.kill('SIGINT');
    const r = await done;
    expect(r.code, r.stderr).toBe(130);
    expect(r.stderr).toContain('SIGINT: deleting namespace cnlab-ks2');
    expect(api.namespaces.has('cnlab-ks2'), r.stderr + api.requests.slice(-8).join('; ')).toBe(false);
    expect([...api.pods.keys()].filter((k) => k.startsWith('cnlab-ks2/'))).toEqual([]);
    expect(existsSync(join(dir, 'run2', 'result.json'))).toBe(false);

    const reasons = { 'worker-3': /untolerated taint \{dedicated: db\}/, 'worker-9': /didn't match Pod's node affinity\/selector/ };
    for (const [i, [node, reason]] of Object.entries(reasons).entries()) {
      const p = await placements[i];
      expect(p.code, p.stderr).toBe(1);
      const lines = p.stderr.trim().split('\n');
      expect(lines).toHaveLength(1);
      expect(lines[0]).toContain(`cannot be placed on node ${node}: FailedScheduling: 0/3 nodes are available`);
      expect(lines[0]).toMatch(reason);
      expect(api.namespaces.has(`cnlab-ks3-${node}`)).toBe(false);
    }

    const k = await check;
    expect(k.code, k.stderr).toBe(0);
    expect(k.stdout).toContain(`API server http://${lab.up.lab.hosts[0].underlayIp}:${PORT}: Kubernetes v1.31.0-cnlab-stand-in`);
    expect(k.stdout).toMatch(/^node worker-3: kernel \S+, \d+ CPUs/m);
    expect(k.stdout).toContain(
      'CNI: flannel-vxlan v0.26.1-stand-in (DaemonSet kube-flannel/kube-flannel-ds, image stand-in.invalid/flannel:v0.26.1-stand-in (version: its image tag); backend from node annotation flannel.alpha.coreos.com/backend-type)',
    );
    // worker-3 carries a NoSchedule taint: not chosen.
    expect(k.stdout).toContain('a run would use nodes worker-1, worker-2');

    const d = await dry;
    expect(d.code, d.stderr).toBe(0);
    const docs = parseAllDocuments(d.stdout).map((x) => x.toJS() as { kind: string; metadata: { namespace?: string } });
    expect(docs.map((x) => x.kind).slice(0, 4)).toEqual(['Namespace', 'Pod', 'Pod', 'Service']);
    expect(docs.some((x) => (x as { metadata: { name?: string } }).metadata.name === 'facts')).toBe(true);
    expect(docs.filter((x) => x.kind === 'Pod').length).toBeGreaterThan(10);
    const models = { Namespace, Pod, Service } as const;
    for (const x of docs) new models[x.kind as keyof typeof models](x as never).validate();
    const pods = docs.filter((x) => x.kind === 'Pod') as unknown as V1Pod[];
    const named = (prefix: string) => pods.filter((p) => p.metadata!.name!.startsWith(prefix));
    // The CPU samplers (hostNetwork, hostPID), the bulk flow beside the loaded latency probe, --full's sweeps.
    expect(named('cpu-').map((p) => [p.spec!.nodeSelector!['kubernetes.io/hostname'], p.spec!.hostPID, p.spec!.hostNetwork])).toEqual([
      ['worker-1', true, true],
      ['worker-2', true, true],
    ]);
    expect(new Set(pods.map((p) => p.metadata!.name)).size).toBe(pods.length);
    expect(named('ld-lat-tcp-loaded-cross-1')).toHaveLength(1);
    expect(named('ld-host-lat-tcp-loaded-cross-1')[0].spec!.hostNetwork).toBe(true);
    expect(named('cl-qperf-tcp-lat-1024-cross-1')[0].spec!.containers[0].command).toContain('tcp_lat');
    expect(named('cl-udp-len8192-cross-1')).toHaveLength(1);
    expect(named('cl-host-udp-len8192-cross-1')).toHaveLength(1);
    // Nothing in the dry run's namespace was asked of the API.
    expect(api.requests.slice(before).filter((q) => q.includes('cnlab-ks4'))).toEqual([]);
    expect(api.namespaces.has('cnlab-ks4')).toBe(false);
  }, 90_000);

  it("clean deletes the namespaces carrying cnlab's label, and no other", async () => {
    const ns = (name: string, labels?: Record<string, string>) =>
      api.namespaces.set(name, {
        apiVersion: 'v1',
        kind: 'Namespace',
        metadata: { name, ...(labels ? { labels } : {}) },
        status: { phase: 'Active' },
      });
    // Left over by a run that could not clean up (e.g. killed with SIGKILL), beside the cluster's own namespaces.
    ns('cnlab-ks5', { 'app.kubernetes.io/managed-by': 'cnlab', 'cnlab.dev/run': 'ks5' });
    ns('cnlab-lookalike');
    ns('kube-system');
    ns('shop', { 'app.kubernetes.io/managed-by': 'helm' });
    const r = await finish(k8sCli(['clean', '--kubeconfig', kubeconfig]));
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout.trim()).toBe('deleted namespace cnlab-ks5');
    expect([...api.namespaces.keys()].sort()).toEqual(['cnlab-lookalike', 'kube-system', 'shop']);
    expect(api.requests.filter((q) => q.startsWith('DELETE'))).toEqual(expect.arrayContaining(['DELETE /api/v1/namespaces/cnlab-ks5']));
    expect(api.requests.filter((q) => /^DELETE \/api\/v1\/namespaces\/(cnlab-lookalike|kube-system|shop)$/.test(q))).toEqual([]);
    const again = await finish(k8sCli(['clean', '--kubeconfig', kubeconfig]));
    expect(again.stdout.trim()).toBe("no namespace carries cnlab's label");
    for (const n of ['cnlab-lookalike', 'kube-system', 'shop']) api.namespaces.delete(n);
  }, 40_000);
});
