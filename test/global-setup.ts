import { execFileSync } from 'node:child_process';

/** CLI tests run the built binary: build once before any test file. */
export default function setup(): void {
  execFileSync('npx', ['tsc', '-p', 'tsconfig.json'], { stdio: 'inherit' });
}
