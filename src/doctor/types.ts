/**
 * A doctor finding: one line of what is wrong, the evidence read from the live kernel, and the
 * command (an argument array, never a shell string) that puts it back as the plan says.
 */
export interface Finding {
  /** The check that found it (e.g. "sysctl", "mtu"). */
  check: string;
  /** Lower is more likely the cause; findings are printed in this order. */
  rank: number;
  what: string;
  evidence: string;
  /** Run in order; each an argv the user could type. Empty: no single command fixes it. */
  fix: string[][];
}

/** `ip netns exec NS argv…`: how a fix runs a program inside a lab namespace. */
export function inNs(ns: string, argv: readonly string[]): string[] {
  return ['ip', 'netns', 'exec', ns, ...argv];
}

/** A fix as one line a shell would accept (arguments quoted where they need it). */
export function fixLine(argv: readonly string[]): string {
  return argv.map((a) => (/^[\w@%+=:,./-]+$/.test(a) ? a : `'${a.replace(/'/g, `'\\''`)}'`)).join(' ');
}
