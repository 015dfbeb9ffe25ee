import type { Requirement } from '../../caps/types.js';
import { tenantMembers } from '../../lab/resolve.js';
import type { ContainerNode, HostNode, Lab } from '../../lab/types.js';
import { nft } from '../../plan/steps.js';
import type { Stage } from '../../plan/types.js';
import { podIp } from './addresses.js';

/**
 * Calico's profiles, built as Felix builds them (felix/rules/endpoints.go, static.go), in
 * nftables: each tenant is a profile whose members' addresses form a set (Felix's IP set of a
 * profile's selector, `cali40s:…`); each workload veth has a to-workload chain `cali-tw-<iface>`
 * (established and related accepted, invalid dropped, then the profile's inbound chain
 * `cali-pri-<profile>`, then "Drop if no profiles matched") and a from-workload chain
 * `cali-fw-<iface>` (invalid dropped; the profile's outbound rule allows everything, so it
 * returns). The forward hook dispatches by interface to those chains, as `cali-to-wl-dispatch`
 * and `cali-from-wl-dispatch` do. Felix's strict reverse-path check on workload interfaces (a
 * source address must route back out of the interface it came in on) runs before routing, so a
 * workload that takes another one's address is dropped at once.
 *
 * Everything lives in one table, `cnlab-calico`, in the host's namespace: cnlab made it and
 * nothing else writes it. Without tenants there are no profiles and no table (every workload
 * may reach every other, as the plain plan always built).
 */

export const PROFILE_TABLE = 'cnlab-calico';

/** What the profiles need on this machine (only with --tenants). */
export const PROFILE_REQUIRES: Requirement[] = [
  { kind: 'kernel', feature: 'NF_TABLES' },
  { kind: 'kernel', feature: 'NFT_FIB' },
  { kind: 'binary', name: 'nft', pkg: 'nftables' },
];

/** The profile (Felix's name for it) of tenant t. */
export const profileName = (t: number): string => `tenant${t}`;

/** The ruleset of one host: a set per profile (every member, on every host), chains per local endpoint. */
export function profileRuleset(lab: Lab, h: HostNode, ifName: (c: ContainerNode) => string): string {
  const count = lab.topology.tenants ?? 0;
  const lines: string[] = [`table inet ${PROFILE_TABLE} {`];
  for (let t = 1; t <= count; t++) {
    const members = tenantMembers(lab, t).map((c) => podIp(lab.hosts[c.hostIndex - 1], c));
    const elements = members.length ? ` elements = { ${members.join(', ')} };` : '';
    lines.push(`  set ${profileName(t)} { type ipv4_addr;${elements} }`);
    lines.push(
      `  chain cali-pri-${profileName(t)} { ip saddr @${profileName(t)} accept comment "inbound: from members of ${profileName(t)}"; }`,
    );
  }
  const local = h.containers.filter((c) => c.tenant !== undefined);
  for (const c of local) {
    const i = ifName(c);
    lines.push(
      `  chain cali-tw-${i} {`,
      '    ct state established,related accept',
      '    ct state invalid drop',
      `    jump cali-pri-${profileName(c.tenant!)}`,
      '    drop comment "Drop if no profiles matched"',
      '  }',
      `  chain cali-fw-${i} {`,
      '    ct state invalid drop',
      '    return comment "outbound: the profile allows all"',
      '  }',
    );
  }
  const dispatch = (dir: 'iifname' | 'oifname', prefix: 'fw' | 'tw') =>
    `    ${dir} vmap { ${local.map((c) => `"${ifName(c)}" : jump cali-${prefix}-${ifName(c)}`).join(', ')} }`;
  lines.push(
    '  chain raw-prerouting {',
    '    type filter hook prerouting priority raw; policy accept;',
    `    iifname { ${local.map((c) => `"${ifName(c)}"`).join(', ')} } fib saddr . iif oif missing drop comment "workload source spoofing"`,
    '  }',
    '  chain filter-forward {',
    '    type filter hook forward priority filter; policy accept;',
    dispatch('iifname', 'fw'),
    dispatch('oifname', 'tw'),
    '  }',
    '}',
  );
  return lines.join('\n');
}

/** The profiles stage: one ruleset per host holding endpoints of a tenant; none without tenants. */
export function profileStages(lab: Lab, ifName: (c: ContainerNode) => string): Stage[] {
  if (lab.topology.tenants === undefined) return [];
  const hosts = lab.hosts.filter((h) => h.containers.length);
  return [
    {
      title: `Calico profiles (Felix's model): ${lab.topology.tenants} tenants, per-endpoint chains on the host side of every workload veth`,
      steps: hosts.map((h) => nft(h.ns, profileRuleset(lab, h, ifName))),
    },
  ];
}
