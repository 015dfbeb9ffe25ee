import { spawn } from 'node:child_process';

export interface ExecResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

export interface ExecOptions {
  /** Written to the child's stdin, which is then closed. */
  input?: string;
  /** Kill the child (SIGKILL) after this many milliseconds. */
  timeoutMs?: number;
  env?: NodeJS.ProcessEnv;
}

/**
 * Run a program with an argument array (never a shell string) and collect its output.
 * Never rejects for a non-zero exit: callers decide what a failure means.
 * Rejects only when the program cannot be started (e.g. not installed).
 */
export function execArgs(file: string, args: readonly string[], opts: ExecOptions = {}): Promise<ExecResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(file, args, {
      stdio: ['pipe', 'pipe', 'pipe'],
      env: opts.env ?? process.env,
    });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    let timer: NodeJS.Timeout | undefined;
    if (opts.timeoutMs) timer = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs);
    child.stdout.on('data', (b: Buffer) => out.push(b));
    child.stderr.on('data', (b: Buffer) => err.push(b));
    child.on('error', (e) => {
      if (timer) clearTimeout(timer);
      reject(e);
    });
    child.on('close', (code, signal) => {
      if (timer) clearTimeout(timer);
      resolve({ code, signal, stdout: Buffer.concat(out).toString(), stderr: Buffer.concat(err).toString() });
    });
    child.stdin.on('error', () => {
      /* the child may exit before reading its stdin */
    });
    child.stdin.end(opts.input ?? '');
  });
}

/** Like execArgs, but a non-zero exit becomes an Error carrying the command and its stderr. */
export async function execOk(file: string, args: readonly string[], opts: ExecOptions = {}): Promise<ExecResult> {
  const res = await execArgs(file, args, opts);
  if (res.code !== 0) {
    const what = [file, ...args].join(' ');
    const why = (res.stderr || res.stdout).trim().split('\n').slice(-3).join('; ') || `exit ${res.code ?? res.signal}`;
    throw new Error(`${what}: ${why}`);
  }
  return res;
}

/** argv prefix that runs a program inside a named network namespace. */
export function inNetns(ns: string, file: string, args: readonly string[]): [string, string[]] {
  return ['ip', ['netns', 'exec', ns, file, ...args]];
}

/**
 * Like inNetns, but only joins the network namespace (nsenter --net). `ip netns exec` and `ip -n`
 * also unshare a mount namespace and remount /sys, which costs more the more namespaces exist
 * (each copies a mount table holding every /run/netns bind mount). Enough for netlink, sysctl
 * and nft; not for programs that read /sys/class/net (CNI plugins), which keep inNetns.
 */
export function netOnly(ns: string, file: string, args: readonly string[]): [string, string[]] {
  return ['nsenter', [`--net=/run/netns/${ns}`, file, ...args]];
}
