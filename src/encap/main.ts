#!/usr/bin/env node
import { CnlabError, oneLine } from '../errors.js';
import { parseDaemonArgs } from './config.js';
import { runDaemon } from './daemon.js';
import { generateKeyFile } from './keys.js';

/**
 * The encapsulation daemon's entry point (cnlab starts it; it is not a user command):
 *   main.js run --mode tun|tap --dev NAME --listen IP:PORT … (see config.ts)
 *   main.js genkey FILE      a fresh 32-byte lab key, mode 0600, never printed
 */

const log = (line: string) => process.stdout.write(`${new Date().toISOString()} ${line}\n`);

try {
  const [cmd, ...rest] = process.argv.slice(2);
  if (cmd === 'run') {
    await runDaemon(parseDaemonArgs(rest), log);
  } else if (cmd === 'genkey' && rest.length === 1 && rest[0].startsWith('/')) {
    generateKeyFile(rest[0]);
  } else {
    process.stderr.write('usage: main.js run OPTIONS | main.js genkey /ABSOLUTE/FILE\n');
    process.exit(2);
  }
} catch (e) {
  process.stderr.write(`cnlab encap: ${oneLine(e)}\n`);
  process.exit(e instanceof CnlabError ? e.exitCode : 1);
}
