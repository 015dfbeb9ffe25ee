import { releaseLab } from '../src/apply/cleanup.js';
import { teardownState } from '../src/apply/teardown.js';
import { bringUp } from '../src/apply/up.js';
import { loadTopology } from '../src/lab/topology.js';
import { measureLab } from '../src/measure/suite.js';
import { tcpTest } from '../src/measure/tests.js';
import type { SchemeRecord } from '../src/result/types.js';
import { benchResult } from './result.js';
import { getScheme } from '../src/schemes/registry.js';

/**
 * Repeatability (S4's finding): the coefficient of variation of host-baseline TCP over `repeats`
 * runs, with client and server pinned to their own cores and free to migrate, in one lab.
 */
export async function repeatability(
  repeats: number,
  seconds: number,
): Promise<{ pinned: number; unpinned: number; pinnedGbps: number; unpinnedGbps: number }> {
  const topology = loadTopology({ lab: 'bench-cv', sameHost: false });
  const up = await bringUp(topology, getScheme('host'));
  const result = await benchResult(topology, { repeats, seconds, udpRate: '1G', tests: [] });
  const rec: SchemeRecord = { name: 'host', status: 'ok', summary: '', attach: 'none', notes: [], overhead: 0, tests: [] };
  result.schemes.push(rec);
  const tcp = tcpTest(1, 'cross');
  const tests = [
    { ...tcp, id: 'tcp-1-pinned/cross', pin: true },
    { ...tcp, id: 'tcp-1-unpinned/cross', pin: false },
  ];
  try {
    await measureLab(up, rec, { repeats, seconds, udpRate: '1G', tests, warmupSeconds: 1 }, { result, save: () => {} });
  } finally {
    await teardownState(up.state);
    releaseLab(up.state);
  }
  const fig = (id: string) => rec.tests.find((t) => t.id === id)?.summary?.gbps;
  const [p, u] = [fig('tcp-1-pinned/cross'), fig('tcp-1-unpinned/cross')];
  if (!p || !u || p.n < repeats || u.n < repeats) throw new Error('repeatability: some runs failed');
  return { pinned: p.cv, unpinned: u.cv, pinnedGbps: p.median, unpinnedGbps: u.median };
}
