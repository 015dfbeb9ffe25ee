import { dirname, join, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * Where the encapsulation daemon's pieces live. The daemon always runs from the build (dist/),
 * whether the caller is the built CLI or a test importing the TypeScript sources; the native addon
 * is node-gyp's output under build/Release.
 */

function projectRoot(): string {
  const here = dirname(fileURLToPath(import.meta.url));
  const dist = here.lastIndexOf(`${sep}dist${sep}src${sep}`);
  if (dist >= 0) return here.slice(0, dist);
  return join(here, '..', '..');
}

export const PROJECT_ROOT = projectRoot();
/** The daemon's entry point (`node DAEMON_SCRIPT run …`). */
export const DAEMON_SCRIPT = join(PROJECT_ROOT, 'dist', 'src', 'encap', 'main.js');
/** The TUN/TAP addon built by `npm run build:native` (native/tun.c). */
export const ADDON_PATH = join(PROJECT_ROOT, 'build', 'Release', 'cnlab_tun.node');
