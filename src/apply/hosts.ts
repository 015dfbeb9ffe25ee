import { hostname } from 'node:os';
import { InputError, RunError } from '../errors.js';
import { SSH_CONTROL_DIR } from '../lab/paths.js';
import type { Lab } from '../lab/types.js';
import type { Plan, Step } from '../plan/types.js';
import type { Inventory, InventoryHost } from '../remote/inventory.js';
import { sshDevice } from '../remote/check.js';
import { SshExecutor } from '../remote/ssh.js';
import { placeNamespaces, unplaceNamespaces, type Executor } from '../util/executor.js';
import type { HostsRecord, LabState } from './state.js';

/**
 * A lab on the user's own hosts (`-i hosts.yaml`): lab host i is inventory host i. Each machine
 * holds that host's namespaces (the emulated host and its containers); the underlay is not the
 * one-box veth pair or switch but a macvlan child of the host's `nic` (mode bridge, or passthru
 * when the inventory asks), created straight into the host namespace as its `eth0`, so the
 * machine's own interfaces, addresses and routes are never changed: deleting the namespace
 * removes the child. Commands reach the machines through the executor placement
 * (util/executor.ts), so apply, measure and teardown run the same argv there.
 */

/** Schemes whose underlay port must carry other MACs (a bridge or switch behind it). */
const BRIDGING = /^(bridge-l2|ovs|ovs-linuxbridge|weave-fastdp|weave-sleeve)$/;

/** Marker on each machine: what the lab holds there, so it can be removed from that side too. */
export function markerPath(lab: string, host: string): string {
  // One file per (lab, host): two inventory hosts may share a filesystem (containers on one box).
  return `/run/cnlab/${lab}.${host}.json`;
}

/** Why a scheme cannot run on these hosts, or null. */
export function remoteRefusal(scheme: string, inv: Inventory): string | null {
  const ipvlan = inv.hosts.filter((h) => h.nic_mode === 'ipvlan');
  if (ipvlan.length) return `cannot be built yet with nic_mode: ipvlan (${ipvlan.map((h) => h.name).join(', ')}): use macvlan or passthru`;
  const bridgeMode = inv.hosts.filter((h) => h.nic_mode !== 'passthru');
  if (BRIDGING.test(scheme) && bridgeMode.length)
    return `needs a dedicated NIC (nic_mode: passthru) on ${bridgeMode.map((h) => h.name).join(', ')}: a bridge-mode macvlan child receives only its own MAC`;
  return null;
}

/**
 * Which inventory host (index) holds each of the plan's namespaces: a lab host's own and its
 * containers' on that host's machine; any other (a control node such as flannel's etcd `ctl`) on
 * the first machine. The one-box switch is not placed (remotePlan drops it).
 */
function machineOf(lab: Lab, plan: Plan): Map<string, number> {
  const where = new Map<string, number>();
  lab.hosts.forEach((h, i) => [h.ns, ...h.containers.map((c) => c.ns)].forEach((ns) => where.set(ns, i)));
  for (const ns of plan.namespaces) if (!where.has(ns) && ns !== lab.switch?.ns) where.set(ns, 0);
  return where;
}

/** One machine's entry in a lab's hosts record: how to reach it, and what of the lab it holds. */
export function hostEntry(
  h: InventoryHost,
  lab: string,
  holds: { node: string; underlayIf: string; namespaces: string[] },
): HostsRecord['hosts'][number] {
  return {
    name: h.name,
    ssh: h.ssh,
    port: h.port,
    sudo: h.sudo,
    ...(h.key ? { key: h.key } : {}),
    nic: h.nic,
    nicMode: h.nic_mode,
    ...holds,
    marker: markerPath(lab, h.name),
  };
}

/** The hosts record for a planned lab; refuses what cannot be placed on the machines. */
export function hostsRecord(inv: Inventory, lab: Lab, plan: Plan): HostsRecord {
  if (lab.hosts.length !== inv.hosts.length)
    throw new InputError(`the lab has ${lab.hosts.length} hosts, the inventory ${inv.hosts.length}: with -i the inventory decides`);
  if (lab.underlay.rate) throw new InputError('--link-rate emulates a NIC on one box; on your own hosts the NIC is real');
  const where = machineOf(lab, plan);
  const hosts = inv.hosts.map((h, i) => {
    const node = lab.hosts[i];
    // The host namespace first: it takes the underlay port.
    const namespaces = [node.ns, ...plan.namespaces.filter((ns) => ns !== node.ns && where.get(ns) === i)];
    return hostEntry(h, lab.name, { node: node.name, underlayIf: node.underlayIf, namespaces });
  });
  return {
    inventory: inv.source,
    ...(inv.sshConfig ? { sshConfig: inv.sshConfig } : {}),
    controlDir: SSH_CONTROL_DIR,
    hosts,
  };
}

