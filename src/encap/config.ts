import { isAbsolute } from 'node:path';
import { parseArgs } from 'node:util';
import { InputError } from '../errors.js';
import { isIpv4, parseCidr } from '../lab/ipv4.js';
import type { Cidr } from '../lab/types.js';
import { MAX_RECORD } from './aead.js';

/**
 * The daemon's configuration, carried entirely by its argv so that the plan that starts it stays
 * pure and printable: `cnlab plan` shows every route and peer. daemonArgs() writes it (for the
 * plan), parseDaemonArgs() reads and validates it (in the daemon); they round-trip.
 */

export interface Route {
  /** A pod block, e.g. 198.19.2.0/24. */
  block: Cidr;
  /** The underlay address of the host that owns it. */
  peer: string;
}

export interface DaemonConfig {
  /** tun: IP packets, routed per destination block (flannel udp); tap: Ethernet frames, MAC learning (weave sleeve). */
  mode: 'tun' | 'tap';
  dev: string;
  /** Local underlay address and UDP port; peers listen on the same port. */
  listen: { ip: string; port: number };
  /** tun mode: destination block → peer host. */
  routes: Route[];
  /**
   * tun mode: a peer table file (formatTable) that a control plane writes, e.g. cnlab's flannel
   * agent from the leases in etcd; the daemon reads it at start and again whenever it changes.
   */
  table?: string;
  /** tap mode: every peer host (unknown and broadcast destinations go to all of them). */
  peers: string[];
  /** Largest UDP payload that fits the underlay without fragmentation (underlay MTU − 28). */
  maxDatagram: number;
  /** tap mode: several frames per datagram (false: one frame each, for comparison). */
  batch: boolean;
  /** tap mode: how long a partly filled batch may wait; 0 = flush when the device has no more frames. */
  flushUs: number;
  /**
   * Device offloads through the virtio-net header: TCP super-packets read and cut here (tso.ts),
   * received segments coalesced into one write (gro.ts), sendmsg runs (UDP_SEGMENT), recvmmsg.
   * Off: the products' pattern, one packet per read and per write, one datagram per send and receive.
   */
  offload: boolean;
  /** A 32-byte key file (hex): encrypt every datagram. */
  keyFile?: string;
  /** With a key: the largest record's plaintext (aead.ts); 0 seals every datagram alone. */
  record: number;
  /** This daemon's sender id in nonces (the host index), 1..65535. */
  sender: number;
  /** The daemon's own directory: counters.json, epoch. */
  stateDir: string;
  /** Created once the device and the socket are up. */
  readyFile: string;
}

const DEV_RE = /^[a-zA-Z0-9][a-zA-Z0-9_.-]{0,13}$/;

export function daemonArgs(c: DaemonConfig): string[] {
  const out = ['--mode', c.mode, '--dev', c.dev, '--listen', `${c.listen.ip}:${c.listen.port}`, '--max-datagram', String(c.maxDatagram)];
  for (const r of c.routes) out.push('--route', `${r.block.network}/${r.block.prefix}=${r.peer}`);
  for (const p of c.peers) out.push('--peer', p);
  if (c.table) out.push('--table', c.table);
  if (c.mode === 'tap') out.push(c.batch ? '--batch' : '--no-batch', '--flush-us', String(c.flushUs));
  if (!c.offload) out.push('--no-offload');
  if (c.keyFile) out.push('--key', c.keyFile, '--record', String(c.record));
  out.push('--sender', String(c.sender), '--state', c.stateDir, '--ready', c.readyFile);
  return out;
}

function bad(what: string): never {
  throw new InputError(`encap daemon: ${what}`);
}

function intIn(text: string, name: string, lo: number, hi: number): number {
  if (!/^\d+$/.test(text)) bad(`--${name} must be an integer, got "${text}"`);
  const n = Number(text);
  if (n < lo || n > hi) bad(`--${name} must be between ${lo} and ${hi}, got ${n}`);
  return n;
}

function ipv4(text: string, name: string): string {
  if (!isIpv4(text)) bad(`--${name}: "${text}" is not an IPv4 address`);
  return text;
}

function absPath(text: string | undefined, name: string): string {
  if (!text) bad(`--${name} is required`);
  if (!isAbsolute(text)) bad(`--${name} must be an absolute path, got "${text}"`);
  return text;
}

