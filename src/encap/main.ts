#!/usr/bin/env node
import { mkdirSync } from 'node:fs';
import { CnlabError, oneLine } from '../errors.js';
import { parseDaemonArgs, type DaemonConfig } from './config.js';
import { EncapDaemon } from './daemon.js';
import { generateKeyFile } from './keys.js';
import { followTable } from './table-file.js';

/**
 * The encapsulation daemon's entry point (cnlab starts it; it is not a user command):
 *   main.js run --mode tun|tap --dev NAME --listen IP:PORT … (see config.ts)
 *   main.js genkey FILE      a fresh 32-byte lab key, mode 0600, never printed
 */

/** Runs until SIGTERM/SIGINT; counters are written every second, on SIGUSR1 and at exit. */
function runDaemon(cfg: DaemonConfig, log: (line: string) => void): void {
  mkdirSync(cfg.stateDir, { recursive: true, mode: 0o700 });
  const d = new EncapDaemon(cfg, log);
  const stop = () => {
    d.writeCounters();
    log('stopping');
    process.exit(0);
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
  process.on('SIGUSR1', () => d.writeCounters());
  d.start();
  if (cfg.table) followTable(cfg.table, (routes) => d.setRoutes(routes), log);
  const table =
    cfg.mode === 'tun' ? cfg.routes.map((r) => `${r.block.network}/${r.block.prefix}→${r.peer}`).join(' ') : cfg.peers.join(' ');
  const sealing = cfg.record > 0 ? `records of up to ${cfg.record} bytes` : 'every datagram alone';
  const features = [
    cfg.keyFile ? `encrypted (epoch ${d.counters.epoch}, ${sealing})` : 'plaintext',
    ...(cfg.mode === 'tap' ? [`batching ${cfg.batch ? 'on' : 'off'}`] : []),
    `offloads ${cfg.offload ? 'on' : 'off'}`,
  ];
  log(`${cfg.mode} ${cfg.dev} on ${cfg.listen.ip}:${cfg.listen.port}, ${features.join(', ')}; peers: ${table || 'none'}`);
  d.writeCounters();
}

const log = (line: string) => process.stdout.write(`${new Date().toISOString()} ${line}\n`);

try {
  const [cmd, ...rest] = process.argv.slice(2);
  if (cmd === 'run') {
    runDaemon(parseDaemonArgs(rest), log);
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
