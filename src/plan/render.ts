import { cniShell } from '../cni/render.js';
import { dirname } from 'node:path';
import { labStateDir } from '../lab/paths.js';
import { envArgv, shJoin, shq } from '../util/shell.js';
import { mountArgs, programOf, sysctlArgs, toolArgs } from './argv.js';
import type { Plan, Step } from './types.js';

/**
 * A plan as the shell script a person would type: `ip netns add`, `ip -n NS …` (argv from
 * plan/argv.ts, shared with apply), sysctl and nft inside the namespace, config files as heredocs,
 * and the CNI plugin invocations. Running it builds the same network.
 */

export function stepShell(step: Step, cniPath: string): string[] {
  const batched = toolArgs(step);
  if (batched) return [shJoin([batched.tool, '-n', step.ns, ...batched.args])];
  const program = programOf(step);
  if (program) {
    const cmd = shJoin(['ip', 'netns', 'exec', step.ns, ...envArgv(program.env), ...program.argv]);
    return program.input === undefined ? [cmd] : [`${cmd} <<'INPUT'`, program.input.trimEnd(), 'INPUT'];
  }
  switch (step.kind) {
    case 'sysctl':
      return [shJoin(['ip', 'netns', 'exec', step.ns, 'sysctl', ...sysctlArgs([step])])];
    case 'nft':
      return [`${shJoin(['ip', 'netns', 'exec', step.ns, 'nft', '-f', '-'])} <<'NFT'`, step.ruleset.trimEnd(), 'NFT'];
    case 'cni':
      return cniShell(step, cniPath);
    case 'file': {
      const mode = (step.mode ?? 0o600).toString(8).padStart(4, '0');
      return [
        shJoin(['mkdir', '-p', dirname(step.path)]),
        `(umask 077 && cat > ${shq(step.path)}) <<'FILE'`,
        step.content.trimEnd(),
        'FILE',
        shJoin(['chmod', mode, step.path]),
      ];
    }
    case 'mount':
      return [shJoin(['mkdir', '-p', step.path]), shJoin(['mount', ...mountArgs(step)])];
    case 'daemon': {
      const lines = [
        shJoin(['mkdir', '-p', dirname(step.log)]),
        `${shJoin(['ip', 'netns', 'exec', step.ns, ...envArgv(step.env), ...step.argv])} > ${shq(step.log)} 2>&1 &`,
      ];
      if (step.readyFile) {
        // Wait up to 15 s for the daemon, as cnlab does, rather than forever.
        const f = shq(step.readyFile);
        lines.push(`i=0; while [ ! -e ${f} ] && [ $i -lt 150 ]; do sleep 0.1; i=$((i+1)); done`);
        lines.push(`[ -e ${f} ] || { echo ${shq(`${step.name} did not start: see ${step.log}`)} >&2; exit 1; }`);
      }
      return lines;
    }
    default:
      throw new Error(`no shell rendering for a ${step.kind} step`);
  }
}

export function renderPlan(plan: Plan, cniPath = '/usr/lib/cni'): string {
  // Daemons outlive their namespace's name: stop what runs in those namespaces first.
  const daemonNs = [...new Set(plan.stages.flatMap((s) => s.steps.flatMap((st) => (st.kind === 'daemon' ? [st.ns] : []))))];
  const mounts = plan.stages.flatMap((s) => s.steps.flatMap((st) => (st.kind === 'mount' ? [st.path] : [])));
  const out: string[] = [
    '#!/bin/sh',
    `# cnlab plan: scheme ${plan.scheme}, lab ${plan.lab}. Run as root.`,
    '# Built by hand, it has no cnlab state file; remove it afterwards with:',
    ...(daemonNs.length ? [`#   for ns in ${daemonNs.join(' ')}; do ip netns pids $ns | xargs -r kill; done`] : []),
    `#   for ns in ${plan.namespaces.join(' ')}; do ip netns del $ns; done;${mounts.length ? ` umount ${mounts.join(' ')};` : ''} rm -rf ${labStateDir(plan.lab)}`,
    'set -e',
    '',
    '# namespaces',
    ...plan.namespaces.map((ns) => shJoin(['ip', 'netns', 'add', ns])),
  ];
  for (const stage of plan.stages) {
    out.push('', `# ${stage.title}`);
    for (const step of stage.steps) out.push(...stepShell(step, cniPath));
  }
  return `${out.join('\n')}\n`;
}