/**
 * The one-box plan minus what the machines replace: the switch namespace and the underlay links.
 * A veth joining namespaces on two machines cannot exist (flannel's `ctl` has one to every host):
 * it is dropped with its link settings, and a route through either end goes via the first host's
 * underlay address instead (that host holds the control node and forwards between the two).
 */
export function remotePlan(plan: Plan, lab: Lab): Plan {
  const linkStage = /^underlay: (one veth pair|switch)/;
  const where = machineOf(lab, plan);
  const stages = plan.stages.filter((s) => !linkStage.test(s.title));
  const gone = new Set<string>();
  const end = (ns: string, name: string) => `${ns}\0${name}`;
  for (const st of stages)
    for (const s of st.steps)
      if (s.kind === 'link' && s.type === 'veth' && s.peer.ns && where.get(s.ns) !== where.get(s.peer.ns)) {
        gone.add(end(s.ns, s.name));
        gone.add(end(s.peer.ns, s.peer.name));
      }
  const via = lab.hosts[0].underlayIp;
  const rewrite = (s: Step): Step[] => {
    if (s.kind === 'link' && gone.has(end(s.ns, s.name))) return [];
    if (s.kind === 'link-set' && gone.has(end(s.ns, s.name))) return [];
    if (s.kind === 'route' && s.dev && gone.has(end(s.ns, s.dev))) return [{ kind: 'route', ns: s.ns, dest: s.dest, via }];
    return [s];
  };
  return {
    ...plan,
    namespaces: plan.namespaces.filter((ns) => ns !== lab.switch?.ns),
    stages: stages.map((st) => ({ ...st, steps: st.steps.flatMap(rewrite) })),
  };
}

const open = new Map<string, SshExecutor>();

/** The executor of a recorded host (one per host and control directory, shared by every caller). */
export function hostExecutor(rec: HostsRecord, h: HostsRecord['hosts'][number]): SshExecutor {
  const key = `${rec.controlDir}\0${h.name}`;
  let ex = open.get(key);
  if (!ex) {
    ex = new SshExecutor(
      { name: h.name, ssh: h.ssh, port: h.port, sudo: h.sudo, key: h.key },
      { controlDir: rec.controlDir, configFile: rec.sshConfig },
    );
    open.set(key, ex);
  }
  return ex;
}

/** Place each host's namespaces on its machine. */
export function placeHosts(rec: HostsRecord): void {
  for (const h of rec.hosts) placeNamespaces(h.namespaces, hostExecutor(rec, h));
}

/** Forget the placement and stop the control masters. */
export async function releaseHosts(rec: HostsRecord): Promise<void> {
  for (const h of rec.hosts) unplaceNamespaces(h.namespaces);
  await Promise.all(rec.hosts.map((h) => hostExecutor(rec, h).close()));
  for (const h of rec.hosts) open.delete(`${rec.controlDir}\0${h.name}`);
}

function why(ex: Executor, argv: string[], r: { code: number | null; stderr: string; stdout: string }): string {
  return `host ${ex.host}: ${argv.join(' ')}: ${(r.stderr || r.stdout).trim().split('\n').slice(-1)[0] || `exit ${r.code}`}`;
}

/** Each host namespace's underlay port: a macvlan child of the host's nic, made inside the namespace. */
export async function makeUnderlay(rec: HostsRecord): Promise<void> {
  await Promise.all(
    rec.hosts.map(async (h) => {
      const ex = hostExecutor(rec, h);
      const ns = h.namespaces[0];
      const argv = [
        'ip',
        'link',
        'add',
        'link',
        h.nic,
        'name',
        h.underlayIf,
        'netns',
        ns,
        'type',
        'macvlan',
        'mode',
        h.nicMode === 'passthru' ? 'passthru' : 'bridge',
      ];
      const r = await ex.run(argv, { timeoutMs: 30_000 });
      if (r.code !== 0) throw new Error(why(ex, argv, r));
    }),
  );
}

