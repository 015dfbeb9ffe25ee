import { readFileSync } from 'node:fs';

/** cnlab's version, from package.json (two levels up from dist/src or src). */
function readVersion(): string {
  for (const rel of ['../../package.json', '../package.json']) {
    try {
      return (JSON.parse(readFileSync(new URL(rel, import.meta.url), 'utf8')) as { version: string }).version;
    } catch {
      /* try the next */
    }
  }
  return '0.0.0';
}

export const VERSION = readVersion();
