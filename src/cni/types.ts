/** CNI network configuration list (spec 1.0), as handed to plugins. */
export interface CniConfList {
  cniVersion: string;
  name: string;
  plugins: Array<Record<string, unknown> & { type: string }>;
}

/**
 * Attach a container through the CNI plugins of `conflist` (ADD, chained), the plugins running
 * in the host namespace `ns`, the interface `ifName` landing in `containerNs`.
 */
export interface CniStep {
  kind: 'cni';
  ns: string;
  containerNs: string;
  containerId: string;
  ifName: string;
  conflist: CniConfList;
  /** Runtime capabilities (CNI "runtimeConfig"), e.g. portMappings, bandwidth. */
  runtimeConfig?: Record<string, unknown>;
}