/** One route, "BLOCK=PEER" (an argument, or a line of a table file). */
function parseRoute(r: string, what: string): Route {
  const m = /^([^=]+)=([^=]+)$/.exec(r);
  const block = m ? parseCidr(m[1]) : null;
  if (!m || !block || block.network !== m[1].split('/')[0]) bad(`${what} must be BLOCK=PEER with BLOCK a network address/len, got "${r}"`);
  if (!isIpv4(m[2])) bad(`${what}: peer "${m[2]}" is not an IPv4 address`);
  return { block, peer: m[2] };
}

/** A peer table file's text: one "BLOCK=PEER" line per route, sorted, so equal tables are equal files. */
export function formatTable(routes: Route[]): string {
  return routes
    .map((r) => `${r.block.network}/${r.block.prefix}=${r.peer}\n`)
    .sort()
    .join('');
}

/** A peer table file's routes (blank lines ignored); throws an InputError naming the first bad line. */
export function parseTable(text: string): Route[] {
  return text
    .split('\n')
    .map((l) => l.trim())
    .filter(Boolean)
    .map((l) => parseRoute(l, 'table line'));
}

export function parseDaemonArgs(argv: string[]): DaemonConfig {
  let values: Record<string, string | string[] | boolean | undefined>;
  try {
    ({ values } = parseArgs({
      args: argv,
      strict: true,
      allowPositionals: false,
      options: {
        mode: { type: 'string' },
        dev: { type: 'string' },
        listen: { type: 'string' },
        'max-datagram': { type: 'string' },
        route: { type: 'string', multiple: true },
        peer: { type: 'string', multiple: true },
        table: { type: 'string' },
        batch: { type: 'boolean' },
        'no-batch': { type: 'boolean' },
        'flush-us': { type: 'string' },
        'no-offload': { type: 'boolean' },
        key: { type: 'string' },
        record: { type: 'string' },
        sender: { type: 'string' },
        state: { type: 'string' },
        ready: { type: 'string' },
      },
    }));
  } catch (e) {
    bad((e as Error).message);
  }
  const str = (k: string) => values[k] as string | undefined;
  const list = (k: string) => (values[k] as string[] | undefined) ?? [];
  const mode = str('mode');
  if (mode !== 'tun' && mode !== 'tap') bad(`--mode must be tun or tap, got "${mode ?? ''}"`);
  const dev = str('dev') ?? '';
  if (!DEV_RE.test(dev)) bad(`--dev must be an interface name (1-14 letters, digits, _ . -), got "${dev}"`);
  const lm = /^(.+):(\d+)$/.exec(str('listen') ?? '');
  if (!lm) bad('--listen must be IP:PORT');
  const listen = { ip: ipv4(lm[1], 'listen'), port: intIn(lm[2], 'listen port', 1, 65535) };
  const routes = list('route').map((r) => parseRoute(r, '--route'));
  const peers = list('peer').map((p) => ipv4(p, 'peer'));
  if (mode === 'tun' && peers.length) bad('--peer is for tap mode; tun mode takes --route BLOCK=PEER');
  if (mode === 'tap' && routes.length) bad('--route is for tun mode; tap mode takes --peer');
  const table = str('table') === undefined ? undefined : absPath(str('table'), 'table');
  if (table && mode !== 'tun') bad('--table is for tun mode');
  if (values.batch && values['no-batch']) bad('--batch and --no-batch exclude each other');
  const keyFile = str('key') === undefined ? undefined : absPath(str('key'), 'key');
  if (!keyFile && str('record') !== undefined) bad('--record needs --key (records are sealed)');
  return {
    mode,
    dev,
    listen,
    routes,
    ...(table ? { table } : {}),
    peers,
    maxDatagram: intIn(str('max-datagram') ?? '', 'max-datagram', 576, 65507),
    batch: mode === 'tap' && !values['no-batch'],
    flushUs: intIn(str('flush-us') ?? '0', 'flush-us', 0, 100_000),
    offload: !values['no-offload'],
    keyFile,
    record: intIn(str('record') ?? '0', 'record', 0, MAX_RECORD),
    sender: intIn(str('sender') ?? '', 'sender', 1, 65535),
    stateDir: absPath(str('state'), 'state'),
    readyFile: absPath(str('ready'), 'ready'),
  };
}
