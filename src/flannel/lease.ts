/**
 * Flannel's data in etcd, in flanneld's own layout (pkg/subnet/etcd/registry.go; datapaths §9), and
 * what a lease asks of a host's kernel for each backend (pure).
 *   <prefix>/config                      {"Network", "SubnetLen", "Backend": {"Type", …}}
 *   <prefix>/subnets/<a.b.c.d>-<len>     {"PublicIP", "PublicIPv6", "BackendType", "BackendData"}
 */

export const FLANNEL_PREFIX = '/coreos.com/network';
export const AGENT_LABEL = "cnlab's flannel agent (flanneld's etcd layout)";

export type Backend = 'vxlan' | 'host-gw' | 'udp';

export interface NetworkConfig {
  Network: string;
  SubnetLen: number;
  Backend: { Type: Backend; VNI?: number; Port?: number };
}

export interface LeaseValue {
  PublicIP: string;
  PublicIPv6: null;
  BackendType: Backend;
  BackendData?: { VNI: number; VtepMAC: string };
}

export function networkConfig(network: string, subnetLen: number, backend: Backend): NetworkConfig {
  return {
    Network: network,
    SubnetLen: subnetLen,
    Backend:
      backend === 'vxlan' ? { Type: 'vxlan', VNI: 1, Port: 8472 } : backend === 'udp' ? { Type: 'udp', Port: 8285 } : { Type: 'host-gw' },
  };
}

/** "198.19.1.0/24" → "<prefix>/subnets/198.19.1.0-24". */
export function subnetKey(subnet: string, prefix = FLANNEL_PREFIX): string {
  return `${prefix}/subnets/${subnet.replace('/', '-')}`;
}

/** "<prefix>/subnets/198.19.1.0-24" → "198.19.1.0/24", or null for any other key. */
export function subnetOfKey(key: string, prefix = FLANNEL_PREFIX): string | null {
  const m = new RegExp(`^${prefix.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}/subnets/(\\d+\\.\\d+\\.\\d+\\.\\d+)-(\\d+)$`).exec(key);
  return m ? `${m[1]}/${m[2]}` : null;
}

export function leaseValue(publicIp: string, backend: Backend, vtep?: { vni: number; mac: string }): LeaseValue {
  return {
    PublicIP: publicIp,
    PublicIPv6: null,
    BackendType: backend,
    ...(backend === 'vxlan' && vtep ? { BackendData: { VNI: vtep.vni, VtepMAC: vtep.mac } } : {}),
  };
}

/** A lease value read from etcd, or null when it is not one. */
export function parseLease(text: string): LeaseValue | null {
  try {
    const v = JSON.parse(text) as LeaseValue;
    return typeof v.PublicIP === 'string' && typeof v.BackendType === 'string' ? v : null;
  } catch {
    return null;
  }
}

/** flanneld's /run/flannel/subnet.env for a host: the gateway is the subnet's first address. */
export function subnetEnv(network: string, subnet: string, mtu: number): string {
  const [addr, len] = subnet.split('/');
  const o = addr.split('.').map(Number);
  const gw = `${o[0]}.${o[1]}.${o[2]}.${o[3] + 1}/${len}`;
  return `FLANNEL_NETWORK=${network}\nFLANNEL_SUBNET=${gw}\nFLANNEL_MTU=${mtu}\nFLANNEL_IPMASQ=false\n`;
}

export interface Device {
  /** The VXLAN device (vxlan) or the underlay port (host-gw). */
  dev: string;
}

/**
 * The ip and bridge batch lines that program (add) or remove (del) one peer's lease: host-gw, a
 * route to its subnet via its address; vxlan (flannel vxlan.go), a permanent neighbour for its
 * VTEP (the subnet's network address), an FDB entry to its public address, and a route onlink;
 * udp, none (its peers are the encapsulation daemon's table).
 */
export function leaseLines(op: 'add' | 'del', subnet: string, lease: LeaseValue, d: Device): { ip: string[]; bridge: string[] } {
  // udp: nothing in the kernel; the peer goes into the encapsulation daemon's table (agent.ts).
  if (lease.BackendType === 'udp') return { ip: [], bridge: [] };
  if (lease.BackendType === 'host-gw') {
    return {
      ip: [
        op === 'add'
          ? `route replace ${subnet} via ${lease.PublicIP} dev ${d.dev}`
          : `route del ${subnet} via ${lease.PublicIP} dev ${d.dev}`,
      ],
      bridge: [],
    };
  }
  const vtep = subnet.split('/')[0];
  const mac = lease.BackendData?.VtepMAC;
  if (!mac) return { ip: [], bridge: [] };
  if (op === 'add') {
    return {
      ip: [`neigh replace ${vtep} lladdr ${mac} dev ${d.dev} nud permanent`, `route replace ${subnet} via ${vtep} dev ${d.dev} onlink`],
      bridge: [`fdb replace ${mac} dev ${d.dev} dst ${lease.PublicIP} self permanent`],
    };
  }
  return {
    ip: [`route del ${subnet} via ${vtep} dev ${d.dev} onlink`, `neigh del ${vtep} dev ${d.dev}`],
    bridge: [`fdb del ${mac} dev ${d.dev} dst ${lease.PublicIP} self`],
  };
}
