import { describe, expect, it } from 'vitest';
import { judgeOffloads, offloadGroups, parseEthtoolJson, type EndFeatures } from '../src/doctor/offloads.js';
import { resolveLab } from '../src/lab/resolve.js';
import { loadTopology } from '../src/lab/topology.js';
import { planLab } from '../src/plan/build.js';
import { getScheme } from '../src/schemes/registry.js';

/** Doctor's offload comparison between the ends of a path: pure parts on `ethtool --json -k` output. */

// The shape ethtool 6.1 prints for a veth (trimmed to the compared features).
const ETHTOOL = `[ {
        "ifname": "eth0",
        "rx-checksumming": { "active": true, "fixed": false, "requested": true },
        "tx-checksumming": { "active": true, "fixed": null, "requested": null },
        "tcp-segmentation-offload": { "active": true, "fixed": null, "requested": null },
        "generic-segmentation-offload": { "active": true, "fixed": false, "requested": true },
        "generic-receive-offload": { "active": false, "fixed": false, "requested": false },
        "tx-udp_tnl-segmentation": { "active": true, "fixed": false, "requested": true }
    } ]`;

const base = parseEthtoolJson(ETHTOOL)!;
const end = (ns: string, dev: string, over: Record<string, boolean | { active: boolean; fixed: boolean }> = {}): EndFeatures => ({
  ns,
  dev,
  group: dev === 'eth0' ? 'underlay' : dev,
  features: {
    ...base,
    ...Object.fromEntries(Object.entries(over).map(([k, v]) => [k, typeof v === 'boolean' ? { active: v, fixed: false } : v])),
  },
});

describe('doctor: offloads between the two ends', () => {
  it('parses ethtool --json -k, and nothing from empty or broken output', () => {
    expect(base.ifname).toBe('eth0');
    expect(parseEthtoolJson('')).toBeNull();
    expect(parseEthtoolJson('not json')).toBeNull();
  });

  it('equal ends: nothing', () => {
    expect(judgeOffloads([end('h1', 'eth0'), end('h2', 'eth0')])).toEqual([]);
  });

  it('the odd end is named with the fix taking the others’ value; a tie follows the first host', () => {
    const three = judgeOffloads([
      end('h1', 'flannel.1'),
      end('h2', 'flannel.1', { 'generic-segmentation-offload': false }),
      end('h3', 'flannel.1'),
    ]);
    expect(three).toHaveLength(1);
    expect(three[0].what).toMatch(/^h2: flannel\.1 has gso off where the other ends have it on/);
    expect(three[0].fix).toEqual([['ip', 'netns', 'exec', 'h2', 'ethtool', '-K', 'flannel.1', 'gso', 'on']]);
    const tie = judgeOffloads([end('h1', 'eth0', { 'generic-receive-offload': true }), end('h2', 'eth0')]);
    expect(tie[0].what).toMatch(/^h2: eth0 has gro off/);
  });

  it("the plan's --offloads value decides, and a feature the driver fixes gets no fix", () => {
    const planned = judgeOffloads([end('h1', 'eth0', { 'tcp-segmentation-offload': false }), end('h2', 'eth0')], 'off');
    expect(planned.map((f) => f.what)).toEqual([expect.stringMatching(/^h2: eth0 has tso on where the plan \(--offloads\) sets it off/)]);
    const fixed = judgeOffloads([
      end('h1', 'eth0'),
      end('h2', 'eth0', { 'rx-checksumming': { active: false, fixed: true } }),
      end('h3', 'eth0'),
    ]);
    expect(fixed[0].fix).toEqual([]);
    expect(fixed[0].evidence).toMatch(/fixed by eth0's driver/);
  });

  it("compares the hosts' underlay ports and the tunnels one name makes on several hosts", () => {
    const lab = resolveLab(loadTopology({ lab: 'off' }));
    const groups = offloadGroups(lab, planLab(lab, getScheme('flannel-vxlan')).plan.stages);
    expect(groups.map((g) => [g.group, g.devices.map((d) => d.ns)])).toEqual([
      ['underlay', ['cnl-off-h1', 'cnl-off-h2']],
      ['flannel.1', ['cnl-off-h1', 'cnl-off-h2']],
    ]);
  });
});
