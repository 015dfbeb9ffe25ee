import { newState, readState, type LabState } from '../apply/state.js';
import { buildHost, type UpLab } from '../apply/up.js';
import { InputError } from '../errors.js';
import { resolveLab } from '../lab/resolve.js';
import { LAB_NAME, loadTopology, parseTopology, type TopologyFlags } from '../lab/topology.js';
import { netnsExists } from '../apply/netns.js';
import type { Lab } from '../lab/types.js';
import { planLab } from '../plan/build.js';
import type { SchemeBuild } from '../plan/scheme.js';
import type { Plan, Step } from '../plan/types.js';
import { getScheme } from '../schemes/registry.js';

/** A running lab and the plan it was built from, recomputed from the scheme and topology its state file records. */
export interface DoctorLab {
  state: LabState;
  lab: Lab;
  plan: Plan;
  build: SchemeBuild;
  /**
   * The plan's static control-plane variant: the FDB entries, neighbours and routes a real control
   * plane (flannel's agent, BIRD) writes at run time, precomputed — what the overlay check expects.
   */
  staticPlan: Plan;
}

/**
 * A lab `cnlab up` built (its state file), or — given the scheme and the topology flags `cnlab plan`
 * was given — one built by hand from the plan's script (no tracked processes: daemons and leases
 * go unchecked).
 */
export async function loadDoctorLab(name: string, schemeOverride?: string, flags: TopologyFlags = {}): Promise<DoctorLab> {
  if (!LAB_NAME.test(name)) throw new InputError(`bad lab name "${name}"`, 'lab names are 1-16 lowercase letters, digits or inner hyphens');
  const recorded = readState(name);
  if (!recorded && !schemeOverride)
    throw new InputError(
      `no lab named "${name}" recorded by cnlab`,
      "see: cnlab ls; for a lab built from cnlab plan's script, give --scheme NAME and its topology flags",
    );
  if (recorded && !recorded.topology)
    throw new InputError(`lab ${name}'s state file records no topology (built by an older cnlab)`, `rebuild it: cnlab down ${name}`);
  const scheme = getScheme(schemeOverride ?? recorded!.scheme);
  const topology = recorded?.topology
    ? parseTopology(recorded.topology, `state file of lab ${name}`)
    : loadTopology({ ...flags, lab: name });
  const lab = resolveLab(topology);
  const host = await buildHost(scheme);
  const { plan, build } = planLab(lab, scheme, host);
  const state = recorded ?? newState(name, scheme.name, plan.namespaces, {});
  const absent = plan.namespaces.filter((ns) => !netnsExists(ns));
  if (absent.length)
    throw new InputError(`lab ${name} is not there as ${scheme.name} plans it: no namespace ${absent[0]}`, 'see: cnlab ls');
  const staticPlan = planLab(resolveLab({ ...topology, controlPlane: 'static' }), scheme, host).plan;
  return { state, lab, plan, build, staticPlan };
}

/** A lab just built by `bringUp` (e.g. inside `cnlab run`), as doctor sees it. */
export async function doctorLabOf(up: UpLab): Promise<DoctorLab> {
  const scheme = getScheme(up.state.scheme);
  const staticPlan = planLab(resolveLab({ ...up.lab.topology, controlPlane: 'static' }), scheme, await buildHost(scheme)).plan;
  return { state: up.state, lab: up.lab, plan: up.plan, build: up.build, staticPlan };
}

/** Pure: every step of the plan, in order. */
export function planSteps(plan: Plan): Step[] {
  return plan.stages.flatMap((s) => s.steps);
}
