import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';

/** CLI tests run the built binary: build once before any test file (and the native addon if absent). */
export default function setup(): void {
  if (!existsSync('build/Release/cnlab_tun.node')) execFileSync('npm', ['run', '--silent', 'build:native'], { stdio: 'inherit' });
  execFileSync('npx', ['tsc', '-p', 'tsconfig.json'], { stdio: 'inherit' });
}
