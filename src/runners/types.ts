/**
 * The contract every measurement tool runner follows (after flent's runners):
 * check() says whether the tool can run here, run() executes one measurement and never throws
 * for a failed test, and parse() is a pure function from the tool's raw output to a result.
 */

/** Whether a tool is usable on this machine. */
export interface ToolCheck {
  ok: boolean;
  tool: string;
  /** e.g. "3.12" */
  version?: string;
  /** Why it is not usable and what to do, e.g. "iperf3 is not installed: apt-get install iperf3". */
  reason?: string;
}

/** A measurement that did not produce a figure, with the reason in one line. */
export interface Failure {
  ok: false;
  error: string;
}

/** What run() returns: the exact command line, the tool's raw output and the parsed result. */
export interface RunOutput<Parsed> {
  argv: string[];
  raw: string;
  result: Parsed;
}

export interface Runner<RunOptions, Parsed> {
  readonly tool: string;
  check(): Promise<ToolCheck>;
  /** Runs one measurement. A failed test becomes a parsed Failure, not a rejection. */
  run(opts: RunOptions): Promise<RunOutput<Parsed>>;
  /** Pure: raw tool output → parsed result (never throws). */
  parse(raw: string): Parsed;
}
