import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { remoteCommand } from '../src/util/shell.js';

/**
 * remoteCommand is the only way an argv reaches a remote shell. Each hostile argv is quoted,
 * handed to a real shell as one string (as sshd hands it to the login shell) after a printf
 * that prints every argument NUL-terminated, and the bytes that come back must be the argv.
 */

const SHELLS = ['/bin/sh', '/bin/bash', '/bin/dash', '/usr/bin/zsh'].filter((s) => existsSync(s));

function roundTrip(shell: string, argv: string[]): string[] {
  const out = execFileSync(shell, ['-c', remoteCommand(['printf', '%s\\0', ...argv])], {
    cwd: '/',
    env: { PATH: '/usr/bin:/bin', HOME: '/nonexistent' },
  });
  const parts = out.toString('utf8').split('\0');
  expect(parts.pop()).toBe('');
  return parts;
}

const HOSTILE: Record<string, string[]> = {
  spaces: ['a b', '  lead', 'trail  ', '\ttab'],
  'single quotes': ["it's", "'", "''", "a'b'c"],
  'double quotes': ['"', 'say "hi"', '"$HOME"'],
  'command substitution': ['$(touch /tmp/cnlab-pwned)', '$(id)', '${PATH}', '$HOME', '$0', '$@'],
  backticks: ['`id`', '`touch /tmp/cnlab-pwned`'],
  newlines: ['a\nb', '\n', 'x\n; touch /tmp/cnlab-pwned\n', '\r\n'],
  globs: ['*', '/*', '?', '[a-z]*', '{a,b}', '~', '~root'],
  'empty strings': ['', '', 'x', ''],
  'leading dashes': ['-n', '--', '-e', '-rf', '-'],
  operators: [';', '&&', '||', '|', '&', '>', '<', '>>', '2>&1', '#comment', '!', '(', ')'],
  assignments: ['A=1', '=x', '%1', 'a=b=c'],
  'non-ASCII': ['héllo', '日本語', '🙂', 'ü\u0301', '\u00a0'],
  backslashes: ['\\', '\\n', 'a\\', "\\'"],
  'control bytes': ['\x01\x02\x7f', '\x1b[31m'],
};

describe('remoteCommand round-trips through real shells', () => {
  for (const shell of SHELLS) {
    for (const [what, argv] of Object.entries(HOSTILE)) {
      it(`${shell}: ${what}`, () => {
        expect(roundTrip(shell, argv)).toEqual(argv);
      });
    }
  }

  it('never runs what it quotes', () => {
    expect(existsSync('/tmp/cnlab-pwned')).toBe(false);
  });
});

describe('remoteCommand: the command word', () => {
  it('leaves plain words readable', () => {
    expect(remoteCommand(['ip', '-n', 'cnl-a-h1', 'link', 'show', 'dev', 'eth0'])).toBe('ip -n cnl-a-h1 link show dev eth0');
  });

  it('quotes an assignment-looking command word, which a shell would not run', () => {
    expect(remoteCommand(['A=1', 'x'])).toBe("'A=1' x");
  });

  it('quotes reserved words in command position only', () => {
    expect(remoteCommand(['if', 'then'])).toBe("'if' then");
    expect(remoteCommand(['time', 'true'])).toBe("'time' true");
  });

  it('a reserved word quoted as a command is a command not found, not syntax', () => {
    for (const shell of SHELLS) {
      let status = 0;
      try {
        execFileSync(shell, ['-c', remoteCommand(['if'])], { stdio: 'ignore' });
      } catch (e) {
        status = (e as { status: number }).status;
      }
      expect(status, shell).toBe(127);
    }
  });
});

describe('remoteCommand refuses what no command line can carry', () => {
  it('NUL', () => {
    expect(() => remoteCommand(['echo', 'a\0b'])).toThrow(/argument 1 contains a NUL byte/);
  });

  it('a lone surrogate', () => {
    expect(() => remoteCommand(['echo', 'x\uD800'])).toThrow(/argument 1 is not valid Unicode/);
    expect(() => remoteCommand(['echo', '\uDC00'])).toThrow(/not valid Unicode/);
  });

  it('an empty argv', () => {
    expect(() => remoteCommand([])).toThrow(/empty argv/);
  });
});
