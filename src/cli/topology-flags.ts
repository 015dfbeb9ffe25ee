import type { Command } from 'commander';
import type { TopologyFlags } from '../lab/topology.js';

/** The flags that shape a topology, shared by plan, up and run. Values are validated later. */
export function addTopologyFlags(cmd: Command): Command {
  return cmd
    .option('-t, --topology <file>', 'topology YAML file (flags override its values)')
    .option('--lab <name>', 'lab name: namespaces are cnl-<lab>-<node>')
    .option('--hosts <n>', 'number of emulated hosts (default 2)')
    .option('--containers <n>', 'containers per host (default 1)')
    .option('--no-same-host', 'no second container on host 1 (skips same-host tests)')
    .option('--underlay <cidr>', 'underlay subnet (default 198.18.0.0/24)')
    .option('--pods <cidr>', 'pod network (default 198.19.0.0/16)')
    .option('--pod-block <len>', "prefix length of each host's pod block (default 24)")
    .option('--mtu <n>', 'underlay MTU (default 1500)')
    .option('--link-rate <rate>', 'emulate a NIC of this rate on the underlay (tbf), e.g. 1gbit')
    .option('--offloads <on|off>', 'ethtool -K tso/gso/gro/tx/rx on underlay, tunnel and workload devices')
    .option('--allow-addresses', 'allow addresses outside 198.18.0.0/15')
    .option('--control-plane <static|real>', "real: run the scheme's control plane (BIRD, etcd; default); static: precomputed routes")
    .option('--bgp <mesh|rr>', "Calico's BGP topology: full mesh (default) or host 1 as route reflector")
    .option('--etcd <1|3>', "flannel's etcd: one member (default) or a 3-member cluster, each member in its own namespace")
    .option('--tenants <n>', "split each host's containers round-robin into N tenants (Calico profiles, Weave subnets, Docker networks)")
    .option('--overlap', 'give every tenant the same container addresses (IP overlap; docker-overlay, with --tenants 2 or more)');
}

/** Commander's parsed options → TopologyFlags (sameHost only when the user said --no-same-host). */
export function topologyFlags(o: Record<string, unknown>, defaultLab?: string): TopologyFlags {
  return {
    topology: o.topology as string | undefined,
    lab: (o.lab as string | undefined) ?? defaultLab,
    hosts: o.hosts as string | undefined,
    containers: o.containers as string | undefined,
    sameHost: o.sameHost === false ? false : undefined,
    underlay: o.underlay as string | undefined,
    pods: o.pods as string | undefined,
    podBlock: o.podBlock as string | undefined,
    mtu: o.mtu as string | undefined,
    linkRate: o.linkRate as string | undefined,
    allowAddresses: o.allowAddresses === true ? true : undefined,
    offloads: o.offloads as string | undefined,
    controlPlane: o.controlPlane as string | undefined,
    bgp: o.bgp as string | undefined,
    etcd: o.etcd as string | undefined,
    tenants: o.tenants as string | undefined,
    overlap: o.overlap === true ? true : undefined,
  };
}
