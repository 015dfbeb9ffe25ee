import type { TestKind, TestSpec } from '../result/types.js';
import { iperf3 } from './iperf3.js';
import { qperf } from './qperf.js';
import { sockperf } from './sockperf.js';
import type { Tool } from './types.js';

/**
 * The measurement tools, one entry each (as flent keeps its runners). Measurement (suite,
 * servers, execute), the CLI's tool check and the environment record ask this registry which
 * tool serves a test, how its server starts, what its client runs and which figure judges it;
 * none of them names a tool.
 *
 * Adding a tool (netperf, for TCP_RR/TCP_CRR, is a likely next one) is one file in src/runners/
 * exporting a `Tool` (see types.ts; iperf3.ts, qperf.ts and sockperf.ts are the models) plus one
 * line in TOOLS below. Its test kinds and any figure the result file does not record yet are words
 * of the on-disk format, declared in src/result/types.ts (TestKind, RunRecord, MetricName).
 */
export const TOOLS = { iperf3, qperf, sockperf } as const satisfies Record<string, Tool>;

export type ToolName = keyof typeof TOOLS;

/** The tool whose bulk TCP flow loads the path of a latency-under-load test. */
export const LOAD_TOOL: ToolName = 'iperf3';

/** Pure: refuses a tool list whose keys and names differ or in which two tools claim one test kind. */
export function assertToolRegistry(tools: Record<string, Tool>): void {
  const owner = new Map<TestKind, string>();
  for (const [key, tool] of Object.entries(tools)) {
    if (tool.name !== key) throw new Error(`tool registry: entry "${key}" is named "${tool.name}"`);
    for (const kind of tool.kinds) {
      const other = owner.get(kind);
      if (other) throw new Error(`tool registry: test kind "${kind}" is claimed by ${other} and ${key}`);
      owner.set(kind, key);
    }
  }
}
assertToolRegistry(TOOLS);

/** The tool that measures a test (a test without kind is an iperf3 test, as in version 1). */
export function toolOf(t: Pick<TestSpec, 'kind'>): Tool & { name: ToolName } {
  const kind = t.kind ?? 'iperf3';
  const tool = Object.values(TOOLS).find((x) => x.kinds.includes(kind));
  if (!tool) throw new Error(`no measurement tool runs test kind "${kind}"`);
  return tool as Tool & { name: ToolName };
}

/** Pure: every tool a test uses: its own, and the load's when it is measured under load. */
export function toolsOf(t: Pick<TestSpec, 'kind' | 'underLoad'>): ToolName[] {
  const own = toolOf(t).name;
  return t.underLoad && own !== LOAD_TOOL ? [own, LOAD_TOOL] : [own];
}
