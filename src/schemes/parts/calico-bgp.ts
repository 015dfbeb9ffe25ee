import type { Requirement } from '../../caps/types.js';
import { birdConfig, birdPaths, sessionCount, type BirdSpec } from '../../control/bird.js';
import { controlPlaneOf, type Lab } from '../../lab/types.js';
import type { ControlPlane } from '../../plan/scheme.js';
import { exec, file } from '../../plan/steps.js';
import type { Stage, StandIn, Step } from '../../plan/types.js';
import { PINNED_NOTE, pinnedUnderlayStages, pinsUnderlay } from './pinned-underlay.js';
import { STATIC_ROUTES } from './stand-ins.js';

/**
 * Calico's BGP control plane in a plan: per host its BIRD configuration (control/bird.ts) in the
 * lab's state directory, BIRD started in the foreground in the host's namespace (tracked by pid,
 * ready once its control socket exists), then a wait until every host's FIB holds what BIRD should
 * program there: the own block's blackhole and every peer's block (`proto bird`).
 */

export const BIRD_REQUIRES: Requirement[] = [
  { kind: 'binary', name: 'bird', pkg: 'bird2' },
  { kind: 'binary', name: 'birdc', pkg: 'bird2' },
];

/** Seconds the build waits for BGP to converge before it fails. */
export const BGP_WAIT_SECONDS = 60;

/**
 * Waits (polling the FIB every 50 ms) until at least $1 routes are `proto bird`; on timeout it
 * says how many there were. A constant script: the count is its only argument.
 */
const WAIT_ROUTES =
  'n=$1; t=$2; i=0; while c=$(ip -4 route show proto bird | wc -l); [ "$c" -lt "$n" ]; do ' +
  'i=$((i+1)); if [ $i -gt $((t*20)) ]; then echo "BIRD programmed $c of $n routes in $t s" >&2; exit 1; fi; sleep 0.05; done';

export function bgpNote(lab: Lab, spec: BirdSpec): string {
  const n = sessionCount(lab, spec.bgp);
  const shape = spec.bgp === 'rr' ? 'h1 route reflector' : 'full mesh';
  return `peer routes from BGP: BIRD per host, ${shape} (${n} session${n === 1 ? '' : 's'})`;
}

export function birdStages(lab: Lab, spec: BirdSpec): Stage[] {
  const configs: Step[] = [];
  const daemons: Step[] = [];
  const waits: Step[] = [];
  for (const h of lab.hosts) {
    const p = birdPaths(lab, h);
    configs.push(file(h.ns, p.config, birdConfig(lab, h, spec)));
    daemons.push({
      kind: 'daemon',
      ns: h.ns,
      name: `bird-${h.name}`,
      argv: ['bird', '-f', '-c', p.config, '-s', p.socket],
      log: p.log,
      readyFile: p.socket,
    });
    waits.push(exec(h.ns, ['sh', '-c', WAIT_ROUTES, 'sh', String(lab.hosts.length), String(BGP_WAIT_SECONDS)]));
  }
  return [
    { title: "BIRD configuration per host (Calico's BGP, in the lab's state directory)", steps: configs },
    { title: `BIRD per host (${spec.bgp === 'rr' ? 'route reflector on h1' : 'full mesh'}), in the foreground`, steps: daemons },
    { title: 'wait until BGP has programmed the own blackhole and every peer block (proto bird)', steps: waits },
  ];
}

/**
 * How a Calico scheme's hosts learn each other's blocks: BIRD (the default), or with
 * `--control-plane static` the routes it would program, written up front by `staticStages` (then
 * a stand-in: STATIC_ROUTES, which calico and calico-ipip put in their build's result).
 */
export function calicoRouting(
  lab: Lab,
  staticStages: () => Stage[],
  tunnel?: BirdSpec['tunnel'],
): { stages: Stage[]; notes: string[]; control?: ControlPlane; standIn?: StandIn } {
  const pinned = pinnedUnderlayStages(lab);
  const pinNote = pinsUnderlay(lab) ? [PINNED_NOTE] : [];
  if (controlPlaneOf(lab.topology) === 'static')
    return {
      stages: [...pinned, ...staticStages()],
      notes: ['peer routes static (--control-plane static: no BGP daemon)', ...pinNote],
      standIn: STATIC_ROUTES,
    };
  const spec: BirdSpec = { bgp: lab.topology.bgp ?? 'mesh', ...(tunnel ? { tunnel } : {}) };
  return {
    stages: [...pinned, ...birdStages(lab, spec)],
    notes: [bgpNote(lab, spec), ...pinNote],
    control: {
      label: `BGP: BIRD per host (${spec.bgp === 'rr' ? 'h1 route reflector' : 'full mesh'}), Calico's bird.cfg in BIRD 2 syntax`,
      daemons: ['bird'],
      handles: { birdSockets: Object.fromEntries(lab.hosts.map((h) => [h.name, birdPaths(lab, h).socket])) },
    },
  };
}
