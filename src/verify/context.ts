import { spawn } from 'node:child_process';
import { trackProcess, untrackProcess } from '../apply/state.js';
import type { UpLab } from '../apply/up.js';
import type { Scheme } from '../plan/scheme.js';
import type { EvidenceCommand } from '../result/verify.js';
import { execArgs, netOnly, type ExecResult } from '../util/exec.js';
import type { Background, ProbeContext } from './types.js';

/** Output kept per command in the evidence (captures can be long). */
const KEEP = 8_000;
const clip = (s: string) => (s.length > KEEP ? `${s.slice(0, KEEP)}\n… (${s.length - KEEP} more characters)` : s);

/** Node name → namespace for a built lab: hosts, containers, the switch and the scheme's extra nodes. */
function nodeNs(up: UpLab, node: string): string {
  const fromState = up.state.nodes[node];
  if (fromState) return fromState;
  throw new Error(`verify: no node ${node} in lab ${up.lab.name}`);
}

/** A probe's context on a built lab; every command lands in `commands`; `cleanup` stops what is still running. */
export function probeContext(
  up: UpLab,
  scheme: Scheme,
  marker: string,
): { ctx: ProbeContext; commands: EvidenceCommand[]; standIns: string[]; cleanup: () => Promise<void> } {
  const commands: EvidenceCommand[] = [];
  const standIns: string[] = [];
  const running = new Set<() => Promise<ExecResult>>();
  const record = (node: string, argv: string[], r: ExecResult) =>
    commands.push({ node, argv, code: r.code, stdout: clip(r.stdout), stderr: clip(r.stderr) });
  const ctx: ProbeContext = {
    up,
    scheme,
    marker,
    async exec(node, file, args, opts) {
      const [f, a] = netOnly(nodeNs(up, node), file, args);
      const r = await execArgs(f, a, { timeoutMs: 10_000, ...opts });
      record(node, [file, ...args], r);
      return r;
    },
    async background(node, file, args): Promise<Background> {
      const ns = nodeNs(up, node);
      const [f, a] = netOnly(ns, file, args);
      const child = spawn(f, a, { stdio: ['ignore', 'pipe', 'pipe'] });
      if (child.pid) trackProcess(up.state, child.pid, ns, `verify ${file}`, [f, ...a]);
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (b: Buffer) => (stdout += b.toString()));
      child.stderr.on('data', (b: Buffer) => (stderr += b.toString()));
      const closed = new Promise<ExecResult>((resolve) => {
        child.on('error', (e) => resolve({ code: 127, signal: null, stdout, stderr: stderr + String(e) }));
        child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr }));
      });
      // tcpdump and most tools say they are ready on stderr; give them up to 2 s.
      for (let i = 0; i < 40 && !stderr && child.exitCode === null; i++) await new Promise((r) => setTimeout(r, 50));
      const stop = async () => {
        running.delete(stop);
        if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
        const timer = setTimeout(() => child.kill('SIGKILL'), 3_000);
        const r = await closed;
        clearTimeout(timer);
        if (child.pid) untrackProcess(up.state, child.pid);
        record(node, [file, ...args], r);
        return r;
      };
      running.add(stop);
      return { stop };
    },
    standIn(label) {
      if (!standIns.includes(label)) standIns.push(label);
    },
  };
  const cleanup = async () => {
    for (const stop of [...running]) await stop();
  };
  return { ctx, commands, standIns, cleanup };
}
