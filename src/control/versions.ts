import { execArgs } from '../util/exec.js';

/**
 * The version of a control-plane program, as its `--version` prints it (BIRD writes it to
 * standard error: "BIRD version 2.0.12"; etcd: "etcd Version: 3.4.23"). Pure parsing is split
 * from running the program so it can be tested on captured output.
 */
export function parseVersion(name: string, output: string): string | null {
  const m = /\bversion:?\s+v?(\d+\.\d+(?:\.\d+)?\S*)/i.exec(output);
  return m ? `${name} ${m[1]}` : null;
}

/** "bird 2.0.12", or "bird (version unknown)" when it cannot be read. */
export async function daemonVersion(name: string): Promise<string> {
  try {
    const r = await execArgs(name, ['--version'], { timeoutMs: 5000 });
    return parseVersion(name, `${r.stdout}\n${r.stderr}`) ?? `${name} (version unknown)`;
  } catch {
    return `${name} (version unknown)`;
  }
}
