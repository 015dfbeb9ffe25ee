import { execFile } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, expect } from 'vitest';
import { releaseLab } from '../../src/apply/cleanup.js';
import { trackProcess } from '../../src/apply/state.js';
import { teardownState, type TeardownReport } from '../../src/apply/teardown.js';
import { bringUp, type UpLab } from '../../src/apply/up.js';
import { loadTopology, type TopologyFlags } from '../../src/lab/topology.js';
import { runClient, startServer, type Iperf3Server } from '../../src/runners/iperf3.js';
import { SERVICE_PORT } from '../../src/lab/ports.js';
import type { Scheme, Workload } from '../../src/plan/scheme.js';

/** Shared helpers for tests that build real labs. */

export const CLI = fileURLToPath(new URL('../../dist/src/cli.js', import.meta.url));
export const isRoot = process.getuid?.() === 0;

export interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Run the built cnlab CLI with an argument array. */
export function cli(args: string[], opts: { env?: NodeJS.ProcessEnv; timeoutMs?: number } = {}): Promise<Run> {
  return new Promise((resolve) => {
    execFile(
      'node',
      [CLI, ...args],
      { env: { ...process.env, ...opts.env }, timeout: opts.timeoutMs ?? 120_000, maxBuffer: 64 << 20 },
      (err, stdout, stderr) => {
        const code = err ? ((err as { code?: number }).code ?? null) : 0;
        resolve({ code: typeof code === 'number' ? code : null, stdout, stderr });
      },
    );
  });
}

/** Run a program (argument array) and collect its output; never rejects. */
export function sh(file: string, args: string[], timeoutMs = 30_000): Promise<Run> {
  return new Promise((resolve) => {
    execFile(file, args, { timeout: timeoutMs, maxBuffer: 64 << 20 }, (err, stdout, stderr) => {
      const code = err ? ((err as { code?: number }).code ?? 1) : 0;
      resolve({ code: typeof code === 'number' ? code : 1, stdout, stderr });
    });
  });
}

/** Namespaces of one lab (cnl-<lab>-*) that exist now. */
export function labNamespaces(lab: string): string[] {
  if (!existsSync('/run/netns')) return [];
  return readdirSync('/run/netns').filter((n) => n.startsWith(`cnl-${lab}-`));
}

/** Pids of processes living in any of these namespaces. */
export async function pidsIn(namespaces: string[]): Promise<number[]> {
  const out: number[] = [];
  for (const ns of namespaces) {
    const r = await sh('ip', ['netns', 'pids', ns]);
    out.push(...r.stdout.split(/\s+/).filter(Boolean).map(Number));
  }
  return out;
}

/** A don't-fragment ping of `payload` bytes from a namespace: true when answered. */
export async function dfPing(ns: string, target: string, payload: number): Promise<boolean> {
  const r = await sh('ip', ['netns', 'exec', ns, 'ping', '-c', '1', '-W', '1', '-M', 'do', '-s', String(payload), target]);
  return r.code === 0;
}

/** A plain ping -c1 -W1 from a namespace: true when answered. */
export async function ping(ns: string, target: string): Promise<boolean> {
  const r = await sh('ip', ['netns', 'exec', ns, 'ping', '-c', '1', '-W', '1', target]);
  return r.code === 0;
}

/** True once a process no longer exists (/proc/<pid> is gone). */
export function pidGone(pid: number): boolean {
  return !existsSync(`/proc/${pid}`);
}

/** The non-empty lines of a command's output. */
export function lines(text: string): string[] {
  return text.split('\n').filter((l) => l.trim() !== '');
}

/** Namespace names (`ip netns list`) and entries of a state root, taken at one moment. */
export interface Snapshot {
  netns: Set<string>;
  state: Set<string>;
}

const dirEntries = (dir: string) => (existsSync(dir) ? readdirSync(dir) : []);

