/**
 * The probe contract (issue 13). A probe checks one aspect of a scheme on a built lab:
 * `run` does the side effects (traffic, captures) through the context, which records every command
 * and its output as evidence; `judge` is pure and turns that evidence into the matrix cell.
 * One file per probe under src/verify/probes/, listed in src/verify/registry.ts.
 */
import type { UpLab } from '../apply/up.js';
import type { Requirement } from '../caps/types.js';
import type { Topology } from '../lab/types.js';
import type { Scheme } from '../plan/scheme.js';
import type { Aspect, Evidence, Verdict } from '../result/verify.js';
import type { ExecOptions, ExecResult } from '../util/exec.js';

/**
 * The lab a probe needs. Probes with equal shapes share one build of a scheme (see shapeKey).
 * `topology` sets further fields of the Topology (e.g. a pod CIDR inside the underlay's).
 */
export interface LabShape {
  hosts: number;
  containersPerHost: number;
  /** One more container on host 1 (a same-host peer). */
  sameHost?: boolean;
  /** Groups of containers isolated from each other (issue 13 probe 3; built by the tenants feature). */
  tenants?: number;
  topology?: Partial<Omit<Topology, 'lab' | 'hosts' | 'containersPerHost' | 'sameHost'>>;
  /** The build itself is part of the answer: a failed build is judged (Evidence.buildError), not "not run". */
  buildMayFail?: boolean;
  /** The probe changes the lab (stops a daemon, adds a container): it gets a build of its own. */
  exclusive?: boolean;
}

/** A program a probe started in the background (a capture), stopped with SIGTERM (then SIGKILL). */
export interface Background {
  /** Stops it and returns its output; the command is recorded as evidence then. */
  stop(): Promise<ExecResult>;
}

export interface ProbeContext {
  /** The built lab: its model, plan, the scheme's build (workloads, targetIp, mtu) and state. */
  up: UpLab;
  scheme: Scheme;
  /** Random per verify run (hex): marker payloads are built from it. */
  marker: string;
  /** Runs a program in a node's network namespace (node: "h1", "h1c1", "sw" or a scheme's extra node); recorded. */
  exec(node: string, file: string, args: readonly string[], opts?: ExecOptions): Promise<ExecResult>;
  /** Starts a program in a node's network namespace and returns once it runs; stopped by the probe or after `run`. */
  background(node: string, file: string, args: readonly string[]): Promise<Background>;
  /** Records a stand-in the probe built for the product's own component (shown beside the cell). */
  standIn(label: string): void;
}

/** Thrown by `run` when the probe cannot run here: the cell says "not run: <reason>" (reason: "needs X"). */
export class NotRun extends Error {
  constructor(readonly reason: string) {
    super(`not run: ${reason}`);
  }
}

export interface Probe<D = Record<string, unknown>> {
  aspect: Aspect;
  /** Short id, e.g. "wire". */
  name: string;
  /** One line, e.g. "Network model, from the wire". */
  title: string;
  /** The lab shape, possibly depending on the scheme. */
  needs(scheme: Scheme): LabShape;
  /** Tools and kernel features; unmet → "not run: needs X" without building anything. */
  requires?: Requirement[];
  /** Why the probe does not apply to this scheme (the cell shows it as a value), or null. */
  skip?(scheme: Scheme): string | null;
  /** Side effects only here; returns the structured data `judge` reads (plain JSON). */
  run(ctx: ProbeContext): Promise<D>;
  /** Pure: evidence → the cell's verdict. */
  judge(evidence: Evidence<D>): Verdict;
}

/** A probe of any data type, as the registry holds them. */
export type AnyProbe = Probe<any>;
