import { underlayIp } from '../../schemes/parts/addresses.js';
import type { Evidence, Verdict } from '../../result/verify.js';
import { crossPair } from '../traffic.js';
import type { Probe, ProbeContext } from '../types.js';

/**
 * Probe 9, subnet restriction: must the container network be apart from the hosts' subnet? The lab
 * is built with the pod network inside the underlay subnet — both 198.18.0.0/16: the hosts at
 * 198.18.0.1 and .0.2 (that /16 on their underlay interfaces), the pod blocks 198.18.1.0/24,
 * 198.18.2.0/24…, Docker overlay's subnet 198.18.255.0/24; no address is used twice. `cnlab run`'s
 * input check refuses such an overlap (loadTopology: "underlay … overlaps the pod network"), so
 * verify hands this topology to the build directly, as it does every probe's shape. The build may
 * fail (judged: refused, with its error); when it builds, a container pings its cross-host peer,
 * its own host and the other host. `ip route get` first tells a path the container has no route
 * for (the scheme offers none: nothing to measure) from one that fails.
 */

const UNDERLAY = '198.18.0.0/16';
const PODS = UNDERLAY;

export interface PathCheck {
  what: 'own host' | 'other host' | 'container';
  from: string;
  to: string;
  ip: string;
  /** The sender's route to the address (`ip route get`'s first line), or null: none. */
  route: string | null;
  reached: boolean;
}

export interface SubnetData {
  /** The containers take the underlay addresses cnlab gives L2 schemes (bridge-l2, macvlan): the pod network is not used. */
  underlayAddresses: boolean;
  checks: PathCheck[];
}

async function check(ctx: ProbeContext, what: PathCheck['what'], from: string, to: string, ip: string): Promise<PathCheck> {
  const r = await ctx.exec(from, 'ip', ['route', 'get', ip]);
  const route = r.code === 0 ? (r.stdout.split('\n')[0]?.trim() ?? '') : null;
  const reached = route !== null && (await ctx.exec(from, 'ping', ['-n', '-c', '3', '-i', '0.2', '-W', '1', ip])).code === 0;
  return { what, from, to, ip, route, reached };
}

/** Whether every container has the address cnlab's L2 schemes take from the underlay (schemes/parts/addresses.ts). */
function onUnderlay(ctx: ProbeContext): boolean {
  const { lab, build } = ctx.up;
  let ipOf: ReturnType<typeof underlayIp>;
  try {
    ipOf = underlayIp(lab, ctx.scheme.name);
  } catch {
    return false;
  }
  return build.workloads.every((w) => {
    const h = lab.hosts[w.hostIndex - 1];
    const c = h?.containers.find((x) => x.name === w.node);
    return !!c && ipOf(h, c) === w.ip;
  });
}

async function run(ctx: ProbeContext): Promise<SubnetData> {
  const { a, b, target } = crossPair(ctx);
  const own = ctx.up.lab.hosts[a.hostIndex - 1];
  const other = ctx.up.lab.hosts.find((h) => h !== own)!;
  return {
    underlayAddresses: onUnderlay(ctx),
    checks: [
      await check(ctx, 'container', a.node, b.node, target),
      await check(ctx, 'own host', a.node, own.name, own.underlayIp),
      await check(ctx, 'other host', a.node, other.name, other.underlayIp),
    ],
  };
}

/** A failed check, with the route the sender took (on-link: it looked for the address on its own segment). */
const unanswered = (c: PathCheck) =>
  `${c.from}→${c.to} ${c.ip}: no answer (route: ${c.route ?? 'none'}${c.route && !/ via /.test(c.route) ? '; on-link: asked for on its own segment' : ''})`;

const label = (c: PathCheck) => (c.what === 'container' ? 'container↔container' : `container↔${c.what}`);

/** Pure: the build error or the pings → works / broken (which part) / refused. */
export function judgeSubnetRestriction(e: Evidence<SubnetData>): Verdict {
  if (e.buildError !== undefined) {
    return { mark: 'no', key: 'refused', text: `refused: ${e.buildError.split('\n')[0]}`, detail: e.buildError };
  }
  const { checks, underlayAddresses } = e.data;
  if (!checks?.length) return { mark: 'not-run', text: 'not run: nothing was checked' };
  const where = `the pod network inside the underlay subnet (both ${UNDERLAY})`;
  if (underlayAddresses) {
    return {
      mark: 'value',
      key: 'n/a',
      text: 'containers take underlay addresses',
      detail: `built with ${where}; the scheme does not use the pod network`,
    };
  }
  // A host the container has no route to is a path the scheme does not offer; a peer container must be reachable.
  const failed = checks.filter((c) => !c.reached && (c.route !== null || c.what === 'container'));
  const offered = checks.filter((c) => c.route !== null || c.what === 'container');
  const absent = checks.filter((c) => !offered.includes(c));
  const none = absent.length ? `; no ${absent.map(label).join(', ')} path (no route in the container)` : '';
  if (failed.length) {
    const works = offered.filter((c) => c.reached);
    return {
      mark: 'no',
      key: 'broken',
      text: `builds, but ${failed.map(label).join(', ')} ${failed.length > 1 ? 'fail' : 'fails'}`,
      detail: `built with ${where}; ${failed.map(unanswered).join('; ')}; ${works.length ? `${works.map(label).join(', ')} ${works.length > 1 ? 'work' : 'works'}` : 'nothing works'}${none}`,
    };
  }
  return {
    mark: 'yes',
    key: 'works',
    text: `builds; ${offered.map(label).join(', ')} ${offered.length > 1 ? 'work' : 'works'}${none}`,
    detail: `built with ${where}`,
  };
}

export const subnetRestriction: Probe<SubnetData> = {
  aspect: 'subnet-restriction',
  name: 'subnet',
  title: 'Subnet restriction: the pod network inside the underlay subnet',
  needs: () => ({
    hosts: 2,
    containersPerHost: 1,
    topology: { underlay: { cidr: UNDERLAY, mtu: 1500 }, pods: { cidr: PODS, blockPrefix: 24 } },
    buildMayFail: true,
  }),
  skip: (s) => (s.containers ? null : 'no containers (host baseline)'),
  run,
  judge: judgeSubnetRestriction,
};
