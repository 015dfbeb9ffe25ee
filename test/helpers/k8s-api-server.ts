import { spawn, type ChildProcess } from 'node:child_process';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, release, tmpdir } from 'node:os';
import { join } from 'node:path';
import { trackProcess, untrackProcess } from '../../src/apply/state.js';
import type { UpLab } from '../../src/apply/up.js';
import { sh } from './lab.js';

/**
 * A stand-in Kubernetes API server for tests: exactly the REST calls cnlab makes (version, nodes,
 * namespaces, pods, pod logs, services, events, DaemonSets of all namespaces), with the API's JSON shapes (phases, conditions,
 * events, Status on errors). Its "pods" are real processes in a cnlab lab: a pod-network pod takes
 * the next free container namespace of its node (the lab's scheme plays the CNI), a hostNetwork pod
 * runs in the node's host namespace, and a Service's ClusterIP is a lab address DNATed (nft) in
 * every host namespace to the pod it selects. A scheduler checks nodeSelector and NoSchedule taints
 * and writes FailedScheduling events as kube-scheduler words them. Not a Kubernetes: no watch, no
 * controllers, no auth; a readiness tcpSocket probe is checked with `ss`. Images are not pulled:
 * a container runs the box's program, unless `images` lists what an image carries (a program it
 * lacks fails the container as containerd does). Every node reports this box's boot ID (one kernel).
 * A hostPath volume of /etc/cni/net.d is the node's directory of the stand-in: it holds the
 * conflist the lab's scheme gave that host's containers, and the container's command sees it
 * at its mountPath (the path is substituted in the argv: no mount namespace).
 */

type Json = Record<string, any>;

export interface FakeNode {
  name: string;
  /** Index into the lab's hosts; absent: a node with no lab host (only for scheduling failures). */
  host?: number;
  taints?: { key: string; value: string; effect: 'NoSchedule' }[];
}

interface PodRec {
  obj: Json;
  procs: ChildProcess[];
  log: string;
  slot?: string;
}

/** The nft table of a namespace's Services in every host namespace. */
const svcTable = (ns: string) => `cnlab_k8s_svc_${ns.replace(/[^a-z0-9]/g, '_')}`;
const BOOT_ID = readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim();

export class FakeApiServer {
  readonly server: Server;
  readonly namespaces = new Map<string, Json>();
  readonly pods = new Map<string, PodRec>(); // "<ns>/<name>"
  readonly services = new Map<string, Json>();
  readonly events: Json[] = [];
  /**
   * Namespaces where an admission policy forbids hostPath volumes (as Kyverno's disallow-host-path
   * does, beside hostNetwork allowed): creating such a pod there is refused with 403.
   */
  readonly noHostPath = new Set<string>();
  /** Every request, "METHOD path". */
  readonly requests: string[] = [];
  private busy = new Set<string>();
  private nextSvc = 10;
  /** Per node, its /etc/cni/net.d of the stand-in. */
  private readonly nodeFiles = mkdtempSync(join(tmpdir(), 'cnlab-k8s-nodes-'));

  constructor(
    private readonly up: UpLab,
    private readonly nodes: FakeNode[],
    /** Image → the programs it carries; an image not listed carries every program of the box. */
    private readonly images: Record<string, string[]> = {},
    /** What GET /apis/apps/v1/daemonsets lists. */
    private readonly daemonSets: Json[] = [],
  ) {
    this.server = createServer((req, res) => void this.handle(req, res));
    for (const n of nodes) {
      const host = n.host !== undefined ? up.lab.hosts[n.host] : undefined;
      const dir = join(this.nodeFiles, n.name);
      mkdirSync(dir);
      const step = up.build.stages.flatMap((st) => st.steps).find((x) => x.kind === 'cni' && x.ns === host?.ns);
      if (step?.kind === 'cni') writeFileSync(join(dir, `10-${step.conflist.name}.conflist`), JSON.stringify(step.conflist, null, 2));
    }
  }

  listen(socket: string): Promise<void> {
    return new Promise((r) => this.server.listen(socket, () => r()));
  }

  async close(): Promise<void> {
    for (const ns of [...this.namespaces.keys()]) await this.deleteNamespace(ns);
    await new Promise((r) => this.server.close(r));
    rmSync(this.nodeFiles, { recursive: true, force: true });
  }

