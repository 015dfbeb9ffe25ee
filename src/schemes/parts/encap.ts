import { join } from 'node:path';
import type { Requirement } from '../../caps/types.js';
import { MAX_RECORD, OVERHEAD as AEAD_OVERHEAD } from '../../encap/aead.js';
import { daemonArgs, type DaemonConfig, type Route } from '../../encap/config.js';
import { encapHostDir } from '../../encap/counters.js';
import { DAEMON_SCRIPT } from '../../encap/paths.js';
import type { HostNode, Lab } from '../../lab/types.js';
import { exec } from '../../plan/steps.js';
import type { DaemonStep, Stage, Step } from '../../plan/types.js';

/**
 * Userspace encapsulation through cnlab's own daemon (src/encap/), shared by flannel-udp and
 * weave-sleeve: an optional lab key, then one daemon per host, started in the host's namespace,
 * holding the TUN/TAP device and the UDP socket. Its table (routes or peers) is in its argv, or
 * (flannel-udp on etcd) in a file cnlab's flannel agent writes from the leases.
 */

export const ENCAP_NOTE = 'userspace encapsulation (cnlab daemon)';

/** Encrypted daemons seal what one device burst sends a peer as records (tun; tap when batching frames). */
export function sealsRecords(spec: Pick<EncapSpec, 'mode' | 'batch'>): boolean {
  return spec.mode === 'tun' || spec.batch;
}

/** How the daemon moves packets: the product's pattern (default), or cnlab's batching, named as better than the product. */
export function syscallNote(mode: EncapSpec['mode'], batched: boolean): string {
  if (batched) return "better than the product: cnlab's batched daemon (TSO/GRO on the device, sendmsg runs, recvmmsg)";
  return mode === 'tun'
    ? "the product's syscall pattern: one packet per read, sendto, recvfrom and write, as flanneld"
    : "the product's syscall pattern: frames captured and injected one by one, one datagram per sendto, as Weave's router";
}

export function encryptNote(spec: Pick<EncapSpec, 'mode' | 'batch'>): string {
  const unit = sealsRecords(spec) ? `records of up to ${MAX_RECORD / 1024} KiB, each a device burst to one peer` : 'every datagram alone';
  return `encrypted: cnlab's ChaCha20-Poly1305 channel (per-lab key, replay window; seals ${unit}), not the project's own`;
}
/** The daemon needs /dev/net/tun (its native addon is part of cnlab's build). */
export const ENCAP_REQUIRES: Requirement[] = [{ kind: 'kernel', feature: 'TUN' }];
/**
 * The device's queue toward the daemon (packets): TUN/TAP drop beyond it rather than push back, and
 * the default 500 overflows under a TCP burst while the daemon is busy with the previous one.
 */
export const TXQUEUELEN = 4000;
/** Outer IPv4 + UDP headers. */
export const UDP_OVERHEAD = 28;

export interface EncapSpec {
  mode: 'tun' | 'tap';
  dev: string;
  port: number;
  encrypt: boolean;
  /** tap: several frames per datagram. */
  batch: boolean;
  /** Device offloads and batched system calls (TSO on read, GRO on write, sendmsg runs, recvmmsg); false: the product's one per call. */
  offload?: boolean;
  /** tap: flush a partly filled batch after this many µs (default 0: when the device is drained). */
  flushUs?: number;
}

/** Bytes taken from the underlay MTU before the device's own framing. */
export function channelOverhead(encrypt: boolean): number {
  return UDP_OVERHEAD + (encrypt ? AEAD_OVERHEAD : 0);
}

export function labKeyFile(lab: Lab): string {
  return join(lab.stateDir, 'encap', 'key');
}

/** What a daemon routes to: its routes (tun) or peers (tap), or (tun) a table file a control plane writes. */
export interface DaemonTable {
  routes?: Route[];
  peers?: string[];
  file?: string;
}

/** The peer table file of a host's daemon, for a control plane to write (the daemon reloads it). */
export const daemonTableFile = (lab: Lab, h: HostNode): string => join(encapHostDir(lab.stateDir, h.name), 'peers');

/** The daemon step of one host. */
export function daemonStep(lab: Lab, h: HostNode, spec: EncapSpec, table: DaemonTable): DaemonStep {
  const dir = encapHostDir(lab.stateDir, h.name);
  const cfg: DaemonConfig = {
    mode: spec.mode,
    dev: spec.dev,
    listen: { ip: h.underlayIp, port: spec.port },
    routes: table.routes ?? [],
    peers: table.peers ?? [],
    ...(table.file ? { table: table.file } : {}),
    maxDatagram: lab.underlay.mtu - UDP_OVERHEAD,
    batch: spec.mode === 'tap' && spec.batch,
    flushUs: spec.flushUs ?? 0,
    offload: spec.offload ?? true,
    keyFile: spec.encrypt ? labKeyFile(lab) : undefined,
    record: spec.encrypt && sealsRecords(spec) ? MAX_RECORD : 0,
    sender: h.index,
    stateDir: dir,
    readyFile: join(dir, 'ready'),
  };
  return {
    kind: 'daemon',
    ns: h.ns,
    name: `encap-${h.name}`,
    argv: [process.execPath, DAEMON_SCRIPT, 'run', ...daemonArgs(cfg)],
    log: join(dir, 'daemon.log'),
    readyFile: cfg.readyFile,
    devices: [{ name: spec.dev, type: spec.mode }],
  };
}

/** The key (when encrypted: generated at `up`, never shown) and one daemon per host. */
export function encapStages(lab: Lab, spec: EncapSpec, table: (h: HostNode) => DaemonTable): Stage[] {
  const stages: Stage[] = [];
  if (spec.encrypt) {
    const h1 = lab.hosts[0];
    stages.push({
      title: "lab key for the encrypted channel (32 random bytes, mode 0600, in the lab's state directory only)",
      steps: [exec(h1.ns, [process.execPath, DAEMON_SCRIPT, 'genkey', labKeyFile(lab)])],
    });
  }
  stages.push({
    title: `cnlab encapsulation daemon per host: ${spec.mode.toUpperCase()} ${spec.dev}, UDP ${spec.port}${spec.encrypt ? ', encrypted' : ''}${spec.mode === 'tap' ? (spec.batch ? ', batching frames' : ', one frame per datagram') : ''}`,
    // The directory first, so that the script `cnlab plan` prints can redirect the log into it.
    steps: lab.hosts.flatMap((h): Step[] => [
      exec(h.ns, ['mkdir', '-p', '-m', '0700', encapHostDir(lab.stateDir, h.name)]),
      daemonStep(lab, h, spec, table(h)),
    ]),
  });
  return stages;
}
