/**
 * Errors the CLI turns into one line and an exit code.
 * InputError: the user's input is wrong; nothing was changed (exit 2).
 * RunError: something failed while doing the work (exit 1).
 * Each carries an optional hint telling the user what to do next.
 */
export class CnlabError extends Error {
  constructor(
    message: string,
    readonly exitCode: 1 | 2,
    readonly hint?: string,
  ) {
    super(message);
    this.name = new.target.name;
  }
}

export class InputError extends CnlabError {
  constructor(message: string, hint?: string) {
    super(message, 2, hint);
  }
}

export class RunError extends CnlabError {
  constructor(message: string, hint?: string) {
    super(message, 1, hint);
  }
}

/** One line for the terminal: the message, then the hint after a dash. */
export function oneLine(err: unknown): string {
  if (err instanceof CnlabError) {
    const text = err.hint ? `${err.message} — ${err.hint}` : err.message;
    return text.replace(/\s*\n\s*/g, '; ');
  }
  const msg = err instanceof Error ? err.message : String(err);
  return msg.replace(/\s*\n\s*/g, '; ');
}
