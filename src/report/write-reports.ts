import { existsSync, mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ResultFile } from '../result/types.js';
import { csvFiles } from './csv.js';
import { buildModel } from './figures.js';
import { renderHtml } from './html.js';
import { renderMarkdown } from './markdown.js';
import { verdicts } from './verdicts.js';
import { renderVerifyHtml, renderVerifyMarkdown } from './verify.js';

/** The report files of a result, written beside it (or into any directory). */
export const REPORT_HTML = 'report.html';
export const REPORT_MD = 'report.md';

/** Write atomically (temp file, then rename) so a reader never sees half a report. */
export function put(file: string, text: string): string {
  const tmp = `${file}.${process.pid}.tmp`;
  writeFileSync(tmp, text);
  renameSync(tmp, file);
  return file;
}

/**
 * Every report of a result file: report.html (self-contained but for the files it links), report.md,
 * one CSV per figure, and result.json when the directory has none.
 * Returns the paths written, the HTML first.
 */
export function writeReports(result: ResultFile, dir: string): string[] {
  mkdirSync(dir, { recursive: true });
  // A `cnlab verify` result measures no throughput: its report is the matrix.
  if (result.verify && !result.schemes.length) {
    const written = [
      put(join(dir, REPORT_HTML), renderVerifyHtml(result.verify, `cnlab ${result.cnlab.version}`)),
      put(join(dir, REPORT_MD), renderVerifyMarkdown(result.verify)),
    ];
    const raw = join(dir, 'result.json');
    if (!existsSync(raw)) written.push(put(raw, `${JSON.stringify(result, null, 1)}\n`));
    return written;
  }
  const model = buildModel(result);
  const v = verdicts(model);
  const written = [put(join(dir, REPORT_HTML), renderHtml(result)), put(join(dir, REPORT_MD), renderMarkdown(result, model, v))];
  for (const f of csvFiles(result, model)) written.push(put(join(dir, f.name), f.text));
  // The page links result.json by name: a report written elsewhere gets its own copy (never over another file).
  const raw = join(dir, 'result.json');
  if (!existsSync(raw)) written.push(put(raw, `${JSON.stringify(result, null, 1)}\n`));
  return written;
}
