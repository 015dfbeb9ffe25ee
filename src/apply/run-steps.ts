import { mkdirSync } from 'node:fs';
import { cniDir } from '../caps/detect.js';
import { cniAdd, stepInvocation } from '../cni/runtime.js';
import type { Step } from '../plan/types.js';
import { execArgs, netOnly } from '../util/exec.js';
import { envArgv } from '../util/shell.js';
import { startDaemon } from './daemon.js';
import type { CniRecord } from './state.js';

/**
 * Runs one namespace's steps of one stage, in order, batching consecutive steps of a kind into one
 * process: `ip -batch -`, `bridge -batch -`, `tc -batch -`, one `sysctl` for many keys, each
 * inside the namespace through nsenter (see netOnly). CNI attachments run one after another and are reported through onCni so the state file
 * records each before the next starts.
 */

type Kind = Step['kind'];
const BATCHED: Record<string, string> = { ip: 'ip', bridge: 'bridge', tc: 'tc' };

function groups(steps: Step[]): Step[][] {
  const out: Step[][] = [];
  for (const s of steps) {
    const last = out[out.length - 1];
    if (last && last[0].kind === s.kind && (s.kind === 'ip' || s.kind === 'bridge' || s.kind === 'tc' || s.kind === 'sysctl')) last.push(s);
    else out.push([s]);
  }
  return out;
}

function argsOf(step: Step): string[] {
  return step.kind === 'ip' || step.kind === 'bridge' || step.kind === 'tc' ? step.args : [];
}

function fail(ns: string, what: string, detail: string): never {
  throw new Error(`in ${ns}: ${what}: ${detail.trim().split('\n').slice(0, 3).join('; ')}`);
}

/** Batch lines for these steps; an argument with white space cannot be batched. */
export function batchLines(ns: string, steps: Step[]): string[] {
  return steps.map((s) => {
    const args = argsOf(s);
    if (args.some((a) => /\s/.test(a) || a === '')) fail(ns, `${s.kind} ${args.join(' ')}`, 'an argument with white space cannot be batched');
    return args.join(' ');
  });
}

async function runBatch(ns: string, kind: Kind, steps: Step[]): Promise<void> {
  const tool = BATCHED[kind];
  const lines = batchLines(ns, steps);
  const res = await execArgs(...netOnly(ns, tool, ['-batch', '-']), { input: `${lines.join('\n')}\n` });
  if (res.code !== 0) {
    // iproute2 names the failing line as "Command failed -:N".
    const m = /Command failed -:(\d+)/.exec(res.stderr);
    const line = m ? lines[Number(m[1]) - 1] : lines.join(' ; ');
    fail(ns, `${tool} ${line}`, res.stderr || `exit ${res.code}`);
  }
}

export interface StepHooks {
  /** A CNI attachment is about to be made / was made: record it. */
  onCni(rec: CniRecord): void;
  /** A daemon was spawned: record its pid before anything else happens. */
  onSpawn(pid: number, step: Extract<Step, { kind: 'daemon' }>): void;
  /** A filesystem is about to be mounted: record it (absent: mount steps are refused). */
  onMount?(step: Extract<Step, { kind: 'mount' }>): void;
}

export async function runNamespaceSteps(ns: string, steps: Step[], hooks: StepHooks): Promise<void> {
  for (const group of groups(steps)) {
    const first = group[0];
    switch (first.kind) {
      case 'ip':
      case 'bridge':
      case 'tc':
        await runBatch(ns, first.kind, group);
        break;
      case 'sysctl': {
        const kv = group.map((s) => (s.kind === 'sysctl' ? `${s.key}=${s.value}` : ''));
        const res = await execArgs(...netOnly(ns, 'sysctl', ['-qw', ...kv]));
        if (res.code !== 0) fail(ns, `sysctl -w ${kv.join(' ')}`, res.stderr || `exit ${res.code}`);
        break;
      }
      case 'nft': {
        const res = await execArgs(...netOnly(ns, 'nft', ['-f', '-']), { input: first.ruleset });
        if (res.code !== 0) fail(ns, 'nft -f -', res.stderr || `exit ${res.code}`);
        break;
      }
      case 'cni': {
        // Recorded before ADD so a crash mid-ADD still gets its DEL.
        const rec: CniRecord = { step: first };
        hooks.onCni(rec);
        rec.result = await cniAdd(stepInvocation(first, cniDir()));
        hooks.onCni(rec);
        break;
      }
      case 'exec': {
        const res = await execArgs('ip', ['netns', 'exec', ns, ...envArgv(first.env), ...first.argv], { input: first.input });
        if (res.code !== 0) fail(ns, first.argv.join(' '), res.stderr || res.stdout || `exit ${res.code}`);
        break;
      }
      case 'mount': {
        if (!hooks.onMount) fail(ns, `mount ${first.path}`, 'nothing records mounts here');
        hooks.onMount(first);
        mkdirSync(first.path, { recursive: true, mode: 0o700 });
        const res = await execArgs('mount', ['-t', first.fstype, first.fstype, first.path]);
        if (res.code !== 0) fail(ns, `mount -t ${first.fstype} ${first.path}`, res.stderr || `exit ${res.code}`);
        break;
      }
      case 'daemon':
        await startDaemon(first, (pid) => hooks.onSpawn(pid, first)).catch((e: Error) => fail(ns, `starting ${first.name}`, e.message));
        break;
    }
  }
}
