import type { Step } from '../../plan/types.js';

/** An exec step (a one-shot program inside a namespace), read like the command it stands for. */
export const exec = (ns: string, argv: string[], env?: Record<string, string>): Step => (env ? { kind: 'exec', ns, argv, env } : { kind: 'exec', ns, argv });