/** Write (or rewrite) the marker on every host: the lab, the scheme, that host's namespaces. */
export async function writeMarkers(state: LabState): Promise<void> {
  const rec = state.hosts;
  if (!rec) return;
  await Promise.all(
    rec.hosts.map(async (h) => {
      const ex = hostExecutor(rec, h);
      const body = {
        lab: state.lab,
        scheme: state.scheme,
        host: h.name,
        createdAt: state.createdAt,
        status: state.status,
        // What `clean -i` needs when this machine's state file is gone (apply/hosts-clean.ts).
        stateDir: state.stateDir,
        owner: { host: hostname(), ...state.owner },
        namespaces: h.namespaces,
        nic: h.nic,
        underlay: `${h.underlayIf} (macvlan ${h.nicMode === 'passthru' ? 'passthru' : 'bridge'} on ${h.nic}, inside ${h.namespaces[0]})`,
        processes: state.processes.filter((p) => h.namespaces.includes(p.ns)),
      };
      const argv = ['sh', '-c', 'umask 077 && mkdir -p /run/cnlab && cat > "$1.tmp" && mv "$1.tmp" "$1"', 'sh', h.marker];
      const r = await ex.run(argv, { input: `${JSON.stringify(body, null, 2)}\n`, timeoutMs: 30_000 });
      if (r.code !== 0) throw new Error(why(ex, argv, r));
    }),
  );
}

/**
 * After the namespaces are gone: the lab's directory on each machine (config files, daemon logs,
 * IPAM leases: the same path as the lab's state directory here) and the marker, on every machine
 * holding none of the `left` namespaces. Returns what failed.
 */
export async function removeHostFiles(rec: HostsRecord, stateDir: string, left: ReadonlySet<string> = new Set()): Promise<string[]> {
  const problems: string[] = [];
  await Promise.all(
    rec.hosts.map(async (h) => {
      if (h.namespaces.some((ns) => left.has(ns))) return;
      const ex = hostExecutor(rec, h);
      const argv = ['rm', '-rf', '--', stateDir, h.marker];
      const r = await ex.run(argv, { timeoutMs: 30_000 });
      if (r.code !== 0) problems.push(why(ex, argv, r));
    }),
  );
  return problems;
}

const SSH_NIC = 'carries the SSH connection';

/**
 * Before anything is made: every host answers, is root there (directly or through sudo), has its
 * nic, and the nic does not carry the SSH connection (unless the user said they know). One
 * RunError line naming the hosts that fail.
 */
export async function preflightHosts(rec: HostsRecord, allowSshNic: boolean): Promise<void> {
  const problems = await Promise.all(
    rec.hosts.map(async (h): Promise<string | null> => {
      const ex = hostExecutor(rec, h);
      const id = await ex.run(['id', '-u'], { timeoutMs: 60_000 });
      if (id.code === 255) return `host ${h.name} (${h.ssh}): unreachable: ${id.stderr.trim().split('\n').slice(-1)[0]}`;
      if (id.code !== 0 || id.stdout.trim() !== '0') return `host ${h.name}: not root there (log in as root or set sudo: true)`;
      const link = await ex.run(['ip', 'link', 'show', 'dev', h.nic], { timeoutMs: 30_000 });
      if (link.code !== 0) return `host ${h.name}: no nic ${h.nic}`;
      const plain = h.sudo ? new SshExecutor({ ...h, sudo: false }, { controlDir: rec.controlDir, configFile: rec.sshConfig }) : ex;
      if (!allowSshNic && (await sshDevice(plain)) === h.nic)
        return `host ${h.name}: nic ${h.nic} ${SSH_NIC} — name a NIC dedicated to lab traffic, or pass --i-know-it-is-the-ssh-nic`;
      return null;
    }),
  );
  const bad = problems.filter((p): p is string => p !== null);
  // Only the user's choice of nic is wrong (every host answered): bad input, exit 2.
  if (bad.length && bad.every((p) => p.includes(SSH_NIC))) throw new InputError(bad.join('; '));
  if (bad.length) throw new RunError(bad.join('; '));
}
