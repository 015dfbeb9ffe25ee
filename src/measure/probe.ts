import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { PROJECT_ROOT } from '../encap/paths.js';
import { netOnly } from '../util/exec.js';

/**
 * Drives cnlab's reachability prober (prober-main.ts) in one namespace: which targets answered
 * first when, and every change of state after that (a target that stopped answering). The prober
 * is a child of this process, never of the lab: it exits when its stdin closes.
 */

const PROBER_SCRIPT = join(PROJECT_ROOT, 'dist', 'src', 'measure', 'prober-main.js');
/** TCP port probed: a closed port answers with RST, which is all reachability needs. */
const PROBE_PORT = 9;

export interface ProbeEvent {
  at: number;
  ip: string;
  ok: boolean;
}

export class Probe {
  readonly events: ProbeEvent[] = [];
  private readonly child: ChildProcess;
  private buf = '';
  private waiters: Array<() => void> = [];

  constructor(
    readonly ns: string,
    targets: string[],
    intervalMs: number,
    timeoutMs = 500,
  ) {
    const args = ['--interval', String(intervalMs), '--timeout', String(timeoutMs), '--port', String(PROBE_PORT), ...targets];
    this.child = spawn(...netOnly(ns, process.execPath, [PROBER_SCRIPT, ...args]), { stdio: ['pipe', 'pipe', 'ignore'] });
    this.child.stdout!.on('data', (b: Buffer) => {
      this.buf += b.toString();
      let nl: number;
      while ((nl = this.buf.indexOf('\n')) >= 0) {
        const [at, ip, st] = this.buf.slice(0, nl).split(' ');
        this.buf = this.buf.slice(nl + 1);
        if (ip) this.events.push({ at: Number(at), ip, ok: st === 'ok' });
      }
      const w = this.waiters;
      this.waiters = [];
      w.forEach((f) => f());
    });
    this.child.on('exit', () => this.waiters.forEach((f) => f()));
  }

  /** Whether the target answers now (its latest state). */
  okNow(ip: string): boolean {
    for (let i = this.events.length - 1; i >= 0; i--) if (this.events[i].ip === ip) return this.events[i].ok;
    return false;
  }

  /** From when (epoch ms, at or after `since`) `ip` has answered: `since` if it already did then; null if it never did. */
  firstOk(ip: string, since = 0): number | null {
    const mine = this.events.filter((e) => e.ip === ip);
    const before = mine.filter((e) => e.at < since).pop();
    if (before?.ok) return since;
    return mine.find((e) => e.ok && e.at >= since)?.at ?? null;
  }

  /** Waits until every target answers; the epoch ms at which the last one did, or null after `ms`. */
  async allOk(targets: string[], ms: number, since = 0): Promise<number | null> {
    const end = Date.now() + ms;
    while (Date.now() < end && this.child.exitCode === null) {
      if (targets.every((t) => this.okNow(t))) return Math.max(...targets.map((t) => this.firstOk(t, since) ?? since));
      await new Promise<void>((r) => {
        this.waiters.push(r);
        setTimeout(r, 50);
      });
    }
    return null;
  }

  /** The failures that began in [from, to]: the target and how long (ms) it went unanswered. */
  failures(from: number, to: number): Array<{ ip: string; ms: number }> {
    const out: Array<{ ip: string; ms: number }> = [];
    this.events.forEach((e, i) => {
      if (e.ok || e.at < from || e.at > to) return;
      const back = this.events.slice(i + 1).find((x) => x.ip === e.ip && x.ok);
      out.push({ ip: e.ip, ms: (back?.at ?? to) - e.at });
    });
    return out;
  }

  /** The longest time (ms) a target went unanswered, of the failures that began in [from, to]; 0 when none did. */
  longestFailure(from: number, to: number): number {
    return Math.max(0, ...this.failures(from, to).map((f) => f.ms));
  }

  stop(): void {
    this.child.stdin?.end();
    this.child.kill('SIGTERM');
  }
}
