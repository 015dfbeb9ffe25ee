import { describe, expect, it } from 'vitest';
import { cidrText, containsIp, overlaps, parseCidr } from '../src/lab/ipv4.js';
import { resolveLab } from '../src/lab/resolve.js';
import { DEFAULT_TOPOLOGY } from '../src/lab/topology.js';
import type { Topology } from '../src/lab/types.js';
import { gwbridgeSubnet } from '../src/schemes/parts/docker-gwbridge.js';
import { calico } from '../src/schemes/calico.js';
import { subnetRestriction } from '../src/verify/probes/subnet-restriction.js';

/** docker_gwbridge's subnet: block 0 of the pod network by default, never a block holding a host's underlay address. */

describe('docker_gwbridge subnet', () => {
  it('is block 0 of the pod network on the default lab', () => {
    const lab = resolveLab({ ...DEFAULT_TOPOLOGY, lab: 'gw' });
    expect(cidrText(gwbridgeSubnet(lab, [parseCidr('198.19.255.0/24')!]))).toBe('198.19.0.0/24');
  });

  it("skips the blocks holding the hosts' underlay addresses when the pod network lies inside the underlay subnet", () => {
    const shape = subnetRestriction.needs(calico);
    const t = {
      ...DEFAULT_TOPOLOGY,
      lab: 'gw',
      ...shape.topology,
      hosts: shape.hosts,
      containersPerHost: shape.containersPerHost,
    } as Topology;
    const lab = resolveLab(t);
    const overlay = parseCidr('198.18.255.0/24')!;
    expect(overlaps(lab.pods, overlay)).toBe(true);
    const subnet = gwbridgeSubnet(lab, [overlay]);
    expect(overlaps(subnet, overlay)).toBe(false);
    for (const h of lab.hosts) {
      expect(containsIp(subnet, h.underlayIp), `${cidrText(subnet)} holds ${h.name}'s ${h.underlayIp}`).toBe(false);
      expect(overlaps(subnet, h.podBlock)).toBe(false);
    }
  });
});
