import { describe, expect, it } from 'vitest';
import { resolveLab } from '../src/lab/resolve.js';
import { loadTopology } from '../src/lab/topology.js';
import { planLab } from '../src/plan/build.js';
import { renderPlan } from '../src/plan/render.js';
import { USERSPACE_NOTE } from '../src/schemes/parts/ovs.js';
import { getScheme } from '../src/schemes/registry.js';

/** ovs-internal (S2, Meizu): each container's interface is an OVS internal port moved into its namespace. */

const lab = resolveLab(loadTopology({ lab: 'oi' }));
const scheme = getScheme('ovs-internal');

describe('ovs-internal plan', () => {
  it.each([
    ['userspace', false],
    ['kernel', true],
  ])('%s datapath: internal ports created on br-int, moved into the containers, no veth', (_name, preferred) => {
    const { plan, build } = planLab(lab, scheme, { preferred });
    const text = renderPlan(plan);
    expect(text).toContain(`datapath_type=${preferred ? 'system' : 'netdev'}`);
    for (const h of lab.hosts) {
      for (const c of h.containers) {
        expect(text).toMatch(new RegExp(`add-port br-int vc-${c.name} -- set interface vc-${c.name} type=internal`));
        expect(text).toContain(`ip -n ${h.ns} link set vc-${c.name} netns ${c.ns}`);
      }
    }
    expect(text).not.toMatch(/link add vc-/);
    expect(build.workloads.map((w) => w.ifName)).toEqual(build.workloads.map((w) => `vc-${w.node}`));
    expect(build.notes?.[0]).toBe(preferred ? undefined : USERSPACE_NOTE);
    expect(text.includes('userspace-tso-enable=true')).toBe(true); // ignored by the kernel datapath
    expect(text.includes('tx off')).toBe(false);
  });

  it('prefers the kernel datapath and falls back to the userspace one, like ovs', () => {
    expect(scheme.prefers).toEqual(getScheme('ovs').prefers);
    expect(scheme.requires).toEqual(getScheme('ovs').requires);
  });
});
