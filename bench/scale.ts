import { existsSync } from 'node:fs';
import { releaseLab } from '../src/apply/cleanup.js';
import { listNetns, netnsPids } from '../src/apply/netns.js';
import { teardownState } from '../src/apply/teardown.js';
import { bringUp } from '../src/apply/up.js';
import { labStateFile } from '../src/lab/paths.js';
import { loadTopology } from '../src/lab/topology.js';
import { getScheme } from '../src/schemes/registry.js';

/** Build and teardown time for hosts × containers with a scheme, and what is left afterwards. */
export async function scale(
  hosts: number,
  containers: number,
  schemeName: string,
): Promise<{ build: number; teardown: number; namespaces: number; leaks: number }> {
  const lab = 'bench-scale';
  const topo = loadTopology({ lab, hosts, containers, sameHost: false });
  const t0 = performance.now();
  const up = await bringUp(topo, getScheme(schemeName));
  const build = (performance.now() - t0) / 1000;
  const t1 = performance.now();
  await teardownState(up.state);
  const teardown = (performance.now() - t1) / 1000;
  releaseLab(up.state);
  const left = listNetns().filter((n) => up.state.namespaces.includes(n));
  const leaks = left.length + netnsPids(up.state.namespaces).length + (existsSync(labStateFile(lab)) ? 1 : 0);
  return { build, teardown, namespaces: up.state.namespaces.length, leaks };
}
