import { toolArgs } from '../../src/plan/argv.js';
import type { Step } from '../../src/plan/types.js';

/** A step as the iproute2 command line apply and the plan script run: [tool, ...args], or undefined. */
export function toolLine(s: Step): string[] | undefined {
  const t = toolArgs(s);
  return t ? [t.tool, ...t.args] : undefined;
}

/** The `ip` arguments of a step that `ip` makes, or undefined. */
export function ipArgs(s: Step): string[] | undefined {
  const t = toolArgs(s);
  return t?.tool === 'ip' ? t.args : undefined;
}
