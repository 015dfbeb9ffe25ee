/**
 * Convergence of a scheme's control plane (`cnlab run --tests converge`): per repeat, one fresh lab
 * whose control plane is started, grown and broken while cnlab's prober watches the containers.
 * Times are seconds; a figure that could not be taken is absent, with the reason in `notes`.
 */

export interface ConvergenceRun {
  repeat: number;
  /** Daemons started → every probed container pair answers. */
  coldStartSeconds?: number;
  /** A container added on the last host → it answers from host 1's container. */
  newContainerSeconds?: number;
  /** The last host's daemon stopped → no peer routes its pod block any more. */
  hostLossSeconds?: number;
  /** Whether traffic between the other hosts' containers failed while the host was lost (null: no other pair). */
  othersInterrupted?: boolean | null;
  /** When it was: the longest time one of those pairs went unanswered, ms (probes time out after 500 ms). */
  othersGapMs?: number;
  /** Which targets went unanswered then, and for how long, e.g. "198.19.1.3 (h1) 325 ms": a same-host target failing too means the prober, not the network. */
  othersGaps?: string[];
  /** The lost host's daemon started again → its container answers from host 1's again. */
  rejoinSeconds?: number;
  /**
   * flannel: the rejoining agent's lease granted (it writes subnet.env right after) → host 1 reaches
   * the host's containers again — what the etcd watch and the agents' programming take, without
   * the agent's process start (a Node.js process here, a Go binary in flanneld).
   */
  rejoinFromLeaseSeconds?: number;
  /**
   * Store loss (etcd stopped; with a cluster, its leader): existing traffic went on, what a new
   * lease got, what was stopped, and (a cluster) seconds until a new lease was granted.
   */
  storeLoss?: { trafficContinued: boolean; newLease: string; stopped?: string; servedAgainSeconds?: number };
  /** Routes the control plane programmed, per host (after the cold start). */
  routesPerHost?: number[];
  error?: string;
}

export interface ConvergenceRecord {
  /** 'static': no control plane ran (nothing converges); 'real': measured. */
  mode: 'real' | 'static';
  hosts: number;
  /** e.g. "BGP mesh", "BGP rr", "etcd watch". */
  mechanism?: string;
  /** What "new container" meant for this scheme (a new announced block, a container in the leased subnet). */
  newContainer?: string;
  /** How the cold start was probed (every pair, or a sample at many hosts). */
  probed?: string;
  runs: ConvergenceRun[];
  /** Medians over the runs that have the figure. */
  median?: {
    coldStart?: number;
    newContainer?: number;
    hostLoss?: number;
    rejoin?: number;
    rejoinFromLease?: number;
    routesPerHost?: number;
  };
  notes: string[];
}

const median = (xs: number[]): number | undefined => {
  if (!xs.length) return undefined;
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};

/** Pure: the medians of a record's runs. */
export function convergenceMedians(runs: ConvergenceRun[]): NonNullable<ConvergenceRecord['median']> {
  const of = (f: (r: ConvergenceRun) => number | undefined) => median(runs.map(f).filter((x): x is number => x !== undefined));
  return {
    coldStart: of((r) => r.coldStartSeconds),
    newContainer: of((r) => r.newContainerSeconds),
    hostLoss: of((r) => r.hostLossSeconds),
    rejoin: of((r) => r.rejoinSeconds),
    rejoinFromLease: of((r) => r.rejoinFromLeaseSeconds),
    routesPerHost: of((r) => (r.routesPerHost?.length ? median(r.routesPerHost) : undefined)),
  };
}
