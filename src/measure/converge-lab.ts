import { readFileSync, writeFileSync } from 'node:fs';
import { startDaemon } from '../apply/daemon.js';
import { createNamespaces } from '../apply/netns.js';
import { runNamespaceSteps } from '../apply/run-steps.js';
import { stopProcesses } from '../apply/teardown.js';
import { trackProcess, untrackProcess, writeState } from '../apply/state.js';
import type { UpLab } from '../apply/up.js';
import { birdPaths, blockOf, withExtraBlock } from '../control/bird.js';
import { leaderOf } from '../control/etcd.js';
import { parseTable } from '../encap/config.js';
import { activeTable } from '../encap/table-file.js';
import { cidrText, subnetAt } from '../lab/ipv4.js';
import { nsName, type ContainerNode, type HostNode, type Lab } from '../lab/types.js';
import type { Stage, Step } from '../plan/types.js';
import { podIp } from '../schemes/parts/addresses.js';
import { flannelAttach } from '../schemes/parts/flannel-cni.js';
import { etcdMembers } from '../schemes/parts/flannel-etcd.js';
import { routedVethStages } from '../schemes/parts/routed-veth.js';
import { execArgs, netOnly } from '../util/exec.js';
import { pool } from '../util/pool.js';

/**
 * What the convergence measurement does to a running lab: add a container, stop and start a
 * host's control-plane daemon, stop the store, and read the peers' FIBs. Everything it makes is
 * recorded in the lab's state first (namespaces, CNI attachments, processes), so teardown removes it.
 */

export type Mechanism = 'bgp' | 'etcd';

export function mechanismOf(up: UpLab): Mechanism | null {
  const h = up.build.control?.handles;
  return h?.birdSockets ? 'bgp' : h?.etcdEndpoint ? 'etcd' : null;
}

async function runStages(up: UpLab, stages: Stage[]): Promise<void> {
  for (const stage of stages) {
    const byNs = new Map<string, Step[]>();
    for (const s of stage.steps) byNs.set(s.ns, [...(byNs.get(s.ns) ?? []), s]);
    for (const [ns, steps] of byNs)
      await runNamespaceSteps(ns, steps, {
        onCni: (rec) => {
          if (!up.state.cni.includes(rec)) up.state.cni.push(rec);
          writeState(up.state);
        },
        onSpawn: (pid, step) => trackProcess(up.state, pid, step.ns, step.name, step.argv),
      });
  }
}

/** The next pod block no host holds (Calico's IPAM giving a host a further block). */
function freeBlock(lab: Lab): string {
  const taken = new Set(lab.hosts.map(blockOf));
  for (let i = lab.hosts.length + 1; ; i++) {
    const b = cidrText(subnetAt(lab.pods, lab.topology.pods.blockPrefix, i));
    if (!taken.has(b)) return b;
  }
}

export interface NewContainer {
  node: ContainerNode;
  ip: string;
  /** What it exercised, for the result. */
  what: string;
  /** The new block it lives in (BGP). */
  block?: string;
}

/** Calico's routed veth for `inBlock`'s containers (the host's default route, for proxy_arp, is there already). */
async function routedVeth(up: UpLab, host: HostNode, inBlock: HostNode): Promise<void> {
  const stages = routedVethStages({ ...up.lab, hosts: [inBlock] }, up.build.mtu).map((s) => ({
    ...s,
    steps: s.steps.filter((x) => !(x.kind === 'route' && x.dest === 'default' && x.ns === host.ns)),
  }));
  await runStages(up, stages);
}

/**
 * Adds a container on `host`. BGP: in a new block, which the host's BIRD announces after a
 * `birdc configure` (the path a new block takes through BGP); with `birdDown`, the host's BIRD is
 * stopped: the block goes into its config only, announced when BIRD starts again. etcd: in the
 * host's leased subnet, attached as the scheme attaches its containers — the CNI bridge plugin as
 * flannel does, or Calico's routed veth (canal) — (flannel leases subnets per host, never per container).
 */
