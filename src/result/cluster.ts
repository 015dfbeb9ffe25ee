/** A Kubernetes run's cluster (cnlab k8s run): what the measured CNI ran on. */
export interface ClusterInfo {
  /** The API server's version (GET /version gitVersion), e.g. "v1.31.2". */
  kubernetesVersion: string;
  /** The API server cnlab talked to. */
  server: string;
  /** The CNI detected from the nodes (known DaemonSets, then node annotations); "unknown" when none matched. */
  cni: { name: string; version?: string; detectedFrom: string };
  /** MTU of the pod's interface as the client pod reported it (absent: not read). */
  podMtu?: number;
  /** The two nodes measured, as their status reports them. */
  nodes: { name: string; kernel: string; os: string; arch: string; cpus: string; kubelet: string; internalIp?: string }[];
  /** The namespace the run used (deleted at its end). */
  namespace: string;
  /** The benchmark image. */
  image: string;
}
