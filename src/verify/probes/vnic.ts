import type { Requirement } from '../../caps/types.js';
import type { Evidence, Verdict } from '../../result/verify.js';
import { crossPair } from '../traffic.js';
import type { Probe } from '../types.js';

export interface VnicData {
  /** `ip -j link` inside the container. */
  links: string;
  /**
   * Traffic to an address outside the container network: the other host's underlay address.
   * `route`: `ip -j route get` inside the container; `answered`: a ping got its reply.
   */
  outside?: { to: string; route: string; answered: boolean };
}

const PING: Requirement = { kind: 'binary', name: 'ping', pkg: 'iputils-ping' };

/** The device `ip -j route get` chose, or undefined (no route: the command printed nothing usable). */
export function routeDev(json: string): string | undefined {
  try {
    return (JSON.parse(json) as Array<{ dev?: string }>)[0]?.dev;
  } catch {
    return undefined;
  }
}

/** Probe 7: the interfaces inside a container, and which one carries its traffic leaving the container network. */
export const vnic: Probe<VnicData> = {
  aspect: 'vnic',
  name: 'vnic',
  title: 'Separate vNIC: interfaces inside a container, the way out of the container network',
  needs: () => ({ hosts: 2, containersPerHost: 1 }),
  requires: [PING],
  skip: (s) => (s.containers ? null : 'no containers (host baseline)'),
  async run(ctx) {
    const { a } = crossPair(ctx);
    const links = (await ctx.exec(a.node, 'ip', ['-j', 'link', 'show'])).stdout;
    const to = ctx.up.lab.hosts[1].underlayIp;
    const route = (await ctx.exec(a.node, 'ip', ['-j', 'route', 'get', to])).stdout;
    const answered = (await ctx.exec(a.node, 'ping', ['-n', '-c', '1', '-W', '1', to])).code === 0;
    return { links, outside: { to, route, answered } };
  },
  judge(e: Evidence<VnicData>): Verdict {
    let names: string[];
    try {
      names = (JSON.parse(e.data.links) as Array<{ ifname: string }>).map((l) => l.ifname).filter((n) => n !== 'lo');
    } catch {
      return { mark: 'not-run', text: 'not run: cannot read the interfaces' };
    }
    const key = names.length > 1 ? 'several' : names.length === 1 ? 'one' : 'none';
    const o = e.data.outside;
    const dev = o && routeDev(o.route);
    const out = !o ? '' : `; to ${o.to} (another host): ${dev ? `via ${dev}, ` : 'no route, '}${o.answered ? 'answered' : 'no answer'}`;
    return { mark: 'value', key, text: `${names.length}: ${names.join(', ') || 'none'}${out}` };
  },
};
