import { spawn } from 'node:child_process';
import { releaseLab } from '../src/apply/cleanup.js';
import { teardownState } from '../src/apply/teardown.js';
import { bringUp } from '../src/apply/up.js';
import { loadTopology } from '../src/lab/topology.js';
import { collectEnvironment } from '../src/measure/environment.js';
import { measureLab } from '../src/measure/suite.js';
import { summarize } from '../src/measure/stats.js';
import { RESULT_FORMAT, RESULT_VERSION, type ResultFile, type SchemeRecord } from '../src/result/types.js';
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
  const server = spawn('ip', ['netns', 'exec', serverNs, 'iperf3', '-s', '-1', '-p', String(PORT), '--forceflush'], { stdio: ['ignore', 'pipe', 'ignore'] });
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
  const result: ResultFile = {
    format: RESULT_FORMAT, version: RESULT_VERSION, cnlab: { version: 'bench', argv: [] }, createdAt: '', updatedAt: '', complete: false,
    environment: await collectEnvironment(), topology: topo, options: { repeats: 1, seconds, udpRate: '1G', tests: [] }, schemes: [],
  };
  const rec: SchemeRecord = { name: 'host', status: 'ok', summary: '', attach: 'none', notes: [], overhead: 0, tests: [] };
  result.schemes.push(rec);
  const raw: number[] = [];
  try {
    const [a, b] = up.build.workloads;
    for (let i = 0; i < rounds; i++) {
      await measureLab(up, rec, { repeats: 1, seconds, udpRate: '1G', tests: [{ id: 'tcp-1/cross', protocol: 'tcp', streams: 1, placement: 'cross' }] }, { result, save: () => {} });
      raw.push(await rawRun(b.ns, a.ns, b.ip, seconds));
    }
  } finally {
    await teardownState(up.state);
    releaseLab(up.state);
  }
  const mine = rec.tests.flatMap((t) => t.runs.filter((r) => r.ok).map((r) => r.gbps!));
  const cnlab = summarize(mine).median;
  const byHand = summarize(raw).median;
  return { cnlab, raw: byHand, ratio: cnlab / byHand };
}
