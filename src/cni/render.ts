import type { CniStep } from './types.js';
import { shJoin, shq } from '../util/shell.js';
import { pluginArgv, pluginConfig, pluginEnv, stepInvocation, DEFAULT_CNI_PATH } from './runtime.js';

/**
 * A 'cni' step as POSIX shell a person could paste: the same ADD the runtime does, each plugin
 * fed its config with printf (single-quoted by shq, an embedded ' written as '\''). In a chain
 * each result is kept in a shell variable and spliced into the next config as "prevResult"
 * (printf '%s', no jq); a failing plugin's error is shown on stderr and the line fails (so a
 * `set -e` script stops). The last plugin's result is printed.
 */

export function cniShell(step: CniStep, cniPath: string = DEFAULT_CNI_PATH): string[] {
  const inv = stepInvocation(step, cniPath);
  const env = Object.entries(pluginEnv('ADD', inv))
    .filter(([key]) => key !== 'PATH')
    .map(([key, value]) => `${key}=${shq(value)}`)
    .join(' ');
  const plugins = step.conflist.plugins;
  const run = (type: string) => `${env} ${shJoin(pluginArgv(step.ns, cniPath, type).flat())}`;
  const config = (i: number) => JSON.stringify(pluginConfig(step.conflist, i, step.runtimeConfig));
  const first = `printf '%s' ${shq(config(0))} | ${run(plugins[0]!.type)}`;
  if (plugins.length === 1) return [first];

  const title = `CNI ADD ${step.containerId}: ${plugins.map((p) => p.type).join(' -> ')}`;
  const lines: string[] = [`# ${title.replace(/[^\w .:>-]/g, '?')}`];
  const outVar = (i: number) => `cni_out_${i + 1}`;
  const capture = (i: number, pipeline: string) => `${outVar(i)}=$(${pipeline}) || { printf '%s\\n' "$${outVar(i)}" >&2; false; }`;
  lines.push(capture(0, first));
  for (let i = 1; i < plugins.length; i++) {
    // The config without its closing brace, then ,"prevResult":<previous output>}.
    const head = `${config(i).slice(0, -1)},"prevResult":`;
    const feed = `printf '%s%s%s' ${shq(head)} "$${outVar(i - 1)}" '}'`;
    lines.push(capture(i, `${feed} | ${run(plugins[i]!.type)}`));
  }
  lines.push(`printf '%s\\n' "$${outVar(plugins.length - 1)}"`);
  return lines;
}
