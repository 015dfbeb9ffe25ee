import { dirname, join } from 'node:path';
import type { Command } from 'commander';
import { unsupportedReason } from '../apply/up.js';
import { assertRootLinux, detect } from '../caps/detect.js';
import { RunError } from '../errors.js';
import { loadTopology } from '../lab/topology.js';
import { collectEnvironment } from '../measure/environment.js';
import { renderVerifyText } from '../report/verify.js';
import { RESULT_FORMAT, RESULT_VERSION, type ResultFile } from '../result/types.js';
import { defaultOutDir, writeResult } from '../result/write.js';
import { getScheme, SCHEMES } from '../schemes/registry.js';
import { verifySchemes } from '../verify/engine.js';
import { PROBES, probesFor } from '../verify/registry.js';
import { VERSION } from '../version.js';
import { writeRunReports } from './report-commands.js';
import { addTopologyFlags, topologyFlags } from './topology-flags.js';

export function registerVerifyCommand(program: Command): void {
  addTopologyFlags(
    program
      .command('verify [schemes...]')
      .description("probe each scheme's features on the wire (network model, encryption, protocols, MTU, …) beside the products' claims")
      .option('--out <dir>', 'where the result file goes (default results/<timestamp>/)')
      .option('--json', 'print the matrix as JSON on stdout')
      .option('--aspects <list>', `only these rows, comma-separated (default: all): ${PROBES.map((p) => p.aspect).join(', ')}`),
  ).action(async (names: string[], o: Record<string, unknown>) => {
    // Validated before anything is created.
    const base = loadTopology(topologyFlags(o, 'verify'));
    const named = names.map(getScheme);
    const probes = o.aspects === undefined ? PROBES : probesFor(String(o.aspects));
    assertRootLinux(await detect());
    const schemes = named.length
      ? named
      : (await Promise.all(SCHEMES.map(async (s) => (s.containers && !(await unsupportedReason(s)) ? [s] : [])))).flat();
    const file = join((o.out as string | undefined) ?? defaultOutDir(), 'result.json');
    const now = new Date().toISOString();
    const result: ResultFile = {
      format: RESULT_FORMAT,
      version: RESULT_VERSION,
      cnlab: { version: VERSION, argv: process.argv.slice(2) },
      createdAt: now,
      updatedAt: now,
      complete: false,
      environment: await collectEnvironment(),
      topology: base,
      options: { repeats: 0, seconds: 0, udpRate: '', tests: [] },
      schemes: [],
    };
    writeResult(file, result);
    const verify = await verifySchemes(schemes, probes, {
      base,
      onStatus: o.json ? undefined : (scheme, text) => process.stderr.write(`cnlab verify: ${scheme}: ${text}\n`),
    });
    result.verify = verify;
    result.complete = true;
    result.updatedAt = new Date().toISOString();
    writeResult(file, result);
    const report = writeRunReports(result, dirname(file));
    if (o.json) console.log(JSON.stringify({ resultFile: file, report, verify }, null, 2));
    else process.stdout.write(`${renderVerifyText(verify)}result file: ${file}\n${report ? `report: ${report}\n` : ''}`);
    if (!verify.allRan) {
      const n = verify.cells.filter((c) => c.mark === 'not-run');
      throw new RunError(
        `${n.length} probe runs could not run: ${[...new Set(n.map((c) => `${c.scheme} ${c.aspect}`))].slice(0, 6).join(', ')}`,
        `details in ${file}`,
      );
    }
  });
}
