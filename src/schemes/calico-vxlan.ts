import { PROFILE_REQUIRES } from './parts/calico-profiles.js';
import { podIp } from './parts/addresses.js';
import { VXLAN_OVERHEAD, vxlanFabric } from './parts/fabric.js';
import { BIRD_REQUIRES, calicoRouting } from './parts/calico-bgp.js';
import { routedVethStages } from './parts/routed-veth.js';
import { containerWorkloads, direct } from './parts/workloads.js';
import type { Scheme } from '../plan/scheme.js';

/**
 * Felix's VXLAN tunnel MAC for host i. Calico gives each node a random locally administered MAC
 * (kept in its Node resource); a fixed one per host keeps the plan pure and reproducible.
 */
const felixMac = (i: number): string => `66:00:00:00:${(i >> 8).toString(16).padStart(2, '0')}:${(i & 255).toString(16).padStart(2, '0')}`;

/**
 * Calico in VXLAN mode (Felix vxlan_mgr.go, vxlanfdb/vxlan_fdb.go): Calico's routed container side
 * (parts/routed-veth.ts) with veth MTU underlay − 50, and Felix's tunnel: `vxlan.calico`, VNI 4096,
 * port 4789, learning off, the block's tunnel address, a blackhole for the own block, and per peer
 * one route to its block via its tunnel address, a permanent neighbour and an FDB entry.
 * The lab's pod block stands for the node's IPAM block (Calico's are /26; use --pod-block 26).
 * By default BIRD distributes the blocks over BGP and programs them through the tunnel (its static
 * blackhole replaces Felix's); with --control-plane static the plan writes Felix's routes.
 */
export const calicoVxlan: Scheme = {
  name: 'calico-vxlan',
  summary: 'Calico VXLAN: routed veth, vxlan.calico (VNI 4096, port 4789, MTU 1450), blackhole own block, neighbour and FDB per peer',
  tenancy: 'profiles',
  attach: 'direct',
  requires: [
    { kind: 'kernel', feature: 'VETH' },
    { kind: 'kernel', feature: 'VXLAN' },
  ],
  tenantRequires: PROFILE_REQUIRES,
  controlRequires: BIRD_REQUIRES,
  notes: [],
  containers: true,
  overhead: VXLAN_OVERHEAD,
  build(lab) {
    const mtu = lab.underlay.mtu - VXLAN_OVERHEAD;
    const spec = { dev: 'vxlan.calico', vni: 4096, port: 4789, mtu, mac: felixMac };
    const routing = calicoRouting(lab, () => [], { kind: 'vxlan', dev: spec.dev });
    // Statically, Felix's blackhole and peer routes; with BIRD, its own.
    const fabric = vxlanFabric(lab, routing.control ? { ...spec, routes: false } : { ...spec, blackhole: true });
    return {
      stages: [...routedVethStages(lab, mtu), ...fabric, ...routing.stages],
      notes: routing.notes,
      control: routing.control,
      workloads: containerWorkloads(lab, podIp),
      mtu,
      targetIp: direct,
    };
  },
};
