import { mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';

import { z } from 'zod';
import { RunError } from '../errors.js';
import { STATE_ROOT, labStateDir, labStateFile } from '../lab/paths.js';

/**
 * The state file: what a lab owns, written before anything is created and kept current, so that
 * `down` and `clean` can remove exactly that — without the topology, after a crash or a kill -9.
 */

const processSchema = z.object({
  pid: z.number().int(),
  /** /proc/<pid>/stat start time: guards against killing a recycled pid. */
  startTime: z.number(),
  ns: z.string(),
  role: z.string(),
  argv: z.array(z.string()),
});

/** A CNI attachment: the plan step that made it and the plugins' ADD result (for DEL). */
const cniSchema = z.object({
  step: z.object({
    kind: z.literal('cni'),
    ns: z.string(),
    containerNs: z.string(),
    containerId: z.string(),
    ifName: z.string(),
    conflist: z.object({ cniVersion: z.string(), name: z.string(), plugins: z.array(z.object({ type: z.string() }).passthrough()) }),
    runtimeConfig: z.record(z.unknown()).optional(),
  }),
  result: z.any().optional(),
});

/** A file under /etc/netns/<ns>/ that `ip netns exec <ns>` binds over /etc/<name>, for one of the lab's namespaces. */
const netnsEtcSchema = z.object({ ns: z.string(), name: z.enum(['resolv.conf', 'nsswitch.conf', 'hosts']) });

/** A filesystem mounted for the lab (a host's bpffs), inside its state directory. */
const mountSchema = z.object({ ns: z.string(), fstype: z.literal('bpf'), path: z.string() });

/** A lab on the user's own hosts: the inventory's hosts as used, each with the namespaces it holds. */
const hostsSchema = z.object({
  inventory: z.string(),
  sshConfig: z.string().optional(),
  /** Where the SSH control sockets live. */
  controlDir: z.string(),
  hosts: z.array(
    z.object({
      name: z.string(),
      ssh: z.string(),
      port: z.number().int(),
      sudo: z.boolean(),
      key: z.string().optional(),
      nic: z.string(),
      nicMode: z.enum(['macvlan', 'passthru', 'ipvlan']),
      /** The lab host node it carries (h1, h2, …) and that node's underlay port. */
      node: z.string(),
      underlayIf: z.string(),
      namespaces: z.array(z.string()),
      /** The marker file on that machine (apply/hosts.ts). */
      marker: z.string(),
    }),
  ),
});

const stateSchema = z.object({
  version: z.literal(1),
  lab: z.string(),
  scheme: z.string(),
  createdAt: z.string(),
  owner: z.object({ pid: z.number(), startTime: z.number() }),
  status: z.enum(['building', 'up', 'failed', 'tearing-down']),
  stateDir: z.string(),
  namespaces: z.array(z.string()),
  nodes: z.record(z.string()),
  processes: z.array(processSchema),
  cni: z.array(cniSchema),
  /** Absent in state files written before mounts existed. */
  mounts: z.array(mountSchema).default([]),
  /** Files written under /etc/netns for the lab's namespaces (apply/netns-etc.ts); absent in older files. */
  netnsEtc: z.array(netnsEtcSchema).default([]),
  /** The lab created /etc/netns itself (removed at teardown when empty). */
  netnsEtcRoot: z.boolean().optional(),
  /** The control plane's handles: BIRD control sockets by host, the etcd client URL. */
  control: z.object({ birdSockets: z.record(z.string()).optional(), etcdEndpoint: z.string().optional() }).optional(),
  /** The validated topology the lab was built from (doctor recomputes the plan from it); absent in older files. */
  topology: z.record(z.unknown()).optional(),
  /** Present when the lab spans the user's own hosts over SSH (`-i hosts.yaml`). */
  hosts: hostsSchema.optional(),
});

export type LabState = z.infer<typeof stateSchema>;
export type HostsRecord = z.infer<typeof hostsSchema>;
export type TrackedProcess = z.infer<typeof processSchema>;
export type CniRecord = z.infer<typeof cniSchema>;
export type MountRecord = z.infer<typeof mountSchema>;
export type NetnsEtcRecord = z.infer<typeof netnsEtcSchema>;

/** Start time of a process in clock ticks since boot, or null when it no longer exists. */
export function processStartTime(pid: number): number | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the command name (which may contain spaces) start after the last ')'.
    const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return Number(rest[19]);
  } catch {
    return null;
  }
}

export function writeState(state: LabState): void {
  mkdirSync(STATE_ROOT, { recursive: true, mode: 0o700 });
  const file = labStateFile(state.lab);
  const tmp = `${file}.${process.pid}.tmp`;
  writeFileSync(tmp, JSON.stringify(state, null, 2), { mode: 0o600 });
  renameSync(tmp, file);
}

export function readState(lab: string): LabState | null {
  let text: string;
  try {
    text = readFileSync(labStateFile(lab), 'utf8');
  } catch {
    return null;
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new RunError(`state file ${labStateFile(lab)} is not valid JSON`, 'remove what it names by hand, then delete the file');
  }
  const res = stateSchema.safeParse(parsed);
  if (!res.success) throw new RunError(`state file ${labStateFile(lab)} is not a cnlab state file (${res.error.issues[0].path.join('.')})`);
  return res.data;
}

/** Lab names with a state file. */
export function listLabs(): string[] {
  let files: string[];
  try {
    files = readdirSync(STATE_ROOT);
  } catch {
    return [];
  }
  return files
    .filter((f) => f.endsWith('.json'))
    .map((f) => f.slice(0, -5))
    .sort();
}

export function removeState(lab: string): void {
  rmSync(labStateDir(lab), { recursive: true, force: true });
  rmSync(labStateFile(lab), { force: true });
}

export function newState(lab: string, scheme: string, namespaces: string[], nodes: Record<string, string>): LabState {
  return {
    version: 1,
    lab,
    scheme,
    createdAt: new Date().toISOString(),
    owner: { pid: process.pid, startTime: processStartTime(process.pid) ?? 0 },
    status: 'building',
    stateDir: labStateDir(lab),
    namespaces,
    nodes,
    processes: [],
    cni: [],
    mounts: [],
    netnsEtc: [],
  };
}

/** Record a process this lab started, at once (before anything else can go wrong). */
/** startTime: given for a process on another machine (read there); else read here. */
export function trackProcess(state: LabState, pid: number, ns: string, role: string, argv: string[], startTime?: number): void {
  state.processes.push({ pid, startTime: startTime ?? processStartTime(pid) ?? 0, ns, role, argv });
  writeState(state);
}

export function untrackProcess(state: LabState, pid: number): void {
  state.processes = state.processes.filter((p) => p.pid !== pid);
  writeState(state);
}

/** Record a mount before it is made, so a crash right after still gets it unmounted. */
export function trackMount(state: LabState, ns: string, fstype: 'bpf', path: string): void {
  state.mounts.push({ ns, fstype, path });
  writeState(state);
}
