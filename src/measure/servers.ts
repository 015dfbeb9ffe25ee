import { join } from 'node:path';
import { critical } from '../apply/cleanup.js';
import { trackProcess, untrackProcess, type LabState } from '../apply/state.js';
import type { TestRecord } from '../result/types.js';
import { readAffinity } from '../runners/affinity.js';
import { LOAD_TOOL, TOOLS, toolOf, type ToolName } from '../runners/registry.js';
import { startRemoteServer } from '../runners/remote-server.js';
import { executorOf, LOCAL } from '../util/executor.js';
import type { RunContext } from './execute.js';

/**
 * The benchmark servers of one placement. Each test says which servers it needs (its tool's,
 * and the load tool's when it runs under load); before it runs, servers it does not need are
 * stopped and missing ones started, so tools take turns on the service port. Each tool says its
 * port (src/runners/): all stay within SERVICE_PORT..SERVICE_PORT_LAST, which docker-bridge
 * publishes.
 */

export interface ServerNeed {
  tool: ToolName;
  protocol: 'tcp' | 'udp';
  port: number;
  cpus?: string;
}

interface Running {
  key: string;
  need: ServerNeed;
  pid: number;
  stop(): Promise<void>;
}

const key = (n: ServerNeed) => `${n.tool}/${n.protocol}/${n.port}/${n.cpus ?? ''}`;

/** Pure: the servers a test needs and the ports its clients dial. */
export function serverNeeds(
  t: Pick<TestRecord, 'kind' | 'protocol' | 'underLoad'>,
  cpus: { server?: string; loadServer?: string },
): { needs: ServerNeed[]; ports: RunContext['ports'] } {
  const tool = toolOf(t);
  const own: ServerNeed = { tool: tool.name, ...tool.server(t), cpus: cpus.server };
  if (!t.underLoad) return { needs: [own], ports: { main: own.port } };
  // The bulk flow is TCP on its tool's port; a UDP probe may share the number, TCP has its own.
  const load: ServerNeed = { tool: LOAD_TOOL, ...TOOLS[LOAD_TOOL].server({ protocol: 'tcp' }), cpus: cpus.loadServer };
  return { needs: [load, own], ports: { main: own.port, load: load.port } };
}

export class ServerPool {
  private running: Running[] = [];

  constructor(
    private readonly state: LabState,
    private readonly ns: string,
    /** The server workload's own address (tools that bind one use it). */
    private readonly ip: string,
  ) {}

  /** Stops what `needs` does not list, starts what is missing; returns the pids by tool. */
  async ensure(needs: ServerNeed[]): Promise<Map<ServerNeed['tool'], number>> {
    const wanted = new Set(needs.map(key));
    for (const r of [...this.running]) if (!wanted.has(r.key)) await this.stopOne(r);
    for (const need of needs) {
      if (this.running.some((r) => r.key === key(need))) continue;
      const onSpawn = (pid: number, startTime?: number) =>
        trackProcess(this.state, pid, this.ns, `${need.tool}-server`, [need.tool, 'server', String(need.port)], startTime);
      const start = { ns: this.ns, ip: this.ip, port: need.port, protocol: need.protocol, cpus: need.cpus, onSpawn };
      const ex = executorOf(this.ns);
      // On a host over SSH (cnlab run -i): the same command line, started and watched there.
      const started = await critical(
        ex === LOCAL
          ? TOOLS[need.tool].startServer(start)
          : startRemoteServer(ex, {
              ...TOOLS[need.tool].serverCommand(start),
              port: need.port,
              what: `${need.tool} server in ${this.ns} on port ${need.port}`,
              log: join(this.state.stateDir, `${need.tool}-server-${this.ns}-${need.port}.log`),
              onSpawn,
            }),
      );
      this.running.push({ key: key(need), need, pid: started.pid, stop: started.stop });
    }
    return new Map(this.running.map((r) => [r.need.tool, r.pid]));
  }

  /** The CPU list the kernel reports for a running server of this tool (Cpus_allowed_list). */
  affinityOf(tool: ServerNeed['tool']): string | undefined {
    const r = this.running.find((x) => x.need.tool === tool);
    if (executorOf(this.ns) !== LOCAL) return undefined; // its /proc is the host's
    return r ? readAffinity(r.pid) : undefined;
  }

  private async stopOne(r: Running): Promise<void> {
    this.running = this.running.filter((x) => x !== r);
    await r.stop();
    untrackProcess(this.state, r.pid);
  }

  async stopAll(): Promise<void> {
    for (const r of [...this.running]) await this.stopOne(r);
  }
}
