import { dirname, join } from 'node:path';
import type { Command } from 'commander';
import { assertRootLinux, detect } from '../caps/detect.js';
import { InputError, RunError } from '../errors.js';
import { loadTopology } from '../lab/topology.js';
import { collectEnvironment } from '../measure/environment.js';
import { defaultTests, measureScheme, type SuiteOptions } from '../measure/suite.js';
import { renderTable } from '../report/table.js';
import { summarizeResult } from '../report/summary.js';
import { defaultOutDir, writeResult } from '../result/write.js';
import { RESULT_FORMAT, RESULT_VERSION, type ResultFile } from '../result/types.js';
import { check as iperf3Check } from '../runners/iperf3.js';
import { cniFromFlags, withCniScheme } from '../schemes/cni-file.js';
import { getScheme, SCHEMES } from '../schemes/registry.js';
import { VERSION } from '../version.js';
import { runWithProgress } from './progress.js';
import { writeRunReports } from './report-commands.js';
import { addTopologyFlags, topologyFlags } from './topology-flags.js';

function intFlag(name: string, v: string, min: number, max: number): number {
  if (!/^\d+$/.test(v) || Number(v) < min || Number(v) > max) throw new InputError(`--${name} must be a whole number from ${min} to ${max}, got "${v}"`);
  return Number(v);
}

function rateFlag(v: string): string {
  if (!/^\d+(\.\d+)?[KMG]?$/.test(v)) throw new InputError(`--udp-rate must be a rate like 500M or 1G, got "${v}"`);
  return v;
}

interface RunFlags {
  out?: string;
  repeats: string;
  duration: string;
  udpRate: string;
  json?: boolean;
  [k: string]: unknown;
}

export function registerRunCommand(program: Command): void {
  addTopologyFlags(
    program
      .command('run [schemes...]')
      .description('build each scheme, measure it against the host baseline, write a result file, print a table')
      .option('--out <dir>', 'where the result file goes (default results/<timestamp>/)')
      .option('--repeats <n>', 'repeats per test', '3')
      .option('--duration <s>', 'seconds per test run', '2')
      .option('--udp-rate <rate>', 'UDP send rate (iperf3 -b)', '1G')
      .option('--json', 'print the summary as JSON on stdout')
      .option('--cni <file>', 'also measure this CNI config list (.conflist) as a scheme')
      .option('--cni-peer-routes', 'with --cni: route each peer host\'s pod block via the peer'),
  ).action(async (names: string[], o: RunFlags) => {
    // Everything is validated before anything is created.
    const cni = cniFromFlags(o, true);
    const builtIn = names.length ? names.map(getScheme) : cni ? [] : [...SCHEMES];
    const chosen = cni ? withCniScheme(builtIn, cni) : builtIn;
    const schemes = chosen.some((s) => s.name === 'host') ? chosen : [getScheme('host'), ...chosen];
    const opts: SuiteOptions = {
      repeats: intFlag('repeats', o.repeats, 1, 100),
      seconds: intFlag('duration', o.duration, 1, 3600),
      udpRate: rateFlag(o.udpRate),
      tests: [],
    };
    const topology = loadTopology(topologyFlags(o));
    opts.tests = defaultTests(opts.udpRate, topology.sameHost ? ['cross', 'same'] : ['cross']);
    assertRootLinux(await detect());
    const tool = await iperf3Check();
    if (!tool.ok) throw new RunError(tool.reason ?? 'iperf3 is not usable');

    const file = join(o.out ?? defaultOutDir(), 'result.json');
    const now = new Date().toISOString();
    const result: ResultFile = {
      format: RESULT_FORMAT,
      version: RESULT_VERSION,
      cnlab: { version: VERSION, argv: process.argv.slice(2) },
      createdAt: now,
      updatedAt: now,
      complete: false,
      environment: await collectEnvironment(),
      topology,
      options: { repeats: opts.repeats, seconds: opts.seconds, udpRate: opts.udpRate, tests: opts.tests },
      schemes: [],
    };
    const save = () => writeResult(file, result);
    save();
    const mode = o.json ? 'silent' : process.stderr.isTTY ? 'tty' : 'plain';
    await runWithProgress(
      schemes.map((scheme) => ({
        title: scheme.name,
        run: async (status) => {
          const rec = await measureScheme(topology, scheme, opts, { result, save, onStatus: status });
          if (rec.status !== 'ok') return { line: `${rec.status}: ${rec.reason}`, skipped: rec.status === 'unsupported' };
          const tcp = rec.tests.find((t) => t.id === 'tcp-1/cross')?.summary?.gbps.median;
          return { line: tcp === undefined ? 'done' : `TCP ${tcp.toFixed(2)} Gbit/s cross-host` };
        },
      })),
      mode,
    );
    result.complete = true;
    save();
    const report = writeRunReports(result, dirname(file));
    if (o.json) console.log(JSON.stringify({ resultFile: file, report, schemes: summarizeResult(result) }, null, 2));
    else process.stdout.write(`${renderTable(result)}result file: ${file}\n${report ? `report: ${report}\n` : ''}`);
    const failed = result.schemes.filter((s) => s.status === 'failed');
    const host = result.schemes.find((s) => s.name === 'host');
    if (host?.status !== 'ok' || failed.length) {
      throw new RunError(`${failed.length ? `failed: ${failed.map((s) => s.name).join(', ')}` : 'the host baseline could not be measured'}`, `details in ${file}`);
    }
  });
}
