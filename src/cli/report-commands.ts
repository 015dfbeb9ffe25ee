import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, realpathSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { Command } from 'commander';
import { InputError, RunError } from '../errors.js';
import { compareCsvRows, renderCompareMarkdown, renderCompareTable } from '../report/compare.js';
import { regressions } from '../report/compare-changes.js';
import { compareResults, runSource, type CompareRun } from '../report/compare-data.js';
import { renderCompareHtml } from '../report/compare-html.js';
import { toCsv } from '../report/csv.js';
import { put, writeReports } from '../report/write-reports.js';
import { readResult } from '../result/read.js';
import type { ResultFile } from '../result/types.js';

/**
 * `cnlab report` and `cnlab compare`: read result files only — no lab, no root — so they work
 * on any machine a result file is copied to.
 */

/** A directory to write into: created if missing; an existing non-directory is an input error. */
function outDir(dir: string): string {
  if (existsSync(dir) && !statSync(dir).isDirectory()) throw new InputError(`--out ${dir} exists and is not a directory`);
  try {
    mkdirSync(dir, { recursive: true });
  } catch (e) {
    throw new RunError(`cannot create ${dir}: ${(e as Error).message}`);
  }
  return dir;
}

/** A result file, or a run's directory holding one (results/<timestamp>/). */
function resultPath(arg: string): string {
  const inside = join(arg, 'result.json');
  return existsSync(arg) && statSync(arg).isDirectory() && existsSync(inside) ? inside : arg;
}

/** Pairs of inputs that are one file (same real path) or byte-identical copies. */
function sameFiles(paths: string[]): Array<[number, number]> {
  const key = (p: string) => {
    try {
      return `${realpathSync(p)}\u0000${createHash('sha256').update(readFileSync(p)).digest('hex')}`;
    } catch {
      return p;
    }
  };
  const keys = paths.map(key);
  const out: Array<[number, number]> = [];
  for (let j = 1; j < keys.length; j++) {
    const i = keys.findIndex((k, x) => x < j && (k === keys[j] || k.split('\u0000')[1] === keys[j].split('\u0000')[1]));
    if (i >= 0) out.push([i, j]);
  }
  return out;
}

export function registerReportCommands(program: Command): void {
  program
    .command('report <result>')
    .description(
      'write the HTML, Markdown and CSV reports of a result file, or of a run directory holding result.json (no lab or root needed)',
    )
    .option('--out <dir>', 'where the reports go (default: beside the result file)')
    .action((arg: string, o: { out?: string }) => {
      const file = resultPath(arg);
      const result = readResult(file);
      const written = writeReports(result, outDir(o.out ?? dirname(file)));
      process.stdout.write(`${written.map((p) => `${p}\n`).join('')}`);
    });

  program
    .command('compare <results...>')
    .description('runs side by side: changes with their 95% CIs and significance; differing environments flagged')
    .option('--out <dir>', 'also write compare.html, compare.md and compare.csv there')
    .option('--markdown', 'print Markdown instead of the terminal table')
    .option(
      '--fail-if-worse <pct>',
      "exit 1 when a figure of a later run is significantly worse than the first run's by more than PCT percent (for CI gating)",
    )
    .action((files: string[], o: { out?: string; markdown?: boolean; failIfWorse?: string }) => {
      if (files.length < 2)
        throw new InputError('compare needs at least two result files', 'e.g. cnlab compare results/A/result.json results/B/result.json');
      if (files.length > 26) throw new InputError(`compare takes at most 26 result files, got ${files.length}`);
      const limit = o.failIfWorse === undefined ? undefined : Number(o.failIfWorse);
      if (limit !== undefined && (!/^\d+(\.\d+)?$/.test(o.failIfWorse!.trim()) || !(limit >= 0 && limit < 100))) {
        throw new InputError(`--fail-if-worse must be a percentage from 0 to under 100, got "${o.failIfWorse}"`, 'e.g. --fail-if-worse 5');
      }
      const paths = files.map(resultPath);
      const runs: CompareRun[] = paths.map((f, i) => ({ key: String.fromCharCode(65 + i), source: runSource(f), result: readResult(f) }));
      for (const [i, j] of sameFiles(paths))
        process.stderr.write(
          `cnlab compare: warning: ${runs[j].key} (${paths[j]}) is the same file as ${runs[i].key} (${paths[i]}): nothing can differ between them\n`,
        );
      const c = compareResults(runs);
      process.stdout.write(o.markdown ? renderCompareMarkdown(c) : renderCompareTable(c));
      if (limit !== undefined) {
        const bad = regressions(c, limit);
        for (const x of bad) process.stderr.write(`cnlab compare: ${x.run} is worse than A by more than ${limit}%: ${x.text}\n`);
        if (bad.length) process.exitCode = 1;
      }
      if (o.out) {
        const dir = outDir(o.out);
        const csv = compareCsvRows(c);
        const written = [
          put(join(dir, 'compare.html'), renderCompareHtml(c)),
          put(join(dir, 'compare.md'), renderCompareMarkdown(c)),
          put(join(dir, 'compare.csv'), toCsv(csv.header, csv.rows)),
        ];
        process.stdout.write(`${written.map((p) => `${p}\n`).join('')}`);
      }
    });
}

/**
 * For `cnlab run`: the reports beside the result file, by the same code as `cnlab report`.
 * Returns the HTML path; a failure is a warning on stderr and never loses the result file.
 */
export function writeRunReports(result: ResultFile, dir: string): string | undefined {
  try {
    return writeReports(result, dir)[0];
  } catch (e) {
    process.stderr.write(`cnlab: reports not written (${(e as Error).message}); retry with: cnlab report ${join(dir, 'result.json')}\n`);
    return undefined;
  }
}
