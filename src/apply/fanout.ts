import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { execArgs } from '../util/exec.js';

/**
 * Many namespaces' `ip` batches through one `xargs -P`, instead of one process spawned from Node
 * per namespace (which costs ~2-3 ms each: a thousand containers would take seconds). Each
 * namespace's lines go to a batch file in the lab's state directory; xargs runs
 * `nsenter --net=/run/netns/NS ip -batch FILE` for each (see netOnly in util/exec.ts), with
 * argument tokens only (no shell).
 */

export const FANOUT_MIN = 16;

export async function ipFanout(stateDir: string, batches: Array<{ ns: string; lines: string[] }>, parallel = 4): Promise<void> {
  const dir = join(stateDir, 'batch');
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const files = new Map<string, string>();
  for (const b of batches) {
    const file = join(dir, `${b.ns}.ip`);
    writeFileSync(file, `${b.lines.join('\n')}\n`);
    files.set(file, b.ns);
  }
  const input = [...files.keys()].map((f) => `--net=/run/netns/${files.get(f)} ip -batch ${f}`).join('\n');
  try {
    const res = await execArgs('xargs', ['-L', '1', '-P', String(parallel), 'nsenter'], { input: `${input}\n` });
    if (res.code !== 0) {
      // iproute2 names the failing line as "Command failed FILE:N".
      const m = /Command failed (\S+):(\d+)/.exec(res.stderr);
      const ns = m ? files.get(m[1]) : undefined;
      const line = m && ns ? batches.find((b) => b.ns === ns)?.lines[Number(m[2]) - 1] : undefined;
      const why = res.stderr
        .trim()
        .split('\n')
        .filter((l) => !l.startsWith('Command failed'))
        .slice(0, 2)
        .join('; ');
      throw new Error(ns ? `in ${ns}: ip ${line}: ${why}` : `ip batches failed: ${why || `xargs exit ${res.code}`}`);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
