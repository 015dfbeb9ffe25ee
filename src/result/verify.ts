/**
 * The result file's `verify` section (issue 13): the matrix of what each scheme does, measured on
 * the wire by the probes in src/verify, beside what the products claim (S5). Each cell carries its
 * evidence — the commands a probe ran and their output — so a report can show why it says what it says.
 */

/** The aspects, in the order the matrix lists them as rows (S5's order, then MTU). */
export const ASPECTS = [
  'network-model',
  'encryption',
  'isolation',
  'name-service',
  'distributed-store',
  'partial-connectivity',
  'vnic',
  'ip-overlap',
  'subnet-restriction',
  'protocols',
  'mtu',
] as const;
export type Aspect = (typeof ASPECTS)[number];

/** One command a probe ran, with what it printed. */
export interface EvidenceCommand {
  /** The node (e.g. "h1", "h1c1", "sw") it ran in, when it ran inside the lab. */
  node?: string;
  argv: string[];
  /** Exit code; null when killed (e.g. a capture stopped by the probe). */
  code: number | null;
  stdout: string;
  stderr: string;
}

/** What a probe observed: the commands and their output, and the structured data it read from them. */
export interface Evidence<D = Record<string, unknown>> {
  commands: EvidenceCommand[];
  /** Probe-specific, plain JSON data; what `judge` decides from. */
  data: D;
  /** The lab could not be built in the shape the probe needs (for probes that accept that, e.g. subnet restriction). */
  buildError?: string;
}

/**
 * A cell's measured answer: yes (✓), no (✗), a value (text), or not run (text says "needs X").
 * `key` is a short machine token of the answer (e.g. "vxlan", "none", "yes") compared with the
 * claim's `expect` to decide agreement.
 */
export interface Verdict {
  mark: 'yes' | 'no' | 'value' | 'not-run';
  /** Short text for the matrix cell, e.g. "VXLAN port 8472 VNI 1, +50 B". */
  text: string;
  key?: string;
  /** A longer explanation for the evidence view. */
  detail?: string;
}

/** What a product is claimed to do for one aspect (src/verify/claims.ts). */
export interface Claim {
  product: string;
  text: string;
  source: string;
  /** Keys (Verdict.key) that agree with the claim; absent: the claim cannot be compared mechanically. */
  expect?: string[];
}

export interface VerifyCell extends Verdict {
  aspect: Aspect;
  scheme: string;
  probe: string;
  claim?: Claim;
  /** Whether the measurement agrees with the claim; absent when there is no comparable claim or the probe did not run. */
  agrees?: boolean;
  evidence: Evidence;
  /** Labels of stand-ins the probe built (e.g. "dnsmasq stands in for weaveDNS"). */
  standIns?: string[];
  seconds: number;
}

export interface VerifySection {
  /** Scheme columns, in the order asked for. */
  schemes: string[];
  /** Aspect rows that have at least one cell. */
  aspects: Aspect[];
  cells: VerifyCell[];
  /** True when every probe ran (the exit code is 0). */
  allRan: boolean;
}
