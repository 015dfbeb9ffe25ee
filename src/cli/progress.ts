import { Listr } from 'listr2';

/**
 * Progress per scheme: listr2's live renderer on a TTY, plain lines otherwise, nothing with --json
 * (stdout then carries only JSON).
 */
export interface ProgressStep {
  title: string;
  /** Runs the step; returns the line shown once it is done, or a skip reason. */
  run(status: (message: string) => void): Promise<{ line: string; skipped?: boolean }>;
}

export async function runWithProgress(steps: ProgressStep[], mode: 'tty' | 'plain' | 'silent'): Promise<void> {
  if (mode !== 'tty') {
    for (const s of steps) {
      let last = '';
      const status = (m: string) => {
        // Plain output: one line per test, not per build stage.
        if (mode === 'plain' && !m.startsWith('building:') && m !== last) process.stderr.write(`${s.title}: ${m}\n`);
        last = m;
      };
      const r = await s.run(status);
      if (mode === 'plain') process.stderr.write(`${s.title}: ${r.line}\n`);
    }
    return;
  }
  const list = new Listr(
    steps.map((s) => ({
      title: s.title,
      task: async (_: unknown, task: { output: string; title: string; skip(m: string): void }) => {
        const r = await s.run((m) => {
          task.output = m;
        });
        if (r.skipped) task.skip(`${s.title}: ${r.line}`);
        else task.title = `${s.title}: ${r.line}`;
      },
    })),
    { concurrent: false, exitOnError: false, registerSignalListeners: false, rendererOptions: { collapseSubtasks: false } },
  );
  await list.run();
}
