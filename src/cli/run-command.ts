import { schemeRequires } from '../plan/scheme.js';
import { dirname, join } from 'node:path';
import type { Command } from 'commander';
import { assertRootLinux, detect } from '../caps/detect.js';
import { RunError } from '../errors.js';
import { loadTopology } from '../lab/topology.js';
import { deriveAll } from '../result/derive.js';
import { collectEnvironment } from '../measure/environment.js';
import { PRESETS, testsFor } from '../measure/presets.js';
import { measureScheme } from '../measure/suite.js';
import { diagnoseLab } from '../doctor/doctor.js';
import { estimateSeconds } from '../measure/tests.js';
import { renderTable } from '../report/table.js';
import { summarizeResult } from '../report/summary.js';
import { defaultOutDir, writeResult } from '../result/write.js';
import { RESULT_FORMAT, RESULT_VERSION, type ResultFile, type SchemeRecord } from '../result/types.js';
import { setAffinity } from '../runners/affinity.js';
import { TOOLS } from '../runners/registry.js';
import { cniFromFlags, withCniScheme } from '../schemes/cni-file.js';
import { InputError } from '../errors.js';
import { checkOverlap } from '../plan/build.js';
import { encryptedSchemes, getScheme, quickDefaultSchemes, schemeLookup, SCHEMES, VARIANT_OF } from '../schemes/registry.js';
import { unsupportedReason } from '../apply/up.js';
import { remoteRefusal } from '../apply/hosts.js';
import { execArgs } from '../util/exec.js';
import { VERSION } from '../version.js';
import { runWithProgress } from './progress.js';
import { writeRunReports } from './report-commands.js';
import {
  applyPresetTopology,
  measurement,
  QUICK_REPEATS,
  missingRecord,
  presetEntries,
  toolsNeeded,
  type Entry,
  type MeasureFlags,
} from './run-options.js';
import { addTopologyFlags, topologyFlags } from './topology-flags.js';
import { addInventoryFlags, inventoryFromFlags } from './inventory-flags.js';
import { hostDetails, refuseOnHosts } from './run-hosts.js';
import { runNeeds } from './hosts-command.js';
import { controlPlaneOf } from '../lab/types.js';

interface RunFlags extends MeasureFlags {
  out?: string;
  json?: boolean;
  encrypt?: boolean;
  all?: boolean;
  [k: string]: unknown;
}

/** The line shown when a scheme is done: its headline figure. */
function doneLine(rec: SchemeRecord): string {
  const tcp = rec.tests.find((t) => t.id === 'tcp-1/cross')?.summary?.gbps.median;
  if (tcp !== undefined) return `TCP ${tcp.toFixed(2)} Gbit/s cross-host`;
  const first = rec.tests.find((t) => t.summary || t.latencySummary);
  if (first?.summary) return `${first.id}: ${first.summary.gbps.median.toFixed(2)} Gbit/s`;
  const lat = first?.latencySummary?.p50Us ?? first?.latencySummary?.latencyUs;
  return lat ? `${first!.id}: ${lat.median.toFixed(1)} µs` : 'done';
}

/** The last figure a scheme has measured so far, for the live progress line. */
/** "failed: …", or the reason alone when it already says so ("unsupported here: needs …"). */
function statusLine(rec: Pick<SchemeRecord, 'status' | 'reason'>): string {
  return rec.reason?.startsWith(rec.status) ? rec.reason : `${rec.status}: ${rec.reason}`;
}

function lastFigure(rec: SchemeRecord): string | undefined {
  for (const t of [...rec.tests].reverse()) {
    const run = [...t.runs].reverse().find((r) => r.ok);
    if (!run) continue;
    if (run.latency?.p50Us !== undefined) return `${t.id} ${run.latency.p50Us.toFixed(1)} µs`;
    if (run.latencyUs !== undefined) return `${t.id} ${run.latencyUs.toFixed(1)} µs`;
    if (run.gbps !== undefined)
      return `${t.id} ${run.gbps.toFixed(2)} Gbit/s${run.lossPercent !== undefined ? `, ${run.lossPercent.toFixed(1)}% lost` : ''}`;
  }
  return undefined;
}

