import { spawn } from 'node:child_process';
import { releaseLab } from '../src/apply/cleanup.js';
import { teardownState } from '../src/apply/teardown.js';
import { bringUp } from '../src/apply/up.js';
import { loadTopology } from '../src/lab/topology.js';
import { measureLab } from '../src/measure/suite.js';
import { summarize } from '../src/stats/stats.js';
import type { SchemeRecord } from '../src/result/types.js';
import { benchResult } from './result.js';
import { parse } from '../src/runners/iperf3.js';
import { getScheme } from '../src/schemes/registry.js';

/**
 * Harness fidelity: cnlab's host-baseline TCP (its runner, CPU sampling and result bookkeeping)
 * against iperf3 run by hand between the same two namespaces, alternating, in the same lab.
 */

const PORT = 5301;

function run(argv: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(argv[0], argv.slice(1), { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.on('data', (b: Buffer) => (out += b.toString()));
    child.on('error', reject);
    child.on('close', () => resolve(out));
  });
}

/** By hand: `iperf3 -s -1` in h2, then `iperf3 -c` from h1, as a person would type them. */
async function rawRun(serverNs: string, clientNs: string, target: string, seconds: number): Promise<number> {
  const server = spawn('ip', ['netns', 'exec', serverNs, 'iperf3', '-s', '-1', '-p', String(PORT), '--forceflush'], {
    stdio: ['ignore', 'pipe', 'ignore'],
  });
  const closed = new Promise((r) => server.on('close', r));
  await new Promise<void>((resolve, reject) => {
    server.stdout.on('data', (b: Buffer) => b.toString().includes('listening') && resolve());
    void closed.then(() => reject(new Error('raw iperf3 server exited before listening')));
  });
  const out = await run(['ip', 'netns', 'exec', clientNs, 'iperf3', '-c', target, '-p', String(PORT), '-J', '-t', String(seconds)]);
  await closed;
  const p = parse(out);
  if (!p.ok) throw new Error(`raw iperf3 failed: ${p.error}`);
  return p.bitsPerSecond / 1e9;
}

export async function fidelity(rounds: number, seconds: number): Promise<{ cnlab: number; raw: number; ratio: number }> {
  const topo = loadTopology({ lab: 'bench-fid' });
  const up = await bringUp(topo, getScheme('host'));
  const result = await benchResult(topo, { repeats: 1, seconds, udpRate: '1G', tests: [] });
  const rec: SchemeRecord = { name: 'host', status: 'ok', summary: '', attach: 'none', notes: [], overhead: 0, tests: [] };
  result.schemes.push(rec);
  const raw: number[] = [];
  const mine: number[] = [];
  const opts = {
    repeats: 1,
    seconds,
    udpRate: '1G',
    tests: [{ id: 'tcp-1/cross', protocol: 'tcp' as const, streams: 1, placement: 'cross' as const }],
  };
  try {
    const [a, b] = up.build.workloads;
    const cnlabRun = async () => {
      const before = rec.tests.length;
      await measureLab(up, rec, opts, { result, save: () => {} });
      const run = rec.tests
        .slice(before)
        .flatMap((t) => t.runs)
        .find((r) => r.ok);
      if (!run) throw new Error('cnlab run failed');
      mine.push(run.gbps!);
    };
    const rawRunOnce = async () => raw.push(await rawRun(b.ns, a.ns, b.ip, seconds));
    // Alternate which goes first each round, so drift and warm-up favour neither.
    for (let i = 0; i < rounds; i++) {
      if (i % 2 === 0) await cnlabRun().then(rawRunOnce);
      else await rawRunOnce().then(cnlabRun);
    }
  } finally {
    await teardownState(up.state);
    releaseLab(up.state);
  }
  // The median of per-round ratios: each round's pair shares the machine's state at that moment.
  const ratios = mine.map((m, i) => m / raw[i]);
  const cnlab = summarize(mine).median;
  const byHand = summarize(raw).median;
  return { cnlab, raw: byHand, ratio: summarize(ratios).median };
}