  /** Processes of pods still alive. */
  livePids(): number[] {
    return [...this.pods.values()].flatMap((p) => p.procs.filter((c) => c.exitCode === null && c.signalCode === null).map((c) => c.pid!));
  }

  private nodeObj(n: FakeNode): Json {
    const host = n.host !== undefined ? this.up.lab.hosts[n.host] : undefined;
    return {
      apiVersion: 'v1',
      kind: 'Node',
      metadata: {
        name: n.name,
        labels: { 'kubernetes.io/hostname': n.name, 'kubernetes.io/os': 'linux' },
        // What flannel's agent writes on its node; the lab's scheme is flannel-vxlan.
        annotations: { 'flannel.alpha.coreos.com/backend-type': 'vxlan' },
      },
      spec: { ...(n.taints ? { taints: n.taints } : {}), ...(host ? { podCIDR: `${host.podBlock.network}/${host.podBlock.prefix}` } : {}) },
      status: {
        conditions: [{ type: 'Ready', status: 'True', reason: 'KubeletReady', message: 'kubelet is posting ready status' }],
        addresses: host ? [{ type: 'InternalIP', address: host.underlayIp }] : [],
        capacity: { cpu: String(cpus().length) },
        nodeInfo: {
          kernelVersion: release(),
          osImage: 'cnlab test API server (stand-in)',
          architecture: process.arch === 'x64' ? 'amd64' : process.arch,
          kubeletVersion: 'v1.31.0-cnlab-stand-in',
          bootID: BOOT_ID,
        },
      },
    };
  }

  private send(res: ServerResponse, code: number, body: unknown): void {
    res.writeHead(code, { 'content-type': typeof body === 'string' ? 'text/plain' : 'application/json' });
    res.end(typeof body === 'string' ? body : JSON.stringify(body));
  }

  private status(res: ServerResponse, code: number, reason: string, message: string): void {
    this.send(res, code, { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message, reason, code });
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://stand-in');
    this.requests.push(`${req.method} ${url.pathname}`);
    let body: Json = {};
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    if (chunks.length) body = JSON.parse(Buffer.concat(chunks).toString()) as Json;
    const p = url.pathname.split('/').filter(Boolean);
    const m = req.method;
    try {
      if (url.pathname === '/version')
        return this.send(res, 200, { major: '1', minor: '31', gitVersion: 'v1.31.0-cnlab-stand-in', platform: 'linux/amd64' });
      if (url.pathname === '/api/v1/nodes')
        return this.send(res, 200, { kind: 'NodeList', apiVersion: 'v1', metadata: {}, items: this.nodes.map((n) => this.nodeObj(n)) });
      if (url.pathname === '/apis/apps/v1/daemonsets' && m === 'GET')
        return this.send(res, 200, { kind: 'DaemonSetList', apiVersion: 'apps/v1', metadata: {}, items: this.daemonSets });
      if (p[0] === 'api' && p[2] === 'namespaces') {
        const ns = p[3];
        if (!ns && m === 'POST') {
          const name = body.metadata.name as string;
          if (this.namespaces.has(name)) return this.status(res, 409, 'AlreadyExists', `namespaces "${name}" already exists`);
          const obj = {
            ...body,
            metadata: { ...body.metadata, uid: name, creationTimestamp: new Date().toISOString() },
            status: { phase: 'Active' },
          };
          this.namespaces.set(name, obj);
          return this.send(res, 201, obj);
        }
        if (!ns && m === 'GET') {
          const [k, v] = (url.searchParams.get('labelSelector') ?? '=').split('=');
          const items = [...this.namespaces.values()].filter((n) => !k || n.metadata.labels?.[k] === v);
          return this.send(res, 200, { kind: 'NamespaceList', apiVersion: 'v1', metadata: {}, items });
        }
        if (!this.namespaces.has(ns)) return this.status(res, 404, 'NotFound', `namespaces "${ns}" not found`);
        if (p.length === 4 && m === 'DELETE') {
          const obj = this.namespaces.get(ns)!;
          await this.deleteNamespace(ns);
          return this.send(res, 200, { ...obj, status: { phase: 'Terminating' } });
        }
        if (p[4] === 'pods') return await this.podRoute(res, m!, ns, p[5], p[6], body, url.searchParams);
        if (p[4] === 'services' && m === 'POST') return await this.createService(res, ns, body);
        if (p[4] === 'events' && m === 'GET') {
          const name = /involvedObject\.name=([^,]+)/.exec(url.searchParams.get('fieldSelector') ?? '')?.[1];
          const items = this.events.filter((e) => e.metadata.namespace === ns && (!name || e.involvedObject.name === name));
          return this.send(res, 200, { kind: 'EventList', apiVersion: 'v1', metadata: {}, items });
        }
      }
      this.status(res, 404, 'NotFound', `the stand-in API server does not serve ${m} ${url.pathname}`);
    } catch (e) {
      this.status(res, 500, 'InternalError', (e as Error).message);
    }
  }