export async function snapshot(stateRoot = '/run/cnlab'): Promise<Snapshot> {
  const r = await sh('ip', ['netns', 'list']);
  const netns = new Set(
    r.stdout
      .split('\n')
      .map((l) => l.split(' ')[0])
      .filter(Boolean),
  );
  return { netns, state: new Set(dirEntries(stateRoot)) };
}

/**
 * What appeared since `before` that belongs to one of `labs`: namespaces cnl-<lab>-<node> and
 * state entries <lab>, <lab>.json, <lab>.json.*.tmp. Other labs are left out on purpose: other
 * tests and other users may build labs at the same time.
 */
export async function createdSince(before: Snapshot, labs: string[], stateRoot = '/run/cnlab'): Promise<string[]> {
  const now = await snapshot(stateRoot);
  const nsLab = (n: string) => /^cnl-(.+)-[^-]+$/.exec(n)?.[1] ?? '';
  const entryLab = (e: string) => e.replace(/\.json(\..*)?$/, '');
  return [
    ...[...now.netns].filter((n) => !before.netns.has(n) && labs.includes(nsLab(n))).map((n) => `netns ${n}`),
    ...[...now.state].filter((e) => !before.state.has(e) && labs.includes(entryLab(e))).map((e) => `${stateRoot}/${e}`),
  ];
}

/**
 * One real lab for a describe block: brought up once (after checking that no namespace of the lab
 * is left over), removed exactly once — by whichever comes first of a test calling `remove()` (the
 * teardown test, which checks the report) and afterAll (when that test never ran). iperf3 servers
 * started through `startServer` are tracked in the lab's state, so a teardown must stop any still
 * running; afterAll stops them itself before removing the lab.
 */
export class TestLab {
  /** Servers started with `startServer`, in order. */
  readonly servers: Iperf3Server[] = [];
  private current?: UpLab;
  private report?: TeardownReport;

  constructor(
    readonly name: string,
    private readonly scheme: Scheme,
    private readonly flags: Omit<TopologyFlags, 'lab'> = {},
  ) {}

  /** The lab, once brought up. */
  get up(): UpLab {
    if (!this.current) throw new Error(`lab ${this.name} is not up`);
    return this.current;
  }

  async bringUp(): Promise<UpLab> {
    expect(labNamespaces(this.name), `leftover namespaces of lab ${this.name}`).toEqual([]);
    this.current = await bringUp(loadTopology({ ...this.flags, lab: this.name }), this.scheme);
    return this.current;
  }

  /** The first workload on host `host` (1-based). */
  first(host: number): Workload {
    return this.up.build.workloads.find((w) => w.hostIndex === host)!;
  }

  /** The workload on node `node` (e.g. "h1c2"). */
  pick(node: string): Workload {
    return this.up.build.workloads.find((w) => w.node === node)!;
  }

  /** An iperf3 server in `to`'s namespace on SERVICE_PORT, recorded in the lab's state and in `servers`. */
  async startServer(to: Workload): Promise<Iperf3Server> {
    const state = this.up.state;
    const server = await startServer({
      ns: to.ns,
      port: SERVICE_PORT,
      onSpawn: (pid) => trackProcess(state, pid, to.ns, 'iperf3-server', ['iperf3', '-s', '-p', String(SERVICE_PORT)]),
    });
    this.servers.push(server);
    expect(state.processes.map((p) => p.pid)).toContain(server.pid);
    return server;
  }

  async stopServers(): Promise<void> {
    for (const s of this.servers) await s.stop();
  }

  /** Tear the lab down and release it, once: later calls return the same report (undefined if never up). */
  async remove(): Promise<TeardownReport | undefined> {
    if (!this.current || this.report) return this.report;
    try {
      this.report = await teardownState(this.current.state);
    } finally {
      releaseLab(this.current.state);
    }
    return this.report;
  }
}

