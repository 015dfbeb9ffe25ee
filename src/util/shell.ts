/** Quote one argument for a POSIX shell, leaving plain words as they are. */
export function shq(arg: string): string {
  if (/^[A-Za-z0-9_@%+=:,./-]+$/.test(arg)) return arg;
  return singleQuote(arg);
}

export function shJoin(argv: readonly string[]): string {
  return argv.map(shq).join(' ');
}

/** `'…'` with each `'` written as `'\''`: the one quoting a POSIX shell never interprets inside. */
function singleQuote(arg: string): string {
  return `'${arg.replace(/'/g, `'\\''`)}'`;
}

/** Words a shell reads as syntax, not a command name, when they come first (bash/zsh keywords too). */
const RESERVED = new Set(
  ['!', '{', '}', '[[', ']]', 'case', 'coproc', 'do', 'done', 'elif', 'else', 'esac', 'fi', 'for', 'function', 'if', 'in'].concat([
    'select',
    'then',
    'time',
    'until',
    'while',
    'repeat',
    'foreach',
    'end',
  ]),
);

const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/**
 * The one way an argv becomes a command line for a remote shell (OpenSSH hands the remote
 * command to the user's login shell as one string). Stricter than shq: plain words may not hold
 * `=` or `%` (an assignment or a zsh `=cmd` expansion), the command word is quoted when it is a
 * reserved word; everything else is single-quoted, so no byte is ever interpreted (`$()`,
 * backticks, globs, newlines, non-ASCII). NUL cannot cross a command line (a C string ends
 * there) and a lone UTF-16 surrogate has no bytes of its own: both are refused, not mangled.
 * Assumes a POSIX-like login shell (sh, dash, bash, zsh, ksh), not csh or fish.
 */
export function remoteCommand(argv: readonly string[]): string {
  if (argv.length === 0) throw new Error('remote command: empty argv');
  return argv
    .map((arg, i) => {
      if (arg.includes('\0')) throw new Error(`remote command: argument ${i} contains a NUL byte`);
      if (LONE_SURROGATE.test(arg)) throw new Error(`remote command: argument ${i} is not valid Unicode`);
      const plain = /^[A-Za-z0-9_@+:,./-]+$/.test(arg) && !(i === 0 && RESERVED.has(arg));
      return plain ? arg : singleQuote(arg);
    })
    .join(' ');
}

/** `env K=V …` prefix for a command with extra environment, or nothing. */
export function envArgv(env: Record<string, string> | undefined): string[] {
  return env && Object.keys(env).length ? ['env', ...Object.entries(env).map(([k, v]) => `${k}=${v}`)] : [];
}
