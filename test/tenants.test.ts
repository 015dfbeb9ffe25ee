import { describe, expect, it } from 'vitest';
import { InputError } from '../src/errors.js';
import { resolveLab, tenantMembers } from '../src/lab/resolve.js';
import { loadTopology } from '../src/lab/topology.js';
import { profileRuleset } from '../src/schemes/parts/calico-profiles.js';
import { caliName } from '../src/schemes/parts/routed-veth.js';

describe('--tenants', () => {
  it('rejects what is not a whole number from 1 to 16, with one line', () => {
    for (const bad of ['0', '17', 'two', '1.5']) {
      expect(() => loadTopology({ tenants: bad })).toThrow(InputError);
      expect(() => loadTopology({ tenants: bad })).toThrow(/tenants/);
    }
  });

  it('assigns containers round-robin within each host and records it in the lab', () => {
    const lab = resolveLab(loadTopology({ lab: 't', tenants: '2', containers: '2' }));
    expect(lab.hosts.map((h) => h.containers.map((c) => `${c.name}:${c.tenant}`))).toEqual([
      ['h1c1:1', 'h1c2:2', 'h1c3:1'],
      ['h2c1:1', 'h2c2:2'],
    ]);
    expect(tenantMembers(lab, 2).map((c) => c.name)).toEqual(['h1c2', 'h2c2']);
  });

  it('leaves containers without a tenant when none is asked for', () => {
    const lab = resolveLab(loadTopology({ lab: 't' }));
    expect(lab.hosts[0].containers.every((c) => c.tenant === undefined)).toBe(true);
  });
});

describe("Calico profiles (Felix's chains in nftables)", () => {
  const lab = resolveLab(loadTopology({ lab: 't', tenants: '2', containers: '2' }));
  const rules = profileRuleset(lab, lab.hosts[0], caliName);

  it('holds a set per profile with every member on every host', () => {
    expect(rules).toContain('set tenant1 { type ipv4_addr; elements = { 198.19.1.2, 198.19.1.4, 198.19.2.2 }; }');
    expect(rules).toContain('set tenant2 { type ipv4_addr; elements = { 198.19.1.3, 198.19.2.3 }; }');
  });

  it("sends traffic toward each local endpoint through its profile's inbound chain, then drops", () => {
    const tw = /chain cali-tw-calih1c2 \{([^}]*)\}/.exec(rules)?.[1] ?? '';
    expect(tw).toContain('jump cali-pri-tenant2');
    expect(tw.indexOf('jump cali-pri-tenant2')).toBeLessThan(tw.indexOf('drop comment "Drop if no profiles matched"'));
    expect(rules).toContain('"calih1c2" : jump cali-tw-calih1c2');
    expect(rules).not.toContain('calih2c1');
  });

  it('checks the reverse path of every local workload interface before routing', () => {
    expect(rules).toMatch(
      /hook prerouting priority raw;[\s\S]*iifname \{ "calih1c1", "calih1c2", "calih1c3" \} fib saddr \. iif oif missing drop/,
    );
  });
});
