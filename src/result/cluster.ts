/** A Kubernetes run's cluster (cnlab k8s run): what the measured CNI ran on. */
export interface ClusterInfo {
  /** The API server's version (GET /version gitVersion), e.g. "v1.31.2". */
  kubernetesVersion: string;
  /** The API server cnlab talked to. */
  server: string;
  /**
   * The CNI: its name from the first source that knew it (a known DaemonSet, then the node's CNI
   * config, then node annotations; "unknown" when none did), `detectedFrom` saying which; its version
   * from the DaemonSet's image tag; the main plugin and MTU from the first config file in the node's
   * /etc/cni/net.d, as read by the facts pod.
   */
  cni: {
    name: string;
    version?: string;
    detectedFrom: string;
    /** Each source consulted, in order, and what it said (or why it could not say). */
    sources?: CniSource[];
    /** Main (first) plugin type of the node's CNI config, e.g. "calico", "bridge". */
    plugin?: string;
    /** That config file, on node `configNode`. */
    configFile?: string;
    configNode?: string;
    /** The `mtu` its main plugin sets (absent: the file sets none). */
    configMtu?: number;
  };
  /** MTU of eth0 inside a pod on the cluster's network, read by the facts pod (absent: not read). */
  podMtu?: number;
  /** The two nodes measured, as their status reports them. */
  nodes: { name: string; kernel: string; os: string; arch: string; cpus: string; kubelet: string; internalIp?: string }[];
  /** The namespace the run used (deleted at its end). */
  namespace: string;
  /** The benchmark image. */
  image: string;
}

/** One source the CNI detection consulted. */
export interface CniSource {
  source: 'daemonset' | 'node-config' | 'node-annotation';
  /** The CNI it points to (absent: it did not say). */
  name?: string;
  /** What was read, or why nothing could be. */
  detail: string;
}
