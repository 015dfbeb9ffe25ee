import { execArgs, type ExecOptions, type ExecResult } from './exec.js';

/**
 * Where a command runs. Everything cnlab runs is an argument array; an Executor decides which
 * machine runs it: this one (LOCAL, exactly execArgs), or a real host over SSH (see
 * remote/ssh.ts), where the same argv is quoted by util/shell.ts remoteCommand and any input
 * (an `ip -batch -` or `nft -f -` batch) travels on the session's stdin, as it does locally.
 */
export interface Executor {
  /** null for this machine, else the inventory host's name (for messages). */
  readonly host: string | null;
  /** Never rejects for a non-zero exit; rejects only when the command cannot be started. */
  run(argv: readonly string[], opts?: ExecOptions): Promise<ExecResult>;
}

export const LOCAL: Executor = {
  host: null,
  run: (argv, opts) => {
    if (argv.length === 0) return Promise.reject(new Error('empty argv'));
    return execArgs(argv[0], argv.slice(1), opts);
  },
};

/** Like Executor.run, but a non-zero exit becomes an Error naming the command, the host and stderr. */
export async function runOk(ex: Executor, argv: readonly string[], opts: ExecOptions = {}): Promise<ExecResult> {
  const res = await ex.run(argv, opts);
  if (res.code !== 0) {
    const why = (res.stderr || res.stdout).trim().split('\n').slice(-3).join('; ') || `exit ${res.code ?? res.signal}`;
    throw new Error(`${ex.host ? `on ${ex.host}: ` : ''}${argv.join(' ')}: ${why}`);
  }
  return res;
}
