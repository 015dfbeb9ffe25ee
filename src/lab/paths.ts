import { join } from 'node:path';

/** Where cnlab keeps its state: one JSON file and one directory per lab. */
export const STATE_ROOT = process.env.CNLAB_STATE_ROOT ?? '/run/cnlab';

export function labStateFile(lab: string): string {
  return join(STATE_ROOT, `${lab}.json`);
}

export function labStateDir(lab: string): string {
  return join(STATE_ROOT, lab);
}

/** Where the SSH control sockets to the user's hosts live (`-i hosts.yaml`). */
export const SSH_CONTROL_DIR = join(STATE_ROOT, 'hosts');
