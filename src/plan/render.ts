import { cniShell } from '../cni/render.js';
import { dirname } from 'node:path';
import { labStateDir } from '../lab/paths.js';
import { envArgv, shJoin, shq } from '../util/shell.js';
import type { Plan, Step } from './types.js';

/**
 * A plan as the shell script a person would type: `ip netns add`, `ip -n NS …`, sysctl and nft
 * inside the namespace, and the CNI plugin invocations. Running it builds the same network.
 */

export function stepShell(step: Step, cniPath: string): string[] {
  switch (step.kind) {
    case 'ip':
      return [shJoin(['ip', '-n', step.ns, ...step.args])];
    case 'bridge':
      return [shJoin(['bridge', '-n', step.ns, ...step.args])];
    case 'tc':
      return [shJoin(['tc', '-n', step.ns, ...step.args])];
    case 'sysctl':
      return [shJoin(['ip', 'netns', 'exec', step.ns, 'sysctl', '-qw', `${step.key}=${step.value}`])];
    case 'nft':
      return [`${shJoin(['ip', 'netns', 'exec', step.ns, 'nft', '-f', '-'])} <<'NFT'`, step.ruleset.trimEnd(), 'NFT'];
    case 'cni':
      return cniShell(step, cniPath);
    case 'exec': {
      const cmd = shJoin(['ip', 'netns', 'exec', step.ns, ...envArgv(step.env), ...step.argv]);
      return step.input === undefined ? [cmd] : [`${cmd} <<'INPUT'`, step.input.trimEnd(), 'INPUT'];
    }
    case 'mount':
      return [shJoin(['mkdir', '-p', step.path]), shJoin(['mount', '-t', step.fstype, step.fstype, step.path])];
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
