import type { Evidence, Verdict } from '../../result/verify.js';
import { crossPair } from '../traffic.js';
import type { Probe } from '../types.js';

export interface VnicData {
  /** `ip -j link` inside the container. */
  links: string;
}

/** Probe 7: the interfaces inside a container. */
export const vnic: Probe<VnicData> = {
  aspect: 'vnic',
  name: 'vnic',
  title: 'Separate vNIC: interfaces inside a container',
  needs: () => ({ hosts: 2, containersPerHost: 1 }),
  skip: (s) => (s.containers ? null : 'no containers (host baseline)'),
  async run(ctx) {
    const { a } = crossPair(ctx);
    return { links: (await ctx.exec(a.node, 'ip', ['-j', 'link', 'show'])).stdout };
  },
  judge(e: Evidence<VnicData>): Verdict {
    let names: string[];
    try {
      names = (JSON.parse(e.data.links) as Array<{ ifname: string }>).map((l) => l.ifname).filter((n) => n !== 'lo');
    } catch {
      return { mark: 'not-run', text: 'not run: cannot read the interfaces' };
    }
    const key = names.length > 1 ? 'several' : names.length === 1 ? 'one' : 'none';
    return { mark: 'value', key, text: `${names.length}: ${names.join(', ') || 'none'}` };
  },
};
