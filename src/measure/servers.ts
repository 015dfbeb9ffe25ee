import { critical } from '../apply/cleanup.js';
import { trackProcess, untrackProcess, type LabState } from '../apply/state.js';
import type { TestRecord } from '../result/types.js';
import { readAffinity } from '../runners/affinity.js';
import { startServer as iperf3Server } from '../runners/iperf3.js';
import { startServer as qperfServer } from '../runners/qperf.js';
import { startServer as sockperfServer } from '../runners/sockperf.js';
import { SERVICE_PORT } from '../lab/ports.js';
import type { RunContext } from './execute.js';

/**
 * The benchmark servers of one placement. Each test says which servers it needs; before it runs,
 * servers it does not need are stopped and missing ones started, so tools take turns on the
 * service port.
 * Only qperf's TCP data connection (SERVICE_PORT + 1) and sockperf over TCP (SERVICE_PORT + 2) use
 * other ports; docker-bridge publishes all three.
 */

export interface ServerNeed {
  tool: 'iperf3' | 'qperf' | 'sockperf';
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
export function serverNeeds(t: Pick<TestRecord, 'kind' | 'protocol' | 'underLoad'>, cpus: { server?: string; loadServer?: string }): { needs: ServerNeed[]; ports: RunContext['ports'] } {
  // qperf's data socket: UDP can share the control port's number, TCP cannot.
  // sockperf over TCP keeps a port of its own: iperf3's TIME_WAIT sockets on the service port would
  // make its bind fail ("Address already in use") right after a TCP test.
  const ports = { iperf3: SERVICE_PORT, sockperf: t.protocol === 'tcp' ? SERVICE_PORT + 2 : SERVICE_PORT, qperf: SERVICE_PORT, qperfData: t.protocol === 'udp' ? SERVICE_PORT : SERVICE_PORT + 1 };
  switch (t.kind ?? 'iperf3') {
    case 'iperf3':
    case 'udp-rate-sweep':
      return { needs: [{ tool: 'iperf3', protocol: 'tcp', port: ports.iperf3, cpus: cpus.server }], ports };
    case 'qperf':
      return { needs: [{ tool: 'qperf', protocol: 'tcp', port: ports.qperf, cpus: cpus.server }], ports };
    case 'sockperf': {
      if (!t.underLoad) return { needs: [{ tool: 'sockperf', protocol: t.protocol, port: ports.sockperf, cpus: cpus.server }], ports };
      // iperf3 holds TCP on the service port; a UDP probe can share the number, TCP has its own.
      return {
        needs: [
          { tool: 'iperf3', protocol: 'tcp', port: ports.iperf3, cpus: cpus.loadServer },
          { tool: 'sockperf', protocol: t.protocol, port: ports.sockperf, cpus: cpus.server },
        ],
        ports,
      };
    }
  }
}

export class ServerPool {
  private running: Running[] = [];

  constructor(
    private readonly state: LabState,
    private readonly ns: string,
    /** The server workload's own address (sockperf binds it). */
    private readonly ip: string,
  ) {}

  /** Stops what `needs` does not list, starts what is missing; returns the pids by tool. */
  async ensure(needs: ServerNeed[]): Promise<Map<ServerNeed['tool'], number>> {
    const wanted = new Set(needs.map(key));
    for (const r of [...this.running]) if (!wanted.has(r.key)) await this.stopOne(r);
    for (const need of needs) {
      if (this.running.some((r) => r.key === key(need))) continue;
      const onSpawn = (pid: number) => trackProcess(this.state, pid, this.ns, `${need.tool}-server`, [need.tool, 'server', String(need.port)]);
      const common = { ns: this.ns, port: need.port, cpus: need.cpus, onSpawn };
      const started = await critical(
        need.tool === 'iperf3' ? iperf3Server(common) : need.tool === 'qperf' ? qperfServer(common) : sockperfServer({ ...common, ip: this.ip, protocol: need.protocol }),
      );
      this.running.push({ key: key(need), need, pid: started.pid, stop: started.stop });
    }
    return new Map(this.running.map((r) => [r.need.tool, r.pid]));
  }

  /** The CPU list the kernel reports for a running server of this tool (Cpus_allowed_list). */
  affinityOf(tool: ServerNeed['tool']): string | undefined {
    const r = this.running.find((x) => x.need.tool === tool);
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
