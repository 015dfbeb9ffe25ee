import { join } from 'node:path';
import { PROJECT_ROOT } from '../encap/paths.js';

/** cnlab's flannel agent runs from the build (dist/), like the encapsulation daemon. */
export const AGENT_SCRIPT = join(PROJECT_ROOT, 'dist', 'src', 'flannel', 'main.js');
