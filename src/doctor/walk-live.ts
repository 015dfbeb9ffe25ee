import { execArgs, netOnly } from '../util/exec.js';
import { jsonIn } from './live.js';
import type { Kernel, NsView, RouteAnswer } from './walk.js';

/** The walker's kernel: the lab's namespaces read live (each namespace's view read once per walk). */
export function liveKernel(namespaces: readonly string[]): Kernel {
  const views = new Map<string, Promise<NsView>>();
  const read = async (ns: string): Promise<NsView> => {
    const [links, nsids, neigh, fdb, addrs] = await Promise.all([
      jsonIn<NsView['links'][number]>(ns, 'ip', ['-d', 'link', 'show']),
      jsonIn<NsView['nsids'][number]>(ns, 'ip', ['netns', 'list-id']),
      jsonIn<NsView['neigh'][number]>(ns, 'ip', ['neigh', 'show']),
      jsonIn<NsView['fdb'][number]>(ns, 'bridge', ['fdb', 'show']),
      jsonIn<{ addr_info?: Array<{ family?: string; local?: string }> }>(ns, 'ip', ['addr', 'show']),
    ]);
    return { links, nsids, neigh, fdb, addrs: addrs.flatMap((a) => (a.addr_info ?? []).flatMap((i) => (i.local ? [i.local] : []))) };
  };
  return {
    namespaces,
    view(ns) {
      if (!views.has(ns)) views.set(ns, read(ns));
      return views.get(ns)!;
    },
    async routeGet(ns, dst, src, iif) {
      const args = ['-j', 'route', 'get', dst, 'from', src, ...(iif ? ['iif', iif] : [])];
      const r = await execArgs(...netOnly(ns, 'ip', args), { timeoutMs: 5_000 });
      return parseRouteGet(r.code, r.stdout, r.stderr);
    },
  };
}

/** Pure: `ip -j route get` → its answer, or the kernel's error ("RTNETLINK answers: X" → X). */
export function parseRouteGet(code: number | null, stdout: string, stderr: string): RouteAnswer {
  if (code !== 0)
    return {
      error:
        stderr
          .trim()
          .replace(/^RTNETLINK answers:\s*/, '')
          .split('\n')[0] || `exit ${code}`,
    };
  try {
    const v = (JSON.parse(stdout) as RouteAnswer[])[0] ?? {};
    return { type: v.type, dev: v.dev, gateway: v.gateway };
  } catch {
    return { error: 'unreadable ip route get output' };
  }
}
