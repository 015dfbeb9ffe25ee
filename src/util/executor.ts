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

/**
 * Which machine each lab namespace lives on. A lab on the user's own hosts (`-i hosts.yaml`)
 * places each host's namespaces on that host's SSH executor before anything is built; every
 * command run inside a namespace asks here (runIn), so apply, servers, clients and teardown run
 * the same argv on the machine that holds the namespace. Unplaced namespaces are this machine's.
 */
const placement = new Map<string, Executor>();

export function placeNamespaces(namespaces: readonly string[], ex: Executor): void {
  for (const ns of namespaces) placement.set(ns, ex);
}

export function unplaceNamespaces(namespaces: readonly string[]): void {
  for (const ns of namespaces) placement.delete(ns);
}

export function executorOf(ns: string): Executor {
  return placement.get(ns) ?? LOCAL;
}

/** Run an argv built for a namespace (inNetns/netOnly's [file, args]) on the machine holding it. */
export function runIn(ns: string, [file, args]: readonly [string, readonly string[]], opts?: ExecOptions): Promise<ExecResult> {
  return executorOf(ns).run([file, ...args], opts);
}

/** Group namespaces by the executor holding them (LOCAL first when present). */
export function byExecutor(namespaces: readonly string[]): Map<Executor, string[]> {
  const out = new Map<Executor, string[]>();
  for (const ns of namespaces) {
    const ex = executorOf(ns);
    out.set(ex, [...(out.get(ex) ?? []), ns]);
  }
  return out;
}

/**
 * Hosts that stopped answering: an SSH executor that gives up on a host (after its retries) records
 * one line naming it here. The suite checks after each run and ends the scheme with that line.
 */
const lost: string[] = [];

export function markHostLost(line: string): void {
  if (!lost.includes(line)) lost.push(line);
}

/** The first host lost since the last reset, or null. */
export function lostHost(): string | null {
  return lost[0] ?? null;
}

export function resetLostHosts(): void {
  lost.length = 0;
}