  private async podRoute(
    res: ServerResponse,
    m: string,
    ns: string,
    name: string | undefined,
    sub: string | undefined,
    body: Json,
    query: URLSearchParams,
  ) {
    if (!name && m === 'POST') {
      if (this.noHostPath.has(ns) && ((body.spec?.volumes ?? []) as Json[]).some((v) => v.hostPath))
        return this.status(
          res,
          403,
          'Forbidden',
          `admission webhook "validate.kyverno.svc-fail" denied the request: policy Pod/${ns}/${body.metadata?.name} for resource violation: disallow-host-path: HostPath volumes are forbidden. The field spec.volumes[*].hostPath must be unset.`,
        );
      return this.send(res, 201, await this.createPod(ns, body));
    }
    const rec = name ? this.pods.get(`${ns}/${name}`) : undefined;
    if (!rec) return this.status(res, 404, 'NotFound', `pods "${name}" not found`);
    if (sub === 'log' && m === 'GET') {
      // As the kubelet: whole lines; tailLines keeps the last ones.
      const tail = Number(query.get('tailLines') ?? 0);
      const lines = rec.log.split('\n').slice(0, -1);
      return this.send(res, 200, tail > 0 ? lines.slice(-tail).join('\n') + '\n' : rec.log);
    }
    if (!sub && m === 'GET') return this.send(res, 200, rec.obj);
    if (!sub && m === 'DELETE') {
      await this.stopPod(`${ns}/${name}`);
      return this.send(res, 200, rec.obj);
    }
    this.status(res, 405, 'MethodNotAllowed', `${m} pods/${sub ?? ''}`);
  }

  private event(ns: string, pod: string, reason: string, message: string, type = 'Normal'): void {
    const now = new Date().toISOString();
    this.events.push({
      apiVersion: 'v1',
      kind: 'Event',
      metadata: { name: `${pod}.${this.events.length}`, namespace: ns },
      involvedObject: { kind: 'Pod', namespace: ns, name: pod, apiVersion: 'v1' },
      reason,
      message,
      type,
      source: { component: reason === 'FailedScheduling' ? 'default-scheduler' : 'kubelet' },
      firstTimestamp: now,
      lastTimestamp: now,
      count: 1,
    });
  }

  /** kube-scheduler's verdict for a pod pinned by nodeSelector, worded as it words it. */
  private schedule(obj: Json): { node?: FakeNode; why?: string } {
    const want = obj.spec.nodeSelector?.['kubernetes.io/hostname'] as string | undefined;
    const fits = this.nodes.filter((n) => !want || n.name === want);
    const tainted = fits.filter((n) => n.taints?.length);
    const ok = fits.filter((n) => !n.taints?.length);
    if (ok[0]) return { node: ok[0] };
    const parts = [
      ...(tainted.length
        ? [`${tainted.length} node(s) had untolerated taint {${tainted[0].taints![0].key}: ${tainted[0].taints![0].value}}`]
        : []),
      ...(this.nodes.length - fits.length ? [`${this.nodes.length - fits.length} node(s) didn't match Pod's node affinity/selector`] : []),
    ];
    return {
      why: `0/${this.nodes.length} nodes are available: ${parts.join(', ')}. preemption: 0/${this.nodes.length} nodes are available.`,
    };
  }

