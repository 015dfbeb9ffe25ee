import type { V1Namespace, V1Pod, V1Service } from '@kubernetes/client-node';
import { InputError } from '../errors.js';

/**
 * Every object cnlab creates in a cluster, as typed values (never YAML text): one namespace
 * `cnlab-<run>` carrying cnlab's label, server pods running the server as their command, one-shot
 * client pods whose log is the tool's output, and a ClusterIP Service in front of the pod server.
 */

/** The label every namespace cnlab creates carries; `cnlab k8s clean` deletes only namespaces with it. */
export const MANAGED_LABEL = 'app.kubernetes.io/managed-by';
export const MANAGED_VALUE = 'cnlab';
export const MANAGED_SELECTOR = `${MANAGED_LABEL}=${MANAGED_VALUE}`;
const RUN_LABEL = 'cnlab.dev/run';
const ROLE_LABEL = 'cnlab.dev/role';

/** A run name: a DNS label once prefixed with "cnlab-". */
export function checkRunName(run: string): string {
  if (!/^[a-z0-9]([a-z0-9-]{0,40}[a-z0-9])?$/.test(run))
    throw new InputError(`invalid run name "${run}" (lowercase letters, digits, "-"; at most 42)`);
  return run;
}

export const namespaceName = (run: string): string => `cnlab-${checkRunName(run)}`;

const labels = (run: string, role: string) => ({ [MANAGED_LABEL]: MANAGED_VALUE, [RUN_LABEL]: run, [ROLE_LABEL]: role });

export function namespace(run: string): V1Namespace {
  return {
    apiVersion: 'v1',
    kind: 'Namespace',
    metadata: { name: namespaceName(run), labels: { [MANAGED_LABEL]: MANAGED_VALUE, [RUN_LABEL]: run } },
  };
}

export interface PodSpecIn {
  run: string;
  name: string;
  role: 'server' | 'client' | 'probe';
  node: string;
  image: string;
  hostNetwork: boolean;
  /** Sees the node's processes (the CPU sampler). */
  hostPID?: boolean;
  /** Read-only hostPath directories, mounted in every container (the facts pod reads the node's CNI config). */
  hostPaths?: { name: string; path: string; mountPath: string }[];
  /** One container per entry: its name and argv (the first word is the program). */
  containers: { name: string; command: string[]; ports?: { port: number; protocol: 'TCP' | 'UDP' }[] }[];
}

/**
 * A pod pinned to one node through the scheduler (nodeSelector on kubernetes.io/hostname, no
 * tolerations), so an impossible placement shows up as the scheduler's FailedScheduling event.
 */
export function pod(p: PodSpecIn): V1Pod {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: p.name, namespace: namespaceName(p.run), labels: labels(p.run, p.name) },
    spec: {
      restartPolicy: p.role === 'server' ? 'Always' : 'Never',
      hostNetwork: p.hostNetwork,
      ...(p.hostPID ? { hostPID: true } : {}),
      nodeSelector: { 'kubernetes.io/hostname': p.node },
      terminationGracePeriodSeconds: 1,
      ...(p.hostPaths ? { volumes: p.hostPaths.map((h) => ({ name: h.name, hostPath: { path: h.path, type: 'Directory' } })) } : {}),
      containers: p.containers.map((c) => ({
        name: c.name,
        image: p.image,
        command: c.command,
        ...(p.hostPaths ? { volumeMounts: p.hostPaths.map((h) => ({ name: h.name, mountPath: h.mountPath, readOnly: true })) } : {}),
        ...(c.ports ? { ports: c.ports.map((x) => ({ containerPort: x.port, protocol: x.protocol })) } : {}),
        // A server is ready once it listens, so no client starts before it.
        ...(c.ports?.[0]?.protocol === 'TCP' ? { readinessProbe: { tcpSocket: { port: c.ports[0].port }, periodSeconds: 1 } } : {}),
      })),
    },
  };
}

/** A ClusterIP Service selecting the server pod `target`. */
export function service(run: string, name: string, target: string, ports: { port: number; protocol: 'TCP' | 'UDP' }[]): V1Service {
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name, namespace: namespaceName(run), labels: labels(run, name) },
    spec: {
      type: 'ClusterIP',
      selector: { [ROLE_LABEL]: target },
      ports: ports.map((x) => ({ name: `${x.protocol.toLowerCase()}-${x.port}`, port: x.port, targetPort: x.port, protocol: x.protocol })),
    },
  };
}
