import type { Step } from '../../plan/types.js';

/**
 * A file the plan writes into the lab's state directory (a daemon's configuration), with its
 * directory. Until the plan has a step kind of its own for files, an exec step copies its
 * standard input into the file (dd), so `cnlab plan` prints the content as a heredoc.
 */
export function writeFileSteps(ns: string, dir: string, path: string, content: string): Step[] {
  return [
    { kind: 'exec', ns, argv: ['mkdir', '-p', '-m', '0700', dir] },
    { kind: 'exec', ns, argv: ['dd', `of=${path}`, 'status=none'], input: content },
  ];
}
