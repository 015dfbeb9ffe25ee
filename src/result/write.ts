import { mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { ResultFile } from './types.js';

/** Write atomically: a temp file in the same directory, then rename, so a crash never leaves half a file. */
export function writeResult(file: string, result: ResultFile): void {
  mkdirSync(dirname(file), { recursive: true });
  result.updatedAt = new Date().toISOString();
  const tmp = join(dirname(file), `.result.${process.pid}.tmp`);
  writeFileSync(tmp, `${JSON.stringify(result, null, 1)}\n`);
  renameSync(tmp, file);
}

/** Default output directory: results/<timestamp>/ under the current directory. */
export function defaultOutDir(now = new Date()): string {
  return join(
    'results',
    now
      .toISOString()
      .replace(/[:.]/g, '-')
      .replace(/-\d{3}Z$/, 'Z'),
  );
}
