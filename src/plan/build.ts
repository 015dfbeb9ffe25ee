import { InputError } from '../errors.js';
import type { Lab, Topology } from '../lab/types.js';
import type { BuildHost, Scheme, SchemeBuild } from './scheme.js';
import { baseStages, labNamespaces } from './base.js';
import { offloadStages } from './offloads.js';
import type { Plan } from './types.js';

/** --overlap asks for tenants sharing addresses: only schemes with a network per tenant can (one InputError line). */
export function checkOverlap(t: Pick<Topology, 'overlap'>, scheme: Scheme): void {
  if (t.overlap && scheme.containers && !scheme.overlap) {
    throw new InputError(
      `${scheme.name} cannot give two tenants the same addresses (--overlap): its containers share one network and one address space`,
      'docker-overlay can (one overlay network per tenant)',
    );
  }
}

/**
 * A lab and a scheme → the whole plan (pure) plus the scheme's workloads. `host` says whether the
 * machine meets the scheme's `prefers` (see apply/up.ts buildHost); without it, the fallback.
 */
export function planLab(lab: Lab, scheme: Scheme, host: BuildHost = { preferred: false }): { plan: Plan; build: SchemeBuild } {
  checkOverlap(lab.topology, scheme);
  const build = scheme.build(lab, host);
  const namespaces = [...labNamespaces(lab, scheme.containers), ...(build.extraNodes ?? []).map((n) => n.ns)];
  const loopback =
    scheme.attach === 'direct' ? namespaces.filter((ns) => !lab.hosts.some((h) => h.containers.some((c) => c.ns === ns))) : namespaces;
  const plan: Plan = {
    lab: lab.name,
    scheme: scheme.name,
    namespaces,
    stages: [...baseStages(lab, loopback), ...build.stages, ...offloadStages(lab, build.stages, build.workloads)].filter(
      (s) => s.steps.length > 0,
    ),
  };
  return { plan, build };
}
