import type { V1ContainerStatus, V1Pod } from '@kubernetes/client-node';
import { RunError } from '../errors.js';
import { createPod, deletePod, eventsOf, podLog, readPod, type Cluster } from './api.js';

/** Waiting on pods by polling their status; an unschedulable pod fails at once with the scheduler's reason. */

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const POLL_MS = 200;

/** Pure: why a pod cannot be placed, from its PodScheduled condition and its events (undefined: it can, or no verdict yet). */
export function placementFailure(pod: V1Pod, events: { reason?: string; message?: string; type?: string }[]): string | undefined {
  const cond = pod.status?.conditions?.find((c) => c.type === 'PodScheduled');
  const ev = [...events].reverse().find((e) => e.reason === 'FailedScheduling');
  if (cond?.status !== 'False' && !ev) return undefined;
  const node = pod.spec?.nodeSelector?.['kubernetes.io/hostname'] ?? '(any)';
  const why = (ev?.message ?? cond?.message ?? cond?.reason ?? 'unschedulable').replace(/\s*\n\s*/g, '; ');
  return `pod ${pod.metadata?.name} cannot be placed on node ${node}: ${ev?.reason ?? cond?.reason ?? 'Unschedulable'}: ${why}`;
}

/** Container states a kubelet reports for a container that could not start or keeps dying. */
const FAILED_WAITING = new Set([
  'CrashLoopBackOff',
  'RunContainerError',
  'CreateContainerError',
  'StartError',
  'ErrImagePull',
  'ImagePullBackOff',
]);

/** Pure: a container that will not serve: terminated, or waiting in one of the failure states; its reason in one line. */
export function containerFailure(s: V1ContainerStatus): string | undefined {
  const t =
    s.state?.terminated ?? (s.state?.waiting && FAILED_WAITING.has(s.state.waiting.reason ?? '') ? s.lastState?.terminated : undefined);
  const w = s.state?.waiting;
  if (!t && !(w && FAILED_WAITING.has(w.reason ?? ''))) return undefined;
  const msg = t?.message ?? w?.message ?? '';
  return `${t?.reason ?? w?.reason ?? 'Error'}${t?.exitCode !== undefined ? ` (exit ${t.exitCode})` : ''}${msg ? `: ${msg.split('\n')[0]}` : ''}`;
}

/** Pure: the kubelet's words for an executable the image lacks (containerd, CRI-O, the stand-in). */
export const notInImage = (text: string): boolean => /executable file not found|exec of .* failed|not found in \$PATH/i.test(text);

/** Waits until a created pod runs (every container ready or failed to start) or has finished; rejects with one line. */
export async function waitPod(c: Cluster, p: V1Pod, timeoutMs: number, until: 'running' | 'done'): Promise<V1Pod> {
  const ns = p.metadata!.namespace!;
  const name = p.metadata!.name!;
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const cur = await readPod(c, ns, name);
    const phase = cur.status?.phase;
    if (phase === 'Succeeded' || phase === 'Failed') return cur;
    if (until === 'running' && phase === 'Running' && cur.status?.containerStatuses?.every((s) => s.ready || containerFailure(s)))
      return cur;
    if (phase === 'Pending') {
      const why = placementFailure(cur, await eventsOf(c, ns, name));
      if (why) throw new RunError(why);
    }
    if (Date.now() > deadline) {
      const waiting = cur.status?.containerStatuses?.map((s) => s.state?.waiting?.reason).find(Boolean);
      throw new RunError(
        `pod ${name} on node ${p.spec?.nodeSelector?.['kubernetes.io/hostname']} not ${until} after ${timeoutMs / 1000} s (phase ${phase}${waiting ? `, ${waiting}` : ''})`,
      );
    }
    await sleep(POLL_MS);
  }
}

/** Creates a pod and waits as waitPod does. */
export async function startPod(c: Cluster, p: V1Pod, timeoutMs: number, until: 'running' | 'done'): Promise<V1Pod> {
  await createPod(c, p);
  return waitPod(c, p, timeoutMs, until);
}

/** The log of a finished pod, which is then deleted. */
export async function collect(c: Cluster, done: V1Pod): Promise<{ ok: boolean; log: string; pod: V1Pod }> {
  const log = await podLog(c, done.metadata!.namespace!, done.metadata!.name!);
  await deletePod(c, done.metadata!.namespace!, done.metadata!.name!);
  return { ok: done.status?.phase === 'Succeeded', log, pod: done };
}

/** Runs a one-shot pod to its end and returns its log (the tool's output) and phase; the pod is deleted. */
export async function runOnce(c: Cluster, p: V1Pod, timeoutMs: number): Promise<{ ok: boolean; log: string; pod: V1Pod }> {
  return collect(c, await startPod(c, p, timeoutMs, 'done'));
}
