import { cniDir } from '../caps/detect.js';
import { cniAdd, stepInvocation } from '../cni/runtime.js';
import { chmodSync, mkdirSync, writeFileSync } from 'node:fs';
import { dirname, resolve, sep } from 'node:path';
import { STATE_ROOT } from '../lab/paths.js';
import { mountArgs, programOf, sysctlArgs, toolArgs, type BatchTool } from '../plan/argv.js';
import type { FileStep, MountStep, Step } from '../plan/types.js';
import { execArgs, netOnly } from '../util/exec.js';
import { executorOf, runIn, type Executor } from '../util/executor.js';
import { envArgv } from '../util/shell.js';
import { startDaemon, startRemoteDaemon } from './daemon.js';
import type { CniRecord } from './state.js';

/**
 * Runs one namespace's steps of one stage, in order, batching consecutive steps of one tool into
 * one process (argv from plan/argv.ts, shared with the plan script): `ip -batch -`,
 * `bridge -batch -`, `tc -batch -`, one `sysctl` for many keys, each inside the namespace through
 * nsenter (see netOnly). CNI attachments run one after another and are reported through onCni so
 * the state file records each before the next starts.
 */

/** The tool a step is batched into: an iproute2 tool, or sysctl; undefined when it runs alone. */
function batchOf(step: Step): string | undefined {
  return step.kind === 'sysctl' ? 'sysctl' : toolArgs(step)?.tool;
}

function groups(steps: Step[]): Step[][] {
  const out: Step[][] = [];
  for (const s of steps) {
    const last = out[out.length - 1];
    const tool = batchOf(s);
    if (last && tool !== undefined && batchOf(last[0]) === tool) last.push(s);
    else out.push([s]);
  }
  return out;
}

function fail(ns: string, what: string, detail: string): never {
  throw new Error(`in ${ns}: ${what}: ${detail.trim().split('\n').slice(0, 3).join('; ')}`);
}

/** Batch lines for these steps; an argument with white space cannot be batched. */
export function batchLines(ns: string, steps: Step[]): string[] {
  return steps.map((s) => {
    const args = toolArgs(s)?.args ?? [];
    if (args.some((a) => /\s/.test(a) || a === ''))
      fail(ns, `${s.kind} ${args.join(' ')}`, 'an argument with white space cannot be batched');
    return args.join(' ');
  });
}

async function runBatch(ns: string, tool: BatchTool, steps: Step[]): Promise<void> {
  const lines = batchLines(ns, steps);
  const res = await runIn(ns, netOnly(ns, tool, ['-batch', '-']), { input: `${lines.join('\n')}\n` });
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
  /** A daemon was spawned: record its pid (and, on another machine, its start time there) before anything else happens. */
  onSpawn(pid: number, step: Extract<Step, { kind: 'daemon' }>, startTime?: number): void;
  /** A filesystem is about to be mounted: record it (absent: mount steps are refused). */
  onMount?(step: MountStep): void;
}

export async function runNamespaceSteps(ns: string, steps: Step[], hooks: StepHooks): Promise<void> {
  for (const group of groups(steps)) {
    const first = group[0];
    const batched = toolArgs(first);
    if (batched) {
      await runBatch(ns, batched.tool, group);
      continue;
    }
    const program = programOf(first);
    if (program) {
      const res = await executorOf(ns).run(['ip', 'netns', 'exec', ns, ...envArgv(program.env), ...program.argv], { input: program.input });
      if (res.code !== 0) fail(ns, program.argv.join(' '), res.stderr || res.stdout || `exit ${res.code}`);
      continue;
    }
    const ex = executorOf(ns);
    if (ex.host && first.kind === 'mount') fail(ns, `mount ${first.path}`, `not built over SSH yet (on host ${ex.host})`);
    switch (first.kind) {
      case 'sysctl': {
        const args = sysctlArgs(group);
        const res = await runIn(ns, netOnly(ns, 'sysctl', args));
        if (res.code !== 0) fail(ns, `sysctl -w ${args.slice(1).join(' ')}`, res.stderr || `exit ${res.code}`);
        break;
      }
      case 'nft': {
        const res = await runIn(ns, netOnly(ns, 'nft', ['-f', '-']), { input: first.ruleset });
        if (res.code !== 0) fail(ns, 'nft -f -', res.stderr || `exit ${res.code}`);
        break;
      }
      case 'cni': {
        // Recorded before ADD so a crash mid-ADD still gets its DEL.
        const rec: CniRecord = { step: first };
        hooks.onCni(rec);
        rec.result = await cniAdd({ ...stepInvocation(first, ex.host ? undefined : cniDir()), executor: ex });
        hooks.onCni(rec);
        break;
      }
      case 'file':
        if (ex.host) await writeRemoteFile(ex, ns, first);
        else writeLabFile(ns, first);
        break;
      case 'mount': {
        if (!hooks.onMount) fail(ns, `mount ${first.path}`, 'nothing records mounts here');
        hooks.onMount(first);
        mkdirSync(first.path, { recursive: true, mode: 0o700 });
        const res = await execArgs('mount', mountArgs(first));
        if (res.code !== 0) fail(ns, `mount -t ${first.fstype} ${first.path}`, res.stderr || `exit ${res.code}`);
        break;
      }
      case 'daemon':
        await (
          ex.host
            ? startRemoteDaemon(ex, first, (pid, start) => hooks.onSpawn(pid, first, start))
            : startDaemon(first, (pid) => hooks.onSpawn(pid, first))
        ).catch((e: Error) => fail(ns, `starting ${first.name}`, e.message));
        break;
      default:
        fail(ns, first.kind, 'no way to apply this kind of step');
    }
  }
}

/** The file's path, only under the state root (never elsewhere on the machine). */
function labPath(ns: string, step: FileStep): string {
  const path = resolve(step.path);
  if (!path.startsWith(`${resolve(STATE_ROOT)}${sep}`)) fail(ns, `writing ${step.path}`, `config files go under ${STATE_ROOT} only`);
  return path;
}

/** The same file on another machine: its content on the session's stdin, mode set before it is filled. */
async function writeRemoteFile(ex: Executor, ns: string, step: FileStep): Promise<void> {
  const path = labPath(ns, step);
  const mode = (step.mode ?? 0o600).toString(8);
  const script = 'mkdir -p -m 0700 "$(dirname "$1")" && : > "$1" && chmod "$2" "$1" && cat > "$1"';
  const res = await ex.run(['sh', '-c', script, 'sh', path, mode], {
    input: step.content.endsWith('\n') ? step.content : `${step.content}\n`,
  });
  if (res.code !== 0) fail(ns, `writing ${path} on host ${ex.host}`, res.stderr || `exit ${res.code}`);
}

/** A config file, only under the state root (never elsewhere on the machine). */
function writeLabFile(ns: string, step: FileStep): void {
  const path = labPath(ns, step);
  mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  writeFileSync(path, step.content.endsWith('\n') ? step.content : `${step.content}\n`, { mode: step.mode ?? 0o600 });
  chmodSync(path, step.mode ?? 0o600);
}
