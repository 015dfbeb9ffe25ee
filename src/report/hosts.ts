import type { HostDetails } from '../result/hosts.js';
import type { ResultFile } from '../result/types.js';
import { esc } from './escape.js';

/** `cnlab run -i`: the hosts the lab ran on (result.hosts), one line each, for every report. */

const OFFLOAD_SHORT: Record<string, string> = {
  'tx-checksumming': 'tx-csum',
  'scatter-gather': 'SG',
  'tcp-segmentation-offload': 'TSO',
  'generic-segmentation-offload': 'GSO',
  'generic-receive-offload': 'GRO',
  'large-receive-offload': 'LRO',
  'tx-udp_tnl-segmentation': 'UDP-tunnel-TSO',
  'tx-udp_tnl-csum-segmentation': 'UDP-tunnel-csum-TSO',
  'rx-udp-gro-forwarding': 'UDP-GRO-fwd',
};

function nicText(h: HostDetails): string {
  const n = h.nic;
  const drv = n.driver ? `${n.driver}${n.driverVersion ? ` ${n.driverVersion}` : ''}` : 'driver unknown';
  const speed = n.speedMbps ? (n.speedMbps >= 1000 ? `${n.speedMbps / 1000} Gbit/s` : `${n.speedMbps} Mbit/s`) : 'speed unknown';
  return `${n.name} (${drv}, ${speed}, ${n.mode})`;
}

function offloadText(h: HostDetails): string {
  const e = Object.entries(h.nic.offloads);
  return e.length ? e.map(([k, v]) => `${OFFLOAD_SHORT[k] ?? k} ${v}`).join(', ') : 'offloads unknown';
}

/** Pure: one line per host, e.g. "host a (h1): kernel 6.1.0 x86_64, 8 × Xeon…; nic eth1 (ixgbe, 10 Gbit/s, macvlan): TSO on, …". */
export function hostLines(r: ResultFile): string[] {
  return (r.hosts?.hosts ?? []).map(
    (h) =>
      `host ${h.name} (${h.node}, ${h.ssh}): kernel ${h.kernel} ${h.arch}, ${h.cpu.count} × ${h.cpu.model}; nic ${nicText(h)}: ${offloadText(h)}`,
  );
}

/** The hosts as an HTML table (empty when the run was on one box). */
export function hostsHtml(r: ResultFile): string {
  const s = r.hosts;
  if (!s) return '';
  const rows = s.hosts
    .map(
      (h) =>
        `<tr><td>${esc(h.name)}</td><td>${esc(h.node)}</td><td class="mono">${esc(h.ssh)}</td><td class="mono">${esc(h.kernel)} ${esc(h.arch)}</td><td>${esc(h.cpu.count)} × ${esc(h.cpu.model)}</td><td class="mono">${esc(nicText(h))}</td><td>${esc(offloadText(h))}</td></tr>`,
    )
    .join('');
  return `<h3>Hosts (${esc(s.inventory)})</h3><div class="tablewrap"><table><thead><tr><th>host</th><th>lab node</th><th>ssh</th><th>kernel</th><th>CPU</th><th>lab NIC</th><th>offloads</th></tr></thead><tbody>${rows}</tbody></table></div><p class="sub">CPU figures on these hosts: ${esc(s.cpuMethod)}</p>`;
}
