#!/usr/bin/env node
import { connect } from 'node:net';
import { parseArgs } from 'node:util';

/**
 * cnlab's reachability prober (cnlab starts it inside a container's namespace; not a user command):
 *   prober-main.js --interval MS --timeout MS --port N --max-seconds S IP...
 * Every MS milliseconds it opens a TCP connection to each IP's port N, whatever earlier attempts are
 * still waiting: an answer (the connection, or the peer's RST for a closed port) means reachable;
 * no answer within the timeout, or an ICMP error, means not. It prints one line per change of a
 * target's state, "<epoch ms of the attempt> <ip> ok|fail", and exits when its stdin closes (cnlab
 * went away), on SIGTERM, or after S seconds.
 */

const { values, positionals } = parseArgs({
  options: {
    interval: { type: 'string', default: '20' },
    timeout: { type: 'string', default: '500' },
    port: { type: 'string', default: '9' },
    'max-seconds': { type: 'string', default: '300' },
  },
  allowPositionals: true,
  strict: true,
});
const num = (v: string, name: string): number => {
  const n = Number(v);
  if (!Number.isInteger(n) || n <= 0) {
    process.stderr.write(`cnlab prober: --${name} must be a positive whole number\n`);
    process.exit(2);
  }
  return n;
};
const interval = num(values.interval, 'interval');
const timeout = num(values.timeout, 'timeout');
const port = num(values.port, 'port');
const maxMs = num(values['max-seconds'], 'max-seconds') * 1000;
const targets = positionals.filter((ip) => /^\d+\.\d+\.\d+\.\d+$/.test(ip));
if (!targets.length || targets.length !== positionals.length) {
  process.stderr.write('cnlab prober: give one or more IPv4 addresses\n');
  process.exit(2);
}

const state = new Map<string, boolean>();
/** The start of the newest attempt whose outcome counted: an older attempt's late timeout says nothing new. */
const newest = new Map<string, number>();
const report = (ip: string, at: number, ok: boolean) => {
  if (at < (newest.get(ip) ?? 0)) return;
  newest.set(ip, at);
  if (state.get(ip) === ok) return;
  state.set(ip, ok);
  process.stdout.write(`${at} ${ip} ${ok ? 'ok' : 'fail'}\n`);
};

function attempt(ip: string): void {
  const at = Date.now();
  const sock = connect({ host: ip, port });
  let done = false;
  const finish = (ok: boolean) => {
    if (done) return;
    done = true;
    clearTimeout(timer);
    sock.destroy();
    report(ip, at, ok);
  };
  // The verdict waits one turn of the event loop (setImmediate runs after the I/O poll): when the
  // prober was descheduled past the timeout (a busy machine), an answer that arrived meanwhile is
  // read first, instead of the late timer calling a reachable target lost (a false gap).
  const timer = setTimeout(() => setImmediate(() => finish(false)), timeout);
  sock.once('connect', () => finish(true));
  sock.once('error', (e: NodeJS.ErrnoException) => finish(e.code === 'ECONNREFUSED'));
}

const tick = setInterval(() => targets.forEach(attempt), interval);
targets.forEach(attempt);
const stop = () => {
  clearInterval(tick);
  process.exit(0);
};
setTimeout(stop, maxMs).unref();
process.on('SIGTERM', stop);
process.stdin.on('end', stop);
process.stdin.on('error', stop);
process.stdin.resume();
