import { assertRootLinux, detect, unmet } from '../caps/detect.js';
import type { Requirement } from '../caps/types.js';
import { InputError, RunError } from '../errors.js';
import { resolveLab } from '../lab/resolve.js';
import { controlPlaneOf, type Lab, type Topology } from '../lab/types.js';
import { planLab } from '../plan/build.js';
import type { Plan } from '../plan/types.js';
import { schemeRequires, type BuildHost, type Scheme, type SchemeBuild } from '../plan/scheme.js';
import { applyPlan, type ApplyOptions } from './apply.js';
import { hostsRecord, preflightHosts, releaseHosts, remotePlan, remoteRefusal } from './hosts.js';
import type { Inventory } from '../remote/inventory.js';
import { checkWorkloadMtu } from './mtu-check.js';
import type { LabState } from './state.js';

export interface UpLab {
  lab: Lab;
  plan: Plan;
  build: SchemeBuild;
  state: LabState;
}

/** What every lab needs, whatever the scheme: the engine's own tools and the underlay. */
export const BASE_REQUIREMENTS: Requirement[] = [
  { kind: 'binary', name: 'ip', pkg: 'iproute2' },
  { kind: 'binary', name: 'nsenter', pkg: 'util-linux' },
  { kind: 'binary', name: 'sysctl', pkg: 'procps' },
  { kind: 'binary', name: 'xargs', pkg: 'findutils' },
  { kind: 'kernel', feature: 'VETH' },
];

/** Why a scheme cannot be built here, or null when it can. */
export async function unsupportedReason(scheme: Scheme, controlPlane: 'static' | 'real' = 'real', tenants = false): Promise<string | null> {
  const reqs = [...BASE_REQUIREMENTS, ...schemeRequires(scheme, controlPlane, tenants)];
  const caps = await detect({ binaries: reqs.flatMap((r) => (r.kind === 'binary' ? [r.name] : [])) });
  const missing = unmet(reqs, caps);
  return missing.length ? `unsupported here: ${missing.join(', ')}` : null;
}

/** Whether this machine also meets the scheme's `prefers` (its better variant; see Scheme). */
export async function buildHost(scheme: Scheme): Promise<BuildHost> {
  const prefers = scheme.prefers ?? [];
  if (!prefers.length) return { preferred: false };
  const caps = await detect({ binaries: prefers.flatMap((r) => (r.kind === 'binary' ? [r.name] : [])) });
  return { preferred: unmet(prefers, caps).length === 0 };
}

/** Node name → namespace, for `cnlab exec`. */
function nodeMap(lab: Lab, plan: Plan, build: SchemeBuild): Record<string, string> {
  const nodes: Record<string, string> = {};
  for (const n of build.extraNodes ?? []) nodes[n.node] = n.ns;
  for (const h of lab.hosts) nodes[h.name] = h.ns;
  if (lab.switch) nodes[lab.switch.name] = lab.switch.ns;
  for (const h of lab.hosts) for (const c of h.containers) if (plan.namespaces.includes(c.ns)) nodes[c.name] = c.ns;
  return nodes;
}

/** The user's own hosts a lab spans (`-i hosts.yaml`). */
export interface OnHosts {
  inventory: Inventory;
  /** --i-know-it-is-the-ssh-nic */
  allowSshNic: boolean;
}

/** Validated topology + scheme → a built lab (held for cleanup on SIGINT/SIGTERM by applyPlan). */
export async function bringUp(topology: Topology, scheme: Scheme, opts: ApplyOptions = {}, onHosts?: OnHosts): Promise<UpLab> {
  if (onHosts) return bringUpOnHosts(topology, scheme, opts, onHosts);
  assertRootLinux(await detect());
  const why = await unsupportedReason(scheme, controlPlaneOf(topology), topology.tenants !== undefined);
  if (why) throw new RunError(`scheme ${scheme.name} is ${why}`);
  const lab = resolveLab(topology);
  const { plan, build } = planLab(lab, scheme, await buildHost(scheme));
  // Every build is checked: workload MTUs equal the scheme's, and a DF ping of that size crosses hosts.
  const state = await applyPlan(plan, nodeMap(lab, plan, build), {
    verify: () => checkWorkloadMtu(build),
    ...opts,
    control: build.control?.handles,
    topology: { ...topology } as Record<string, unknown>,
  });
  return { lab, plan, build, state };
}

/** The same build on the inventory's machines: one host namespace each, the underlay a macvlan child of its nic. */
async function bringUpOnHosts(topology: Topology, scheme: Scheme, opts: ApplyOptions, on: OnHosts): Promise<UpLab> {
  const refused = remoteRefusal(scheme.name, on.inventory);
  if (refused) throw new InputError(`scheme ${scheme.name} ${refused}`);
  const lab = resolveLab(topology);
  const planned = planLab(lab, scheme, { preferred: false });
  const plan = remotePlan(planned.plan, lab);
  const hosts = hostsRecord(on.inventory, lab, plan);
  try {
    await preflightHosts(hosts, on.allowSshNic);
  } catch (e) {
    await releaseHosts(hosts);
    throw e;
  }
  const state = await applyPlan(plan, nodeMap(lab, plan, planned.build), {
    verify: () => checkWorkloadMtu(planned.build),
    ...opts,
    control: planned.build.control?.handles,
    hosts,
  });
  return { lab, plan, build: planned.build, state };
}
