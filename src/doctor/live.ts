import { execArgs, netOnly } from '../util/exec.js';

/** Reading the live kernel inside a lab namespace (read-only commands). */

/** A program's stdout inside NS, or null when it failed. */
export async function readIn(ns: string, file: string, args: readonly string[], timeoutMs = 5_000): Promise<string | null> {
  const r = await execArgs(...netOnly(ns, file, args), { timeoutMs });
  return r.code === 0 ? r.stdout : null;
}

/** `ip -j …` / `bridge -j …` inside NS, parsed; [] when it failed or printed nothing. */
export async function jsonIn<T>(ns: string, file: 'ip' | 'bridge' | 'tc' | 'nft', args: readonly string[]): Promise<T[]> {
  const out = await readIn(ns, file, ['-j', ...args]);
  if (!out?.trim()) return [];
  try {
    const v = JSON.parse(out) as unknown;
    return Array.isArray(v) ? (v as T[]) : [v as T];
  } catch {
    return [];
  }
}

/** Pure: `sysctl k1 k2…` output ("key = value" lines) → key → value. */
export function parseSysctl(out: string): Map<string, string> {
  const m = new Map<string, string>();
  for (const line of out.split('\n')) {
    const i = line.indexOf(' = ');
    if (i > 0) m.set(line.slice(0, i).trim(), line.slice(i + 3).trim());
  }
  return m;
}

/** Live values of `keys` in NS (a key the kernel does not have is absent from the map). */
export async function readSysctls(ns: string, keys: readonly string[]): Promise<Map<string, string>> {
  if (!keys.length) return new Map();
  const r = await execArgs(...netOnly(ns, 'sysctl', keys), { timeoutMs: 5_000 });
  return parseSysctl(r.stdout);
}
