import { hostname } from 'node:os';
import { z } from 'zod';
import { labStateDir, SSH_CONTROL_DIR } from '../lab/paths.js';
import { LAB_NAME } from '../lab/topology.js';
import type { Inventory, InventoryHost } from '../remote/inventory.js';
import { SshExecutor } from '../remote/ssh.js';
import { hostEntry, markerPath } from './hosts.js';
import { processStartTime, readState, type HostsRecord, type LabState } from './state.js';
import { teardownState, type TeardownReport } from './teardown.js';

/**
 * `cnlab clean -i hosts.yaml`: the labs the machines' markers name when this machine has no state
 * file for them (it was rebooted, or /run was wiped). Each host's markers are read over SSH and
 * checked — the file name is `<lab>.<host>.json` for this host, every namespace is the lab's own
 * (`cnl-<lab>-…`) — and a lab is torn down from what its markers name, as `down` does from a
 * state file: everything running inside those namespaces, the namespaces, the lab's directory
 * and the markers. CNI DEL is not run (markers do not record attachments); what it would release
 * lives in the namespaces and the lab's directory, both removed. A marker that fails a check is
 * reported and left, with everything it names.
 */

const markerSchema = z.object({
  lab: z.string().regex(LAB_NAME, 'not a lab name'),
  scheme: z.string(),
  host: z.string(),
  createdAt: z.string(),
  namespaces: z.array(z.string()).min(1),
  /** Written since markers carried them; older markers fall back to the default paths. */
  stateDir: z.string().optional(),
  owner: z.object({ host: z.string(), pid: z.number().int(), startTime: z.number() }).optional(),
});
export type Marker = z.infer<typeof markerSchema>;

/** Pure: a marker file's text, checked against the host and file it was read from; a reason when it is refused. */
export function checkMarker(text: string, file: string, host: string): Marker | string {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    return `${file}: not JSON`;
  }
  const m = markerSchema.safeParse(raw);
  if (!m.success) return `${file}: not a cnlab marker (${m.error.issues[0]?.path.join('.') || 'file'}: ${m.error.issues[0]?.message})`;
  const mk = m.data;
  if (mk.host !== host) return `${file}: names host ${mk.host}, read on ${host}`;
  if (markerPath(mk.lab, host) !== file) return `${file}: names lab ${mk.lab}, whose marker on ${host} is ${markerPath(mk.lab, host)}`;
  const foreign = mk.namespaces.filter((ns) => !ns.startsWith(`cnl-${mk.lab}-`) || !/^[a-z0-9-]+$/.test(ns));
  if (foreign.length) return `${file}: names namespaces that are not lab ${mk.lab}'s (${foreign.join(', ')})`;
  if (mk.stateDir !== undefined && mk.stateDir !== labStateDir(mk.lab))
    return `${file}: names directory ${mk.stateDir}, not lab ${mk.lab}'s ${labStateDir(mk.lab)}`;
  return mk;
}

/** Pure: the state a lab's markers describe, for teardownState (which removes exactly what it names). */
export function stateFromMarkers(
  inv: Inventory,
  lab: string,
  markers: Array<{ host: InventoryHost; marker: Marker }>,
  owner: LabState['owner'],
): LabState {
  const hosts: HostsRecord['hosts'] = markers.map(({ host: h, marker }) =>
    hostEntry(h, lab, { node: marker.namespaces[0].slice(`cnl-${lab}-`.length), underlayIf: 'eth0', namespaces: marker.namespaces }),
  );
  return {
    version: 1,
    lab,
    scheme: markers[0].marker.scheme,
    createdAt: markers[0].marker.createdAt,
    owner,
    status: 'tearing-down',
    stateDir: labStateDir(lab),
    namespaces: hosts.flatMap((h) => h.namespaces),
    nodes: {},
    processes: [],
    cni: [],
    mounts: [],
    netnsEtc: [],
    hosts: {
      inventory: inv.source,
      ...(inv.sshConfig ? { sshConfig: inv.sshConfig } : {}),
      controlDir: SSH_CONTROL_DIR,
      hosts,
    },
  };
}

export interface MarkerClean {
  /** Labs removed (or attempted) from their markers. */
  reports: TeardownReport[];
  /** Markers refused or unreadable, and labs left alone, one line each. */
  skipped: string[];
}

/** Reads every host's markers and tears down each lab (of `only`, when given) that has no state file here. */
export async function cleanFromMarkers(inv: Inventory, only?: ReadonlySet<string>): Promise<MarkerClean> {
  const skipped: string[] = [];
  const cfg = { controlDir: SSH_CONTROL_DIR, configFile: inv.sshConfig };
  const executors: SshExecutor[] = [];
  const byLab = new Map<string, Array<{ host: InventoryHost; marker: Marker }>>();
  for (const h of inv.hosts) {
    const ex = new SshExecutor(h, cfg);
    executors.push(ex);
    const list = await ex.run(['find', '/run/cnlab', '-maxdepth', '1', '-type', 'f', '-name', `*.${h.name}.json`], { timeoutMs: 30_000 });
    if (list.code !== 0 && !/No such file/.test(list.stderr)) {
      skipped.push(`host ${h.name} (${h.ssh}): ${list.stderr.trim().split('\n').slice(-1)[0] || `exit ${list.code}`}`);
      continue;
    }
    for (const file of list.stdout.split('\n').filter(Boolean).sort()) {
      const labOfFile = file.slice(file.lastIndexOf('/') + 1, -`.${h.name}.json`.length);
      if (only && !only.has(labOfFile)) continue;
      const cat = await ex.run(['cat', '--', file], { timeoutMs: 30_000 });
      const m = cat.code === 0 ? checkMarker(cat.stdout, file, h.name) : `${file}: ${cat.stderr.trim()}`;
      if (typeof m === 'string') {
        skipped.push(`host ${h.name}: ${m}: left alone`);
        continue;
      }
      if (readState(m.lab)) continue; // this machine's state file names it: `cnlab clean` removed it already, or says why not
      if (m.owner && m.owner.host === hostname() && processStartTime(m.owner.pid) === m.owner.startTime) {
        skipped.push(`lab ${m.lab}: still being run by pid ${m.owner.pid} on this machine: left alone`);
        continue;
      }
      byLab.set(m.lab, [...(byLab.get(m.lab) ?? []), { host: h, marker: m }]);
    }
  }
  // Teardown opens its own connections (apply/hosts.ts); these are done.
  await Promise.all(executors.map((ex) => ex.close()));
  const owner = { pid: process.pid, startTime: processStartTime(process.pid) ?? 0 };
  const reports: TeardownReport[] = [];
  for (const [lab, markers] of byLab) reports.push(await teardownState(stateFromMarkers(inv, lab, markers, owner)));
  return { reports, skipped };
}
