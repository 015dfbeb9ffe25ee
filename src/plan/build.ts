import type { Lab } from '../lab/types.js';
import type { Scheme, SchemeBuild } from '../schemes/types.js';
import { baseStages, labNamespaces } from './base.js';
import type { Plan } from './types.js';

/** A lab and a scheme → the whole plan (pure) plus the scheme's workloads. */
export function planLab(lab: Lab, scheme: Scheme): { plan: Plan; build: SchemeBuild } {
  const build = scheme.build(lab);
  const namespaces = [...labNamespaces(lab, scheme.containers), ...(build.extraNodes ?? []).map((n) => n.ns)];
  const loopback = scheme.attach === 'direct' ? namespaces.filter((ns) => !lab.hosts.some((h) => h.containers.some((c) => c.ns === ns))) : namespaces;
  const plan: Plan = {
    lab: lab.name,
    scheme: scheme.name,
    namespaces,
    stages: [...baseStages(lab, loopback), ...build.stages].filter((s) => s.steps.length > 0),
  };
  return { plan, build };
}
