import { SERVICE_PORT } from '../../lab/ports.js';
import type { Evidence, Verdict } from '../../result/verify.js';
import { crossPair, PYTHON, RECEIVER, SENDER } from '../traffic.js';
import type { Probe } from '../types.js';

export interface ProtocolsData {
  /** ping's exit code. */
  icmp: number | null;
  /** The receiver's output: one line per kind that arrived ("tcp", "udp", "raw253", "ether"). */
  received: string;
  /** Whether the kernel offers SCTP sockets (/proc/net/protocols). */
  sctpInKernel: boolean;
  /** The receiving workload's global IPv6 addresses. */
  ipv6: string[];
}

const KINDS = ['tcp', 'udp', 'raw253', 'ether'] as const;
const LABEL: Record<string, string> = { icmp: 'ICMP', tcp: 'TCP', udp: 'UDP', raw253: 'IP proto 253', ether: 'Ethernet 0x88B5' };

/** Probe 10: which protocols cross hosts container to container. */
export const protocols: Probe<ProtocolsData> = {
  aspect: 'protocols',
  name: 'protocols',
  title: 'Protocols across hosts',
  needs: () => ({ hosts: 2, containersPerHost: 1 }),
  requires: [PYTHON],
  skip: (s) => (s.containers ? null : 'no containers (host baseline)'),
  async run(ctx) {
    const { a, b, target } = crossPair(ctx);
    const ping = await ctx.exec(a.node, 'ping', ['-n', '-c', '2', '-W', '1', target]);
    const rx = await ctx.background(b.node, 'python3', ['-u', '-c', RECEIVER, b.ip, b.ifName, String(SERVICE_PORT), ctx.marker, '3']);
    await ctx.exec(a.node, 'python3', ['-c', SENDER, target, a.ifName, String(SERVICE_PORT), ctx.marker]);
    await new Promise((r) => setTimeout(r, 500));
    const received = (await rx.stop()).stdout;
    const protos = await ctx.exec(a.node, 'cat', ['/proc/net/protocols']);
    const v6 = await ctx.exec(b.node, 'ip', ['-6', '-j', 'addr', 'show', 'dev', b.ifName, 'scope', 'global']);
    let ipv6: string[] = [];
    try {
      ipv6 = (JSON.parse(v6.stdout || '[]') as Array<{ addr_info?: Array<{ local: string }> }>).flatMap((i) =>
        (i.addr_info ?? []).map((x) => x.local),
      );
    } catch {
      ipv6 = [];
    }
    return { icmp: ping.code, received, sctpInKernel: /^SCTP\b/m.test(protos.stdout), ipv6 };
  },
  judge(e: Evidence<ProtocolsData>): Verdict {
    const got = new Set(e.data.received.split('\n').map((l) => l.trim()));
    const ok: Record<string, boolean> = { icmp: e.data.icmp === 0 };
    for (const k of KINDS) ok[k] = got.has(k);
    const crossed = Object.keys(ok).filter((k) => ok[k]);
    const blocked = Object.keys(ok).filter((k) => !ok[k]);
    const notes = [
      e.data.sctpInKernel ? '' : 'SCTP not tried: the kernel has no SCTP',
      e.data.ipv6.length ? '' : 'IPv6 not tried: the scheme gives containers no IPv6 address',
    ].filter(Boolean);
    const ipAll = ok.icmp && ok.tcp && ok.udp && ok.raw253;
    const key = ipAll && ok.ether ? 'all' : ipAll ? 'all-ip' : ok.icmp && ok.tcp && ok.udp ? 'ip-only' : 'partial';
    const text = `${crossed.map((k) => LABEL[k]).join(', ') || 'nothing'} cross${blocked.length ? `; not: ${blocked.map((k) => LABEL[k]).join(', ')}` : ''}`;
    return { mark: 'value', key, text, detail: notes.join('; ') || undefined };
  },
};