  private async createPod(ns: string, body: Json): Promise<Json> {
    const name = body.metadata.name as string;
    const key = `${ns}/${name}`;
    const obj: Json = { ...body, metadata: { ...body.metadata, namespace: ns, uid: key }, status: { phase: 'Pending', conditions: [] } };
    const rec: PodRec = { obj, procs: [], log: '' };
    this.pods.set(key, rec);
    const { node, why } = this.schedule(obj);
    if (!node || node.host === undefined) {
      obj.status.conditions = [{ type: 'PodScheduled', status: 'False', reason: 'Unschedulable', message: why }];
      this.event(ns, name, 'FailedScheduling', why ?? 'no host', 'Warning');
      return obj;
    }
    const host = this.up.lab.hosts[node.host];
    let where = { ns: host.ns, ip: host.underlayIp };
    if (!obj.spec.hostNetwork) {
      const w = this.up.build.workloads.find((x) => x.hostIndex === host.index && x.ns !== host.ns && !this.busy.has(x.ns));
      if (!w) throw new Error(`no free pod slot on ${node.name}`);
      this.busy.add(w.ns);
      rec.slot = w.ns;
      where = { ns: w.ns, ip: w.ip };
    }
    obj.spec.nodeName = node.name;
    obj.status = {
      phase: 'Pending',
      hostIP: host.underlayIp,
      podIP: where.ip,
      podIPs: [{ ip: where.ip }],
      conditions: [{ type: 'PodScheduled', status: 'True' }],
    };
    this.event(ns, name, 'Scheduled', `Successfully assigned ${key} to ${node.name}`);
    const statuses: Json[] = [];
    const volumes = new Map(((obj.spec.volumes ?? []) as Json[]).map((v) => [v.name as string, v]));
    for (const c of obj.spec.containers as Json[]) {
      const env = Object.fromEntries(((c.env ?? []) as Json[]).map((e) => [e.name, e.value]));
      let argv = (c.command as string[]).map((a) => a.replace(/\$\((\w+)\)/g, (all, v: string) => env[v] ?? all));
      for (const vm of (c.volumeMounts ?? []) as Json[]) {
        const path = volumes.get(vm.name)?.hostPath?.path;
        if (path !== '/etc/cni/net.d') throw new Error(`the stand-in mounts only hostPath /etc/cni/net.d, not volume ${vm.name}`);
        argv = argv.map((a) => a.split(vm.mountPath as string).join(join(this.nodeFiles, node.name)));
      }
      const carried = this.images[c.image as string] ?? [argv[0]];
      const found = carried.includes(argv[0]) && (await sh('sh', ['-c', 'command -v "$1"', 'sh', argv[0]])).code === 0;
      if (!found) {
        const message = `failed to create containerd task: failed to create shim task: OCI runtime create failed: runc create failed: unable to start container process: exec: "${argv[0]}": executable file not found in $PATH: unknown`;
        rec.log += `${message}\n`;
        statuses.push({ name: c.name, ready: false, state: { terminated: { exitCode: 128, reason: 'StartError', message } } });
        this.event(ns, name, 'Failed', `Error: ${message}`, 'Warning');
        continue;
      }
      const child = spawn('ip', ['netns', 'exec', where.ns, ...argv], { stdio: ['ignore', 'pipe', 'pipe'], detached: true });
      trackProcess(this.up.state, child.pid!, where.ns, `k8s-pod ${key}`, argv);
      rec.procs.push(child);
      child.stdout!.on('data', (d: Buffer) => (rec.log += d.toString()));
      child.stderr!.on('data', (d: Buffer) => (rec.log += d.toString()));
      const st: Json = {
        name: c.name,
        ready: !c.readinessProbe,
        started: true,
        state: { running: { startedAt: new Date().toISOString() } },
      };
      statuses.push(st);
      child.once('exit', (code) => {
        untrackProcess(this.up.state, child.pid!);
        st.ready = false;
        st.state = { terminated: { exitCode: code ?? 137, reason: code === 0 ? 'Completed' : 'Error' } };
        this.settle(rec);
      });
      if (c.readinessProbe?.tcpSocket) void this.probe(where.ns, c.readinessProbe.tcpSocket.port as number, st, rec);
      this.event(ns, name, 'Started', `Started container ${c.name}`);
    }
    obj.status.containerStatuses = statuses;
    this.settle(rec);
    return obj;
  }

  private async probe(ns: string, port: number, st: Json, rec: PodRec): Promise<void> {
    for (let i = 0; i < 100 && 'running' in st.state; i++) {
      const r = await sh('ip', ['netns', 'exec', ns, 'ss', '-Htln', 'sport', '=', `:${port}`]);
      if (r.stdout.trim()) {
        st.ready = true;
        return this.settle(rec);
      }
      await new Promise((r2) => setTimeout(r2, 100));
    }
  }

