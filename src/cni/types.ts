/** CNI network configuration list (spec 1.0), as handed to plugins. */
export interface CniConfList {
  cniVersion: string;
  name: string;
  plugins: Array<Record<string, unknown> & { type: string }>;
}