export interface UseLabOptions {
  /** Topology flags other than the lab name. */
  flags?: Omit<TopologyFlags, 'lab'>;
  /** More checks before the lab is built (run just before `bringUp`, which checks for leftover namespaces). */
  beforeUp?: () => void | Promise<void>;
  /** Run in beforeAll once the lab is up. */
  afterUp?: (up: UpLab) => void | Promise<void>;
}

/**
 * A TestLab for the enclosing describe block: beforeAll brings it up; afterAll stops the servers
 * still running and removes the lab if no test did.
 */
export function useLab(name: string, scheme: Scheme, opts: UseLabOptions = {}): TestLab {
  const lab = new TestLab(name, scheme, opts.flags);
  beforeAll(async () => {
    await opts.beforeUp?.();
    const up = await lab.bringUp();
    await opts.afterUp?.(up);
  });
  afterAll(async () => {
    try {
      await lab.stopServers();
    } finally {
      await lab.remove();
    }
  });
  return lab;
}

/**
 * TCP for 1 s with iperf3 from `from` to `target` (by default the address the scheme gives `to`),
 * the server started in `to` with `lab.startServer` and left running. The run must succeed with
 * a rate above zero. Returns the server.
 */
export async function checkTcp(
  lab: TestLab,
  from: Workload,
  to: Workload,
  target = lab.up.build.targetIp(from, to),
): Promise<Iperf3Server> {
  const server = await lab.startServer(to);
  const { result } = await runClient({ ns: from.ns, target, port: SERVICE_PORT, seconds: 1, protocol: 'tcp' });
  expect(result, `${from.node} → ${target}:${SERVICE_PORT}: ${JSON.stringify(result)}`).toMatchObject({ ok: true });
  if (result.ok) expect(result.bitsPerSecond).toBeGreaterThan(0);
  return server;
}

/** Running (a zombie waiting for a reaper that is not ours does not count). */
export function alive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2)[0] !== 'Z';
  } catch {
    return false;
  }
}

/**
 * Two scratch namespaces `cnl-itest-<tag>-a` / `-b` joined by a veth pair, 198.18.<octet>.1 and .2,
 * made in beforeAll; afterAll kills the pids a test pushed to `spawned`, deletes both namespaces and
 * asserts none is left. For runner tests that need no lab.
 */
export function useNamespacePair(tag: string, octet: number): { A: string; B: string; spawned: number[] } {
  const A = `cnl-itest-${tag}-a`;
  const B = `cnl-itest-${tag}-b`;
  const spawned: number[] = [];
  const ip = async (...args: string[]) => {
    const r = await sh('ip', args);
    if (r.code !== 0) throw new Error(`ip ${args.join(' ')}: ${r.stderr.trim()}`);
  };
  beforeAll(async () => {
    for (const ns of [A, B]) await sh('ip', ['netns', 'del', ns]);
    await ip('netns', 'add', A);
    await ip('netns', 'add', B);
    await ip('link', 'add', `cnlit-${tag}a`, 'netns', A, 'type', 'veth', 'peer', 'name', `cnlit-${tag}b`, 'netns', B);
    await ip('-n', A, 'addr', 'add', `198.18.${octet}.1/24`, 'dev', `cnlit-${tag}a`);
    await ip('-n', B, 'addr', 'add', `198.18.${octet}.2/24`, 'dev', `cnlit-${tag}b`);
    for (const [ns, dev] of [
      [A, `cnlit-${tag}a`],
      [B, `cnlit-${tag}b`],
    ]) {
      await ip('-n', ns, 'link', 'set', 'lo', 'up');
      await ip('-n', ns, 'link', 'set', dev, 'up');
    }
  });
  afterAll(async () => {
    for (const pid of spawned) if (alive(pid)) process.kill(pid, 'SIGKILL');
    for (const ns of [A, B]) await sh('ip', ['netns', 'del', ns]);
    expect((await sh('ip', ['netns', 'list'])).stdout).not.toMatch(new RegExp(`cnl-itest-${tag}-`));
  });
  return { A, B, spawned };
}