export async function addContainer(
  up: UpLab,
  host: HostNode,
  mech: Mechanism,
  opts: { birdDown?: boolean; attach?: 'cni' | 'direct' } = {},
): Promise<NewContainer> {
  const k = Math.max(0, ...host.containers.map((c) => c.index)) + 1;
  const name = `${host.name}c${k}`;
  const ns = nsName(up.lab.name, name);
  const slot = Math.max(0, ...host.containers.map((c) => c.slot)) + 1;
  const node: ContainerNode = { kind: 'container', name, ns, hostIndex: host.index, index: k, id: ns, slot };
  up.state.namespaces.push(ns);
  up.state.nodes[name] = ns;
  writeState(up.state);
  await createNamespaces([ns]);
  if (mech === 'bgp') {
    const block = freeBlock(up.lab);
    const [network, prefix] = block.split('/');
    const inBlock: HostNode = { ...host, podBlock: { network, prefix: Number(prefix) }, containers: [{ ...node, slot: 1 }] };
    await routedVeth(up, host, inBlock);
    const p = birdPaths(up.lab, host);
    writeFileSync(p.config, withExtraBlock(readFileSync(p.config, 'utf8'), blockOf(host), block));
    if (opts.birdDown)
      return {
        node,
        ip: podIp(inBlock, inBlock.containers[0]),
        what: `in a new block (${block}), in BIRD's config while it is down`,
        block,
      };
    const r = await execArgs('ip', ['netns', 'exec', host.ns, 'birdc', '-s', p.socket, 'configure']);
    if (r.code !== 0 || !/Reconfigur/i.test(r.stdout)) throw new Error(`birdc configure on ${host.name}: ${(r.stdout + r.stderr).trim()}`);
    return { node, ip: podIp(inBlock, inBlock.containers[0]), what: `in a new block (${block}) announced by BGP`, block };
  }
  const withNew: HostNode = { ...host, containers: [node] };
  const leased = "in the host's leased subnet (flannel leases per host, so no etcd change)";
  if (opts.attach === 'direct') {
    await routedVeth(up, host, withNew);
    return { node, ip: podIp(host, node), what: `${leased}, on Calico's routed veth` };
  }
  await runStages(up, [flannelAttach({ ...up.lab, hosts: [withNew] }, up.build.mtu)]);
  return { node, ip: podIp(host, node), what: `${leased}, on the CNI bridge` };
}

const daemonRole = (mech: Mechanism, host: HostNode) => (mech === 'bgp' ? `bird-${host.name}` : `flannel-${host.name}`);

/** Stops a tracked daemon by its role (SIGTERM, SIGKILL after 2 s) and forgets it. */
export async function stopDaemon(up: UpLab, role: string): Promise<void> {
  const procs = up.state.processes.filter((p) => p.role === role);
  if (!procs.length) throw new Error(`no running ${role}`);
  await stopProcesses(procs);
  for (const p of procs) untrackProcess(up.state, p.pid);
}

/** Stops the host's control-plane daemon; for flannel also deletes its lease, as an expired TTL would. */
export async function loseHost(up: UpLab, host: HostNode, mech: Mechanism): Promise<void> {
  await stopDaemon(up, daemonRole(mech, host));
  if (mech === 'etcd') {
    const r = await etcdctl(up, ['del', `/coreos.com/network/subnets/${blockOf(host).replace('/', '-')}`]);
    if (r.code !== 0) throw new Error(`etcdctl del: ${r.stderr.trim()}`);
  }
}

/** Starts the host's control-plane daemon again, from its plan step, tracked like the first. */
export function restartHost(up: UpLab, host: HostNode, mech: Mechanism): Promise<void> {
  return restartDaemon(up, daemonRole(mech, host));
}

/** Starts a stopped daemon (e.g. "etcd", "bird-h2") again from its plan step, tracked like the first. */
export async function restartDaemon(up: UpLab, role: string): Promise<void> {
  const step = up.plan.stages
    .flatMap((s) => s.steps)
    .find((s): s is Extract<Step, { kind: 'daemon' }> => s.kind === 'daemon' && s.name === role);
  if (!step) throw new Error(`no daemon step ${role} in the plan`);
  await startDaemon({ ...step, readyFile: undefined }, (pid) => trackProcess(up.state, pid, step.ns, step.name, step.argv));
}

/** etcdctl against the lab's etcd, from host 1 (etcd listens on the lab's underlay only). */
export function etcdctl(up: UpLab, args: string[], timeoutMs = 5000) {
  const endpoint = up.state.control?.etcdEndpoint ?? '';
  return execArgs('ip', ['netns', 'exec', up.lab.hosts[0].ns, 'etcdctl', `--endpoints=${endpoint}`, ...args], { timeoutMs });
}

/** Asks etcd for a lease (what a new host's agent does first): whether it was granted, and etcdctl's last line. */
export async function leaseAttempt(up: UpLab): Promise<{ granted: boolean; said: string }> {
  const lease = await etcdctl(up, ['--dial-timeout=1s', '--command-timeout=2s', 'lease', 'grant', '30']);
  return { granted: lease.code === 0, said: ((lease.stderr || lease.stdout).trim().split('\n').pop() ?? '').slice(0, 120) };
}

