import {
  AppsV1Api,
  CoreV1Api,
  KubeConfig,
  VersionApi,
  type CoreV1Event,
  type V1DaemonSet,
  type V1Node,
  type V1Pod,
  type V1Service,
} from '@kubernetes/client-node';
import { InputError, RunError } from '../errors.js';
import { MANAGED_SELECTOR, namespace } from './manifests.js';

/**
 * The REST calls cnlab makes to a cluster, and nothing else: version, nodes, namespaces (create,
 * list by cnlab's label, delete), pods (create, read, delete, log and its tail), services (create) and the
 * events of a namespace, and the DaemonSets of all namespaces (read only, to name the CNI). Pods are
 * polled (GET), not watched.
 */
export interface Cluster {
  server: string;
  core: CoreV1Api;
  apps: AppsV1Api;
  version: VersionApi;
}

export function connect(kubeconfig: string | undefined): Cluster {
  const kc = new KubeConfig();
  try {
    if (kubeconfig) kc.loadFromFile(kubeconfig);
    else kc.loadFromDefault();
  } catch (e) {
    throw new InputError(`cannot read kubeconfig ${kubeconfig ?? '(default)'}: ${(e as Error).message}`);
  }
  const c = kc.getCurrentCluster();
  if (!c) throw new InputError(`kubeconfig ${kubeconfig ?? '(default)'} names no current cluster`);
  return { server: c.server, core: kc.makeApiClient(CoreV1Api), apps: kc.makeApiClient(AppsV1Api), version: kc.makeApiClient(VersionApi) };
}

/** The API's own reason for a failed call, in one line. */
export function apiReason(e: unknown): string {
  const err = e as { code?: number; body?: unknown; message?: string };
  let msg = err.message ?? String(e);
  if (typeof err.body === 'string') {
    try {
      msg = (JSON.parse(err.body) as { message?: string }).message ?? msg;
    } catch {
      /* not JSON: keep the message */
    }
  }
  return msg.split('\n')[0];
}

async function call<T>(what: string, f: () => Promise<T>): Promise<T> {
  try {
    return await f();
  } catch (e) {
    throw new RunError(`${what}: ${apiReason(e)}`);
  }
}

export const serverVersion = (c: Cluster) => call('GET /version', () => c.version.getCode()).then((v) => v.gitVersion);
export const listNodes = (c: Cluster): Promise<V1Node[]> => call('list nodes', () => c.core.listNode()).then((l) => l.items);

/** Every namespace's DaemonSets (GET /apis/apps/v1/daemonsets): a CNI's agent runs as one. */
export const listDaemonSets = (c: Cluster): Promise<V1DaemonSet[]> =>
  call('list daemonsets', () => c.apps.listDaemonSetForAllNamespaces()).then((l) => l.items);

export async function createNamespace(c: Cluster, run: string): Promise<void> {
  await call('create namespace', () => c.core.createNamespace({ body: namespace(run) }));
}

export async function deleteNamespace(c: Cluster, name: string): Promise<void> {
  try {
    await c.core.deleteNamespace({ name });
  } catch (e) {
    if ((e as { code?: number }).code !== 404) throw new RunError(`delete namespace ${name}: ${apiReason(e)}`);
  }
}

/** Namespaces carrying cnlab's label (and only those). */
export async function managedNamespaces(c: Cluster): Promise<string[]> {
  const l = await call('list namespaces', () => c.core.listNamespace({ labelSelector: MANAGED_SELECTOR }));
  return l.items.map((n) => n.metadata?.name ?? '').filter(Boolean);
}

export const createPod = (c: Cluster, p: V1Pod) =>
  call(`create pod ${p.metadata?.name}`, () => c.core.createNamespacedPod({ namespace: p.metadata!.namespace!, body: p }));
export const createService = (c: Cluster, s: V1Service) =>
  call(`create service ${s.metadata?.name}`, () => c.core.createNamespacedService({ namespace: s.metadata!.namespace!, body: s }));
export const readPod = (c: Cluster, ns: string, name: string) =>
  call(`read pod ${name}`, () => c.core.readNamespacedPod({ namespace: ns, name }));
/** A pod's log (of its only container); `tailLines`: only its last lines. */
export const podLog = (c: Cluster, ns: string, name: string, tailLines?: number) =>
  call(`log of pod ${name}`, () => c.core.readNamespacedPodLog({ namespace: ns, name, ...(tailLines ? { tailLines } : {}) }));
export const deletePod = (c: Cluster, ns: string, name: string) =>
  call(`delete pod ${name}`, () => c.core.deleteNamespacedPod({ namespace: ns, name, gracePeriodSeconds: 0 }));

/** The events about one object of a namespace, oldest first. */
export async function eventsOf(c: Cluster, ns: string, name: string): Promise<CoreV1Event[]> {
  const l = await call('list events', () => c.core.listNamespacedEvent({ namespace: ns, fieldSelector: `involvedObject.name=${name}` }));
  return l.items;
}
