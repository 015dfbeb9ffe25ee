import { Listr } from 'listr2';

/**
 * Progress per scheme: on a TTY one live line per scheme (listr2) — what it is doing, the last
 * figure it measured, the time it has taken and about how long it has left; plain lines
 * otherwise (one per test, not per build stage); nothing with --json (stdout then carries only JSON).
 */
export interface ProgressStep {
  title: string;
  /** Runs the step; returns the line shown once it is done, or a skip reason. */
  run(status: (message: string) => void): Promise<{ line: string; skipped?: boolean }>;
  /** Expected seconds for the whole step, for the ETA. */
  estimateSeconds?: number;
  /** The last figure the step measured so far ("tcp-1/cross 8.1 Gbit/s"), if any. */
  lastFigure?(): string | undefined;
}

const secs = (s: number) => (s >= 90 ? `${Math.floor(s / 60)}m${String(Math.round(s % 60)).padStart(2, '0')}s` : `${Math.round(s)}s`);

/** Pure: the live line of a step — "tcp-1/cross run 2/3 · last udp/cross 0.95 Gbit/s · 12s, about 20s left". */
export function liveLine(title: string, message: string, elapsed: number, estimate?: number, figure?: string): string {
  const left = estimate === undefined ? '' : estimate > elapsed ? `, about ${secs(estimate - elapsed)} left` : ', finishing';
  return `${title}: ${message}${figure ? ` · last ${figure}` : ''} · ${secs(elapsed)}${left}`;
}

export async function runWithProgress(steps: ProgressStep[], mode: 'tty' | 'plain' | 'silent'): Promise<void> {
  if (mode !== 'tty') {
    for (const s of steps) {
      let last = '';
      const t0 = Date.now();
      const status = (m: string) => {
        // Plain output: one line per test, not per build stage.
        if (mode === 'plain' && !m.startsWith('building:') && m !== last) process.stderr.write(`${s.title}: ${m}\n`);
        last = m;
      };
      const r = await s.run(status);
      if (mode === 'plain') process.stderr.write(`${s.title}: ${r.line} (${secs((Date.now() - t0) / 1000)})\n`);
    }
    return;
  }
  const list = new Listr(
    steps.map((s) => ({
      title: s.title,
      task: async (_: unknown, task: { title: string; skip(m: string): void }) => {
        const t0 = Date.now();
        let message = 'starting';
        const draw = () => {
          task.title = liveLine(s.title, message, (Date.now() - t0) / 1000, s.estimateSeconds, s.lastFigure?.());
        };
        // The elapsed time and ETA move on between status messages too.
        const timer = setInterval(draw, 1000);
        try {
          const r = await s.run((m) => {
            message = m;
            draw();
          });
          if (r.skipped) task.skip(`${s.title}: ${r.line}`);
          else task.title = `${s.title}: ${r.line} (${secs((Date.now() - t0) / 1000)})`;
        } finally {
          clearInterval(timer);
        }
      },
    })),
    { concurrent: false, exitOnError: false, registerSignalListeners: false, rendererOptions: { collapseSubtasks: false } },
  );
  await list.run();
}