  /** Phase and conditions from the containers' states, as the kubelet reports them. */
  private settle(rec: PodRec): void {
    const s = rec.obj.status;
    const cs = (s.containerStatuses ?? []) as Json[];
    if (!cs.length) return;
    const done = cs.every((c) => 'terminated' in c.state);
    if (done) {
      s.phase = cs.every((c) => c.state.terminated.exitCode === 0) ? 'Succeeded' : 'Failed';
      if (rec.slot) this.busy.delete(rec.slot);
    } else s.phase = 'Running';
    const ready = !done && cs.every((c) => c.ready);
    s.conditions = [
      { type: 'PodScheduled', status: 'True' },
      { type: 'Initialized', status: 'True' },
      { type: 'ContainersReady', status: ready ? 'True' : 'False' },
      { type: 'Ready', status: ready ? 'True' : 'False' },
    ];
  }

  private async stopPod(key: string): Promise<void> {
    const rec = this.pods.get(key);
    if (!rec) return;
    await Promise.all(
      rec.procs.map(
        (c) =>
          new Promise<void>((r) => {
            if (c.exitCode !== null || c.signalCode !== null) return r();
            c.once('exit', () => r());
            try {
              process.kill(-c.pid!, 'SIGKILL');
            } catch {
              /* exited meanwhile (ESRCH): its exit event resolves */
            }
          }),
      ),
    );
    if (rec.slot) this.busy.delete(rec.slot);
    this.pods.delete(key);
  }

  private async createService(res: ServerResponse, ns: string, body: Json): Promise<void> {
    const sel = Object.entries(body.spec.selector as Record<string, string>);
    const target = [...this.pods.values()].find(
      (p) => p.obj.metadata.namespace === ns && sel.every(([k, v]) => p.obj.metadata.labels?.[k] === v),
    );
    const ip = `198.19.250.${this.nextSvc++}`;
    const obj = {
      ...body,
      metadata: { ...body.metadata, namespace: ns },
      spec: { ...body.spec, clusterIP: ip, clusterIPs: [ip] },
      status: { loadBalancer: {} },
    };
    this.services.set(`${ns}/${body.metadata.name}`, obj);
    const podIp = target?.obj.status.podIP as string | undefined;
    if (podIp) {
      // What kube-proxy does, on every node: DNAT the ClusterIP to the endpoint.
      const table = svcTable(ns);
      for (const h of this.up.lab.hosts) {
        const nft = (...a: string[]) => sh('ip', ['netns', 'exec', h.ns, 'nft', ...a]);
        await nft('add', 'table', 'ip', table);
        await nft('add', 'chain', 'ip', table, 'pre', '{', 'type', 'nat', 'hook', 'prerouting', 'priority', '-100', ';', '}');
        for (const port of body.spec.ports as Json[]) {
          const proto = String(port.protocol).toLowerCase();
          await nft(
            'add',
            'rule',
            'ip',
            table,
            'pre',
            'ip',
            'daddr',
            ip,
            proto,
            'dport',
            String(port.port),
            'dnat',
            'to',
            `${podIp}:${port.targetPort}`,
          );
        }
      }
    }
    this.send(res, 201, obj);
  }

  private async deleteNamespace(ns: string): Promise<void> {
    for (const key of [...this.pods.keys()].filter((k) => k.startsWith(`${ns}/`))) await this.stopPod(key);
    if ([...this.services.keys()].some((k) => k.startsWith(`${ns}/`))) {
      for (const h of this.up.lab.hosts) await sh('ip', ['netns', 'exec', h.ns, 'nft', 'delete', 'table', 'ip', svcTable(ns)]);
    }
    for (const k of [...this.services.keys()].filter((x) => x.startsWith(`${ns}/`))) this.services.delete(k);
    this.namespaces.delete(ns);
  }
}

/**
 * The API on a lab address: a TCP→unix-socket relay in host `ns` (the server itself lives in the
 * test process, which cannot bind inside a namespace). Returns the relay; kill it when done.
 */
export function relay(ns: string, ip: string, port: number, socket: string): ChildProcess {
  const code =
    "const net=require('net');const [ip,port,sock]=process.argv.slice(1);" +
    'net.createServer((c)=>{const u=net.connect(sock);c.pipe(u).pipe(c);c.on("error",()=>u.destroy());u.on("error",()=>c.destroy());})' +
    ".listen(Number(port),ip,()=>process.stdout.write('ready\\n'));";
  return spawn('ip', ['netns', 'exec', ns, 'node', '-e', code, ip, String(port), socket], { stdio: ['ignore', 'pipe', 'inherit'] });
}
