import type { Lab } from '../lab/types.js';
import { allContainers } from '../lab/resolve.js';
import { addr, bridge, linkSet, qdisc, sysctl, up, veth } from './steps.js';
import type { Stage, Step } from './types.js';

/**
 * What every scheme shares: the namespaces, and an underlay joining the hosts — a veth pair for
 * two hosts, a switch namespace holding a bridge for more — with addresses, MTU, forwarding and
 * an optional link rate. With a link rate the hosts always meet at a switch, and the rate is a tbf
 * on the switch's port toward each host: every path out of a host (the kernel's, a userspace
 * datapath's packet socket) reaches the other hosts through it, and nothing a host runs touches it.
 */

export function labNamespaces(lab: Lab, withContainers: boolean): string[] {
  const names = lab.hosts.map((h) => h.ns);
  if (lab.switch) names.push(lab.switch.ns);
  if (withContainers) names.push(...allContainers(lab).map((c) => c.ns));
  return names;
}

/** tbf burst: 4 ms worth of the rate, at least 15 kB, so one timer tick never starves a fast link. */
export function tbfBurst(rate: string): string {
  const m = /^(\d+(?:\.\d+)?)(|k|m|g|t)bit$/.exec(rate);
  const mult = { '': 1, k: 1e3, m: 1e6, g: 1e9, t: 1e12 }[m ? m[2] : ''] ?? 1;
  const bytesPerSec = ((m ? Number(m[1]) : 1e9) * mult) / 8;
  return String(Math.max(15000, Math.ceil(bytesPerSec * 0.004)));
}

/**
 * `loopback` lists the namespaces whose lo the base brings up: hosts, the switch, and containers
 * attached through CNI (the runtime's job before it calls plugins). A scheme that configures its
 * containers directly brings lo up in the same batch, saving one process per container.
 */
export function baseStages(lab: Lab, loopback: string[]): Stage[] {
  const links: Step[] = [];
  const [h1, h2] = lab.hosts;
  if (!lab.switch) {
    links.push(veth(h1.ns, h1.underlayIf, { name: h2.underlayIf, ns: h2.ns }));
  } else {
    const sw = lab.switch;
    links.push(bridge(sw.ns, sw.bridge));
    links.push(linkSet(sw.ns, sw.bridge, { mtu: lab.underlay.mtu, up: true }));
    for (const h of lab.hosts) {
      const port = `p${h.index}`;
      links.push(veth(sw.ns, port, { name: h.underlayIf, ns: h.ns }, lab.underlay.mtu));
      links.push(linkSet(sw.ns, port, { master: sw.bridge, up: true }));
      // The link rate is enforced on the switch's port toward each host, where nothing a host
      // runs can bypass it (OVS's userspace datapath sent its tunnel around a tbf on the host's own
      // port, and ovs-overlay measured 1.37 Gbit/s on a 1 Gbit/s link).
      if (lab.underlay.rate)
        links.push(qdisc(sw.ns, port, { type: 'tbf', rate: lab.underlay.rate, burst: tbfBurst(lab.underlay.rate), latency: '50ms' }));
    }
  }
  const hostSteps: Step[] = [];
  for (const h of lab.hosts) {
    hostSteps.push(linkSet(h.ns, h.underlayIf, { mtu: lab.underlay.mtu, up: true }));
    hostSteps.push(addr(h.ns, `${h.underlayIp}/${lab.underlay.prefix}`, h.underlayIf));
    hostSteps.push(sysctl(h.ns, 'net.ipv4.ip_forward', 1));
  }
  return [
    { title: 'loopback up', steps: loopback.map((ns) => up(ns, 'lo')) },
    {
      title: lab.switch ? `underlay: switch ${lab.switch.ns} with one port per host` : 'underlay: one veth pair between the two hosts',
      steps: links,
    },
    { title: 'underlay addresses, MTU and forwarding on every host', steps: hostSteps },
  ];
}
