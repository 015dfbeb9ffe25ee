/**
 * A plan is pure data: the ordered steps that build one lab. It can be printed as a shell script
 * (plan/render.ts) or applied (apply/). Steps run inside lab namespaces only.
 *
 * Stages run in order. Inside a stage, each namespace's steps run in order, and different
 * namespaces may run in parallel: a step that depends on another namespace's step belongs in a
 * later stage.
 */

/** CNI network configuration list (spec 1.0), as handed to plugins. */
export interface CniConfList {
  cniVersion: string;
  name: string;
  plugins: Array<Record<string, unknown> & { type: string }>;
}

export type Step =
  /** `ip -n NS <args>`; consecutive ip steps of one namespace run as one `ip -batch`. */
  | { kind: 'ip'; ns: string; args: string[] }
  /** `bridge -n NS <args>` (fdb entries, vlan). */
  | { kind: 'bridge'; ns: string; args: string[] }
  /** `tc -n NS <args>`. */
  | { kind: 'tc'; ns: string; args: string[] }
  /** `sysctl -w key=value` inside NS. */
  | { kind: 'sysctl'; ns: string; key: string; value: string }
  /** `nft -f -` inside NS with this ruleset. */
  | { kind: 'nft'; ns: string; ruleset: string }
  /**
   * A one-shot program inside NS (`ip netns exec NS env K=V argv…`), e.g. ovs-vsctl, ethtool;
   * `input`, when given, is its standard input (e.g. `ovs-ofctl add-flows BRIDGE -`).
   */
  | { kind: 'exec'; ns: string; argv: string[]; env?: Record<string, string>; input?: string }
  /**
   * A long-running process inside NS, started in the foreground (never self-daemonizing, so the
   * pid cnlab tracks is the daemon's), logging to `log`, and considered ready once `readyFile`
   * exists (or at once without one). Stopped by pid at teardown.
   */
  | { kind: 'daemon'; ns: string; name: string; argv: string[]; env?: Record<string, string>; log: string; readyFile?: string }
  /**
   * A bpffs instance for host namespace NS, mounted at `path` (inside the lab's state directory)
   * in cnlab's own mount namespace, so pinned BPF maps outlive the commands that create them and
   * each emulated host has its own. Recorded before it is made; unmounted at teardown.
   */
  | { kind: 'mount'; ns: string; fstype: 'bpf'; path: string }
  /**
   * Attach a container through the CNI plugins of `conflist` (ADD, chained), the plugins running
   * in the host namespace `ns`, the interface `ifName` landing in `containerNs`.
   */
  | {
      kind: 'cni';
      ns: string;
      containerNs: string;
      containerId: string;
      ifName: string;
      conflist: CniConfList;
      /** Runtime capabilities (CNI "runtimeConfig"), e.g. portMappings, bandwidth. */
      runtimeConfig?: Record<string, unknown>;
    };

export interface Stage {
  /** Shown as a comment in the script and in progress output. */
  title: string;
  steps: Step[];
}

export interface Plan {
  lab: string;
  scheme: string;
  /** Every namespace the lab creates, in creation order. */
  namespaces: string[];
  stages: Stage[];
}