export function registerRunCommand(program: Command): void {
  const cmd = addTopologyFlags(
    program
      .command('run [schemes...]')
      .description('build each scheme, measure it against the host baseline, write a result file, print a table')
      .option('--out <dir>', 'where the result file goes (default results/<timestamp>/)')
      .option('--preset <name>', 're-run a study: its schemes, tests and knobs (see: cnlab presets)')
      .option('--full', 'every test: stream and datagram sweeps, UDP rate search, latency (also under load), qperf message-size sweeps')
      .option('--tests <names>', 'only these tests, by name, e.g. tcp-1,udp-lat,lat-tcp (see: cnlab tests)')
      .option('--repeats <n>', 'repeats per test (default 3)')
      .option('--duration <s>', 'seconds per test run (default 1)')
      .option('--warmup <s>', 'seconds of an unrecorded warm-up run before the first test of each placement (default 1, 0: none)')
      .option('--udp-rate <rate>', 'UDP send rate (iperf3 -b, default 1G)')
      .option('--sizes <spec>', 'qperf message sizes, FIRST:LAST:*FACTOR (default 1:64K:*2)')
      .option('--cpus <list>', 'confine every lab process to these CPUs, e.g. 0 or 0-1')
      .option('--pin', 'each benchmark process on its own core (client, server)')
      .option('--no-pin', 'benchmark processes free to migrate (default)')
      .option('--json', 'print the summary as JSON on stdout')
      .option('--encrypt', "each named scheme's encrypted variant (cnlab's channel); without names, every encrypted scheme")
      .option('--all', 'without names: every scheme, variants included (the quick default builds each base scheme once)')
      .option('--cni <file>', 'also measure this CNI config list (.conflist) as a scheme')
      .option('--cni-peer-routes', "with --cni: route each peer host's pod block via the peer"),
  );
  addInventoryFlags(cmd).action(async (names: string[], o: RunFlags) => {
    // Everything is validated before anything is created.
    const cni = cniFromFlags(o, true);
    const onHosts = inventoryFromFlags(o);
    if (onHosts) refuseOnHosts(o, cni !== undefined);
    const topology = loadTopology(topologyFlags(o));
    // The quick default: no schemes named, no preset, --encrypt, --cni or --all.
    const quick = !names.length && o.preset === undefined && !o.encrypt && !cni && !o.all;
    const m = measurement(o, topology, quick);
    applyPresetTopology(topology, m.preset, { linkRate: o.linkRate, offloads: o.offloads });
    Object.assign(
      m.knobs,
      topology.offloads ? { offloads: topology.offloads } : {},
      topology.underlay.rate ? { linkRate: topology.underlay.rate } : {},
    );
    if (o.encrypt && m.preset)
      throw new InputError(
        '--encrypt picks schemes; --preset brings its own',
        'name the schemes instead, e.g. cnlab run flannel-udp weave-sleeve --encrypt',
      );
    const lookup = schemeLookup(o.encrypt);
    const named: Entry[] = names.length
      ? names.map((n) => ({ scheme: lookup(n) }))
      : m.preset
        ? presetEntries(m.preset)
        : o.encrypt
          ? encryptedSchemes().map((scheme) => ({ scheme }))
          : cni
            ? []
            : (o.all ? SCHEMES : quickDefaultSchemes()).map((scheme) => ({ scheme }));
    if (quick) {
      process.stderr.write(
        `cnlab: the quick default leaves out ${Object.keys(VARIANT_OF).length} variants (${Object.keys(VARIANT_OF).join(', ')}): name them or add --all\n`,
      );
      if (m.suite.repeats === QUICK_REPEATS && o.repeats === undefined)
        process.stderr.write(
          `cnlab: the quick default runs ${QUICK_REPEATS} repeats of each test: --repeats 3 or more resolves finer differences\n`,
        );
    }
    // --cni adds its config as one more scheme (withCniScheme checks the name is free).
    const entries: Entry[] = cni
      ? [
          ...named,
          {
            scheme: withCniScheme(
              named.flatMap((e) => ('scheme' in e ? [e.scheme] : [])),
              cni,
            ).at(-1)!,
          },
        ]
      : named;
    if (!entries.some((e) => 'scheme' in e && e.scheme.name === 'host')) entries.unshift({ scheme: getScheme('host') });
    for (const e of entries) if ('scheme' in e) checkOverlap(topology, e.scheme);
    // A scheme these hosts cannot carry (bridging through a bridge-mode macvlan child) is bad input.
    for (const e of onHosts ? entries : []) {
      const why = 'scheme' in e ? remoteRefusal(e.scheme.name, onHosts!.inventory) : null;
      if (why && 'scheme' in e) throw new InputError(`scheme ${e.scheme.name} ${why}`);
    }
    assertRootLinux(await detect());
    // On the user's hosts the tools run there: hosts check lists what each one lacks.
    for (const name of onHosts ? [] : toolsNeeded(m.tests)) {
      const tool = await TOOLS[name].check();
      if (!tool.ok) throw new RunError(tool.reason ?? `${name} is not usable`);
    }
    if (topology.offloads)
      await execArgs('ethtool', ['--version']).catch(() => {
        throw new RunError('--offloads needs ethtool: apt-get install ethtool');
      });
    // --cpus: cnlab itself moves to the set, so every process it starts inherits it.
    if (m.knobs.cpus)
      await setAffinity(process.pid, m.knobs.cpus).catch((e: Error) => {
        throw new RunError(`--cpus ${m.knobs.cpus}: ${e.message}`);
      });

    // Each host's kernel, CPU and lab NIC (driver, speed, offloads), read before anything is built;
    // a host that does not answer stops the run here.
    const hostsSection = onHosts
      ? await hostDetails(
          onHosts.inventory,
          onHosts.allowSshNic,
          runNeeds(
            toolsNeeded(m.tests),
            entries.flatMap((e) =>
              'scheme' in e ? [{ name: e.scheme.name, requires: schemeRequires(e.scheme, controlPlaneOf(topology)) }] : [],
            ),
          ),
        )
      : undefined;
    const file = join(o.out ?? defaultOutDir(), 'result.json');
    const now = new Date().toISOString();
    const placements = Object.fromEntries(entries.flatMap((e) => ('scheme' in e && e.placements ? [[e.scheme.name, e.placements]] : [])));
    const result: ResultFile = {
      format: RESULT_FORMAT,
      version: RESULT_VERSION,
      cnlab: { version: VERSION, argv: process.argv.slice(2) },
      createdAt: now,
      updatedAt: now,
      complete: false,
      environment: await collectEnvironment(),
      topology,
      options: {
        repeats: m.suite.repeats,
        seconds: m.suite.seconds,
        udpRate: m.suite.udpRate,
        tests: m.tests,
        warmupSeconds: m.warmupSeconds,
        knobs: m.knobs,
        ...(m.preset ? { preset: m.preset.name } : {}),
        ...(m.full ? { full: true } : {}),
        ...(Object.keys(placements).length ? { placements } : {}),
      },
      schemes: [],
      ...(hostsSection ? { hosts: hostsSection } : {}),
    };
    const save = () => writeResult(file, result);
    save();
    const mode = o.json ? 'silent' : process.stderr.isTTY ? 'tty' : 'plain';
    if (mode !== 'silent') {
      const perScheme = estimateSeconds(m.tests, m.suite.repeats, m.suite.seconds, m.warmupSeconds) + 3;
      const buildable = (
        await Promise.all(entries.map(async (e) => ('scheme' in e && !(await unsupportedReason(e.scheme)) ? 1 : 0)))
      ).reduce((a: number, b) => a + b, 0);
      const minutes = Math.max(1, Math.round((perScheme * buildable) / 60));
      process.stderr.write(
        `cnlab: ${entries.length} schemes × ${m.tests.length ? `${m.tests.length} tests × ${m.suite.repeats} repeats` : 'convergence only'}${m.preset ? ` (preset ${m.preset.name})` : ''}: at most about ${minutes} min\n`,
      );
    }
    const perSchemeSeconds = estimateSeconds(m.tests, m.suite.repeats, m.suite.seconds, m.warmupSeconds) + 3;
    await runWithProgress(
      entries.map((e) => ({
        title: 'scheme' in e ? e.scheme.name : e.missing,
        estimateSeconds:
          'scheme' in e
            ? estimateSeconds(testsFor(m.tests, e.placements), m.suite.repeats, m.suite.seconds, m.warmupSeconds) + 3
            : perSchemeSeconds,
        lastFigure: () => {
          const rec = result.schemes.find((x) => 'scheme' in e && x.name === e.scheme.name);
          return rec ? lastFigure(rec) : undefined;
        },
        run: async (status) => {
          if ('missing' in e) {
            const rec = missingRecord(e.missing);
            result.schemes.push(rec);
            save();
            return { line: statusLine(rec), skipped: true };
          }
          const suite = { ...m.suite, tests: testsFor(m.tests, e.placements), diagnose: diagnoseLab, onHosts };
          const rec = await measureScheme(topology, e.scheme, suite, { result, save, onStatus: status });
          if (rec.status !== 'ok') return { line: statusLine(rec), skipped: rec.status === 'unsupported' };
          return { line: doneLine(rec) };
        },
      })),
      mode,
    );
    deriveAll(result, { comparisons: true });
    result.complete = true;
    save();
    const report = writeRunReports(result, dirname(file));
    if (o.json) console.log(JSON.stringify({ resultFile: file, report, schemes: summarizeResult(result) }, null, 2));
    else process.stdout.write(`${renderTable(result)}result file: ${file}\n${report ? `report: ${report}\n` : ''}`);
    const failed = result.schemes.filter((s) => s.status === 'failed');
    const host = result.schemes.find((s) => s.name === 'host');
    if (host?.status !== 'ok' || failed.length) {
      throw new RunError(
        `${failed.length ? `failed: ${failed.map((s) => s.name).join(', ')}` : 'the host baseline could not be measured'}`,
        `details in ${file}`,
      );
    }
  });

  program
    .command('presets')
    .description('list the presets: studies `cnlab run --preset NAME` re-runs')
    .action(() => {
      const width = Math.max(...PRESETS.map((p) => p.name.length)) + 2;
      for (const p of PRESETS) process.stdout.write(`${p.name.padEnd(width)}${p.description}\n`);
    });
}
