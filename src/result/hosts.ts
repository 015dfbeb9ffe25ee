/**
 * `cnlab run -i hosts.yaml`: the user's own machines the lab ran on, as each reported itself
 * before anything was built (the same reads as `cnlab hosts check`). Lab host N is host N here.
 */
export interface HostsSection {
  /** The inventory file. */
  inventory: string;
  /** How CPU figures were taken on these hosts. */
  cpuMethod: string;
  hosts: HostDetails[];
}

export interface HostDetails {
  name: string;
  /** user@host as the inventory says. */
  ssh: string;
  /** The lab node this host held (h1, h2, …). */
  node: string;
  kernel: string;
  arch: string;
  cpu: { model: string; count: number };
  /** The NIC carrying lab traffic and how the lab used it. */
  nic: {
    name: string;
    mode: 'macvlan' | 'passthru' | 'ipvlan';
    driver?: string;
    driverVersion?: string;
    firmware?: string;
    bus?: string;
    /** Mbit/s; null when the link reports none (a veth, a link that is down). */
    speedMbps: number | null;
    /** The offloads that decide overlay throughput, as `ethtool -k` reported them. */
    offloads: Record<string, string>;
  };
}