export interface StoreLoss {
  /** What was stopped: the only etcd, or which member of the cluster. */
  stopped: string;
  /** What a new lease got afterwards. */
  newLease: string;
  /** A cluster: the member stopped → a new lease granted (the others elected a leader and served on). */
  servedAgainSeconds?: number;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Stops the store: the only etcd, or a cluster's leader (the member whose loss costs an election);
 * then asks for a new lease, as a host joining now would. One member: one try (it cannot answer).
 * A cluster: tries until granted, for up to `ms`.
 */
export async function loseStore(up: UpLab, ms = 10_000): Promise<StoreLoss> {
  const members = etcdMembers(up.lab);
  let victim = members[0];
  let role = '';
  if (members.length > 1) {
    const leader = leaderOf(
      (await etcdctl(up, ['--dial-timeout=1s', '--command-timeout=2s', 'endpoint', 'status', '-w', 'fields'])).stdout,
    );
    const m = members.find((x) => leader?.startsWith(`http://${x.ip}:`));
    victim = m ?? members[0];
    role = m ? 'the leader' : 'leader unknown';
  }
  const stopped = members.length === 1 ? 'etcd (the only member)' : `etcd member ${victim.node} (${role}) of ${members.length}`;
  const t0 = Date.now();
  await stopDaemon(up, victim.role);
  let lease = await leaseAttempt(up);
  while (members.length > 1 && !lease.granted && Date.now() - t0 < ms) {
    await sleep(100);
    lease = await leaseAttempt(up);
  }
  if (members.length > 1 && lease.granted) {
    const servedAgainSeconds = (Date.now() - t0) / 1000;
    return {
      stopped,
      newLease: `granted ${servedAgainSeconds.toFixed(2)} s after (the other members kept serving): ${lease.said}`,
      servedAgainSeconds,
    };
  }
  if (lease.granted) return { stopped, newLease: `granted (etcd still answered): ${lease.said}` };
  return { stopped, newLease: `refused: a new host cannot lease a subnet (${lease.said})` };
}

/** The pod-network routes a host's FIB holds (destination prefixes, with their line). */
async function podRoutes(up: UpLab, h: HostNode): Promise<string[]> {
  // flannel-udp: the peers are the encapsulation daemon's table (what it applied), not the FIB's.
  const daemon = up.plan.stages
    .flatMap((s) => s.steps)
    .find((s): s is Extract<Step, { kind: 'daemon' }> => s.kind === 'daemon' && s.name === `encap-${h.name}`);
  const table = daemon?.argv.includes('--table') ? daemon.argv[daemon.argv.indexOf('--table') + 1] : undefined;
  if (table) {
    let text = '';
    try {
      text = readFileSync(activeTable(table), 'utf8');
    } catch {
      /* not applied yet */
    }
    return parseTable(text).map((r) => `${r.block.network}/${r.block.prefix} via ${r.peer} (encapsulation daemon's table)`);
  }
  const r = await execArgs(...netOnly(h.ns, 'ip', ['-4', 'route', 'show', 'root', cidrText(up.lab.pods)]));
  return r.stdout.split('\n').filter(Boolean);
}

/** Per host, the routes its control plane programmed: BIRD's (proto bird), or flannel's peer routes (via a gateway). */
export async function routesPerHost(up: UpLab, mech: Mechanism): Promise<number[]> {
  const out: number[] = new Array<number>(up.lab.hosts.length).fill(0);
  await pool(
    up.lab.hosts.map((h, i) => ({ h, i })),
    8,
    async ({ h, i }) => {
      const lines = await podRoutes(up, h);
      out[i] = lines.filter((l) => (mech === 'bgp' ? / proto bird/.test(l) : / via /.test(l))).length;
    },
  );
  return out;
}

/** Pure: BGP sessions in `birdc show protocols` output, and how many are Established. */
export function bgpSessions(out: string): { up: number; all: number } {
  const bgp = out.split('\n').filter((l) => /^\S+\s+BGP\s/.test(l));
  return { up: bgp.filter((l) => /\bEstablished\b/.test(l)).length, all: bgp.length };
}

const range = (xs: number[]) => (xs.length ? `${Math.min(...xs)}–${Math.max(...xs)}` : '–');

/**
 * What the control plane holds now, for a cold start that did not converge: routes per host (min–max
 * of what it should be) and, for BGP, sessions Established per host.
 */
export async function controlPlaneSnapshot(up: UpLab, mech: Mechanism): Promise<string> {
  const n = up.lab.hosts.length;
  const routes = await routesPerHost(up, mech);
  const parts = [`routes per host ${range(routes)} (want ${mech === 'bgp' ? n : n - 1})`];
  if (mech === 'bgp') {
    const sockets = up.state.control?.birdSockets ?? {};
    const sessions: number[] = [];
    let all = 0;
    await pool(up.lab.hosts, 8, async (h) => {
      const r = await execArgs('ip', ['netns', 'exec', h.ns, 'birdc', '-s', sockets[h.name] ?? '', 'show', 'protocols']);
      const b = bgpSessions(r.stdout);
      sessions.push(b.up);
      all = Math.max(all, b.all);
    });
    parts.push(`BGP sessions Established per host ${range(sessions)} of ${all}`);
  }
  return parts.join('; ');
}

/** Waits until no host in `peers` routes any of `blocks`; the epoch ms when the last one stopped, or null after `ms`. */
export async function waitWithdrawn(up: UpLab, peers: HostNode[], blocks: string[], ms: number): Promise<number | null> {
  const end = Date.now() + ms;
  let last = 0;
  let ok = true;
  await pool(peers, 8, async (h) => {
    for (;;) {
      const lines = await podRoutes(up, h);
      if (!lines.some((l) => blocks.some((b) => l.startsWith(`${b} `)))) {
        last = Math.max(last, Date.now());
        return;
      }
      if (Date.now() > end) {
        ok = false;
        return;
      }
      await new Promise((r) => setTimeout(r, 20));
    }
  });
  return ok ? last : null;
}
