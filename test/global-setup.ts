import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { recordSuite, removeInterruptedSuitesLabs } from './helpers/suite-record.js';

/**
 * CLI tests run the built binary: build once before any test file (and the native addon if absent).
 * Labs an interrupted earlier run left behind are removed first (through their state files), so
 * that run cannot fail this one with "leftover namespaces".
 */
export default async function setup(): Promise<() => void> {
  for (const line of await removeInterruptedSuitesLabs()) process.stderr.write(`test setup: ${line}\n`);
  const done = recordSuite();
  if (!existsSync('build/Release/cnlab_tun.node')) execFileSync('npm', ['run', '--silent', 'build:native'], { stdio: 'inherit' });
  execFileSync('npx', ['tsc', '-p', 'tsconfig.json'], { stdio: 'inherit' });
  return done;
}
